// The lifecycle of a whole-platform stack (dev, staging) under the real engine.
import * as fs from "fs";
import * as path from "path";
import { CheckFailed } from "../e2e/report";
import type { Harness } from "./harness";
import { checkCredentials, credentialSnapshot, pvcUids } from "./integrity";
import {
    checkImagesOnMirror,
    checkImagesPlanned,
    checkNoDefaultCredentials,
    checkObjects,
    checkOutputs,
    checkStateMatchesPlan,
    checkVerdictsAgree,
    engine,
    expectNoChanges,
    fqn,
    initStack,
    offlineChanges,
    offlinePlan,
    offlineResources,
    previewWithPack,
    setConfig,
    summary,
    up,
} from "./lifecycle";
import { changed } from "./events";
import { UpdateWatch } from "./watch";
import { retainedObjects } from "./retained";
import { checkCaptured } from "./captured";
import { realNodeChecks } from "./real-checks";
import { watchCertificateRotation } from "./cert-rotation";
import { watchLoginRotation } from "./login-rotation";
import { REGISTRY_ADDRESS } from "../node";
import { POLICIES } from "../../policies/policies";

/** A registry mirror that exists nowhere: kwok pulls nothing, so every reference can be checked. */
export const MIRROR = "mirror.lakehouse.test:5000";

export function namespacesOf(plan: { config: { namespaces: Record<string, string> } }): string[] {
    return Object.values(plan.config.namespaces);
}

/** A change of the stack's config, applied by `pulumi up`, checked against what the offline plan says changes. */
async function dayTwo(
    h: Harness,
    stack: string,
    what: string,
    settings: Record<string, string | undefined>,
    namespaces: string[],
): Promise<UpdateWatch> {
    const before = await offlineResources(h, stack);
    await setConfig(h, stack, settings);
    const after = await offlineResources(h, stack);
    const expected = offlineChanges(before, after);
    const watch = new UpdateWatch(h.kube, new Set(namespaces));
    await watch.start();
    let log;
    try {
        log = await up(h, stack, `up: ${what}`);
    } finally {
        watch.stop();
    }
    await h.report.check(`${stack}: ${what}: the engine changes what the offline plan says it changes`, () => {
        const got = changed(log);
        // Components register no inputs; the engine reports them as `same`, or as updated outputs.
        const custom = (urns: Map<string, string>) =>
            [...urns.keys()].filter((u) => !/::lakehouse:|::pulumi:pulumi:Stack::/.test(u.split("::")[2] ?? "")).sort();
        const want = custom(expected);
        const have = custom(got);
        const missing = want.filter((u) => !got.has(u));
        const extra = have.filter((u) => !expected.has(u));
        if (missing.length > 0 || extra.length > 0)
            throw new CheckFailed(
                `offline says ${want.length}, the engine changed ${have.length}\n  not changed by the engine: ${missing.join(", ") || "none"}\n  changed, not in the offline plan: ${extra.join(", ") || "none"}`,
            );
        return `${want.length} resources, the same set (${[...new Set([...got.values()])].join(", ")})`;
    });
    // What the plan itself deletes (a retired key's Secret), as the watch names objects.
    const planned = new Set(
        before
            .filter((r) => expected.get(r.urn) === "delete" && /:(Secret|ConfigMap)$/.test(r.type))
            .map((r) => {
                const meta = (r.inputs.metadata ?? {}) as { name?: string; namespace?: string };
                return `${r.type.split(":").pop()} ${meta.namespace}/${meta.name}`;
            }),
    );
    await h.report.check(`${stack}: ${what}: no Secret or ConfigMap of the platform's was ever absent`, () => {
        const own = watch.gaps.filter((g) => !g.helmHook);
        const unproven = watch.problems(planned);
        if (own.length > 0 || unproven.length > 0)
            throw new CheckFailed(
                [...own.map((g) => `${g.kind} ${g.id} absent for ${g.ms} ms`), ...unproven].join("; "),
            );
        // A chart's hooks (Airbyte's env ConfigMap and Secret) are Helm's to recreate on every
        // upgrade (hook-delete-policy before-hook-creation); said, not hidden.
        const hooks = watch.gaps.filter((g) => g.helmHook).map((g) => `${g.kind} ${g.id} (${g.ms} ms)`);
        const removed = watch.removed.map((r) => r.id);
        return `watched every Secret and ConfigMap of ${namespaces.length} namespaces through the whole update, no event missed; none of the platform's deleted and created again${hooks.length ? `; recreated by Helm as the chart's hooks: ${hooks.join(", ")}` : ""}${removed.length ? `; removed for good, as the plan says: ${removed.join(", ")}` : ""}`;
    });
    return watch;
}

/**
 * The pack's configuration for this cluster: none (the pack reads the stack's settings from the
 * stack itself), and on a real node the in-cluster hosts the stack names but does not declare
 * (its Maven mirror) allowed, as a team tunes its pack.
 */
function packConfig(h: Harness): string | undefined {
    const hosts = h.allowedHosts();
    if (hosts.length === 0) return undefined;
    const doc = Object.fromEntries(
        POLICIES.filter((p) => p.configSchema && "allowedHosts" in p.configSchema.properties).map((p) => [
            p.name,
            { allowedHosts: hosts },
        ]),
    );
    const file = path.join(h.work, "pack-config-allowed-hosts.json");
    fs.writeFileSync(file, JSON.stringify(doc, null, 2));
    return file;
}

export async function singleStack(
    h: Harness,
    stack: "dev" | "staging",
    opts: { writeDocs?: boolean } = {},
): Promise<void> {
    const repo = h.charts.url;
    const settings = h.stackSettings(stack);
    await initStack(h, stack, {
        kubeconfig: h.cluster.files.kubeconfig,
        trinoChart: repo,
        airbyteChart: repo,
        dagsterChart: repo,
        ...settings,
    });
    h.say(
        `stack ${fqn(stack)}: the shipped Pulumi.${stack}.yaml, plus its kubeconfig and the charts' repository${
            Object.keys(settings).length
                ? `, and what a user of this cluster sets: ${Object.entries(settings)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(", ")}`
                : ""
        }`,
    );

    await previewWithPack(h, stack, packConfig(h));
    const plan = await offlinePlan(h, stack);
    const namespaces = namespacesOf(plan);
    await h.report.require(`${stack}: pulumi up`, async () => {
        const log = await up(h, stack);
        return `${summary(log)} in ${log.durationSeconds ?? "?"} s`;
    });
    await h.report.check(`${stack}: the charts came from the chart repository on loopback`, () => {
        const fetched = h.charts.requests.filter((r) => r.endsWith(".tgz"));
        const names = ["trino", "airbyte", "dagster"].filter((c) => fetched.some((f) => f.includes(`/${c}-`)));
        if (names.length !== 3) throw new CheckFailed(`archives fetched: ${fetched.join(", ") || "none"}`);
        return `index.yaml read ${h.charts.requests.filter((r) => r.endsWith("index.yaml")).length} times; ${fetched.length} archive downloads (${names.join(", ")})`;
    });
    // The README's captured preview and up are dev's.
    // The README's captured preview and up are dev's as shipped; a real node's run sets more (its mirror, policies).
    if (stack === "dev" && h.node === "kwok") await checkCaptured(h, stack, opts.writeDocs ?? false);
    if (h.node === "real") await realNodeChecks(h, stack, plan, namespaces);
    await checkObjects(h, stack, plan);
    await checkStateMatchesPlan(h, stack, plan);
    await checkOutputs(h, stack, plan, namespaces);
    await checkNoDefaultCredentials(h, stack, namespaces);
    await expectNoChanges(h, stack, "after up");
    await h.report.check(`${stack}: pulumi refresh --yes`, async () => {
        const { log } = await engine(h, stack, "refresh", ["refresh", "--yes", "--skip-preview"]);
        return summary(log);
    });
    await expectNoChanges(h, stack, "after refresh");
    await checkVerdictsAgree(h, stack, packConfig(h));

    // Day two.
    const credentials = await credentialSnapshot(h.kube, namespaces);
    const rotation = await dayTwo(
        h,
        stack,
        "rotation of trino's Garage key",
        { "credentialGenerations[0]": "garage-key/trino=2" },
        namespaces,
    );
    await h.report.check(`${stack}: rotation: the wiring checks ran again`, () => {
        const checks = [...rotation.jobsCompleted].filter((j) => j.includes("/lakehouse-wiring-check@"));
        if (checks.length === 0) throw new CheckFailed("no wiring-check Job completed during the update");
        return `${checks.length} wiring-check Jobs completed: ${checks.map((c) => c.split("@")[0]).join(", ")}`;
    });
    await checkCredentials(h, stack, namespaces, credentials, { rotated: ["trino"], when: "after the rotation" });
    // Where both Trino and PostgreSQL serve TLS on the node: their certificates renewed by
    // generation, and dbt's Trino login rotated in the same update, with queries running
    // throughout (cert-rotation.ts, login-rotation.ts).
    if (h.node === "real" && (await h.kube.get("ConfigMap", "postgres-hba", plan.config.namespaces.database))) {
        const c = plan.config.namespaces;
        const what = "renewal of Trino's and PostgreSQL's certificates and rotation of dbt's Trino login";
        const watch = await watchCertificateRotation(h, c, (plan.config as { clusterDomain: string }).clusterDomain);
        const login = await watchLoginRotation(h, c, "dbt");
        let update: UpdateWatch | undefined;
        try {
            update = await dayTwo(
                h,
                stack,
                what,
                {
                    "credentialGenerations[1]": "tls/trino=2",
                    "credentialGenerations[2]": "tls/postgres=2",
                    "credentialGenerations[3]": "trino-login/dbt=2",
                },
                namespaces,
            );
        } finally {
            // Always: they stop the queries, also when the update failed.
            await h.report.check(
                `${stack}: certificate renewal: both servers present their new certificate, no query failed, nothing restarted`,
                () => watch.finish(),
            );
            await h.report.check(
                `${stack}: rotation of dbt's Trino login: no query failed with the old token or the new, no Trino pod restarted`,
                () => login.finish(),
            );
        }
        await h.report.check(`${stack}: ${what}: Dagster's wiring check ran again, with dbt's new token`, () => {
            const ran = [...(update?.jobsCompleted ?? [])].filter((j) =>
                j.startsWith(`${c.dagster}/lakehouse-wiring-check@`),
            );
            if (ran.length === 0)
                throw new CheckFailed(`no wiring-check Job completed in ${c.dagster} during the update`);
            return `${ran.length} wiring-check Job completed in ${c.dagster} (dagster → trino as dbt)`;
        });
        await h.report.check(`${stack}: after Trino restarts, dbt's old token is refused and its new one queries`, () =>
            login.oldTokenAfterRestart(),
        );
    }
    // A real node pulls every image through its registry from the start; kwok pulls nothing, so any mirror name does.
    const mirror = h.node === "real" ? REGISTRY_ADDRESS : MIRROR;
    if (h.node === "kwok")
        await dayTwo(
            h,
            stack,
            "image change: every image through the registry mirror",
            { imageRegistryMirror: MIRROR },
            namespaces,
        );
    await checkImagesOnMirror(h, stack, mirror, namespaces);
    await checkImagesPlanned(h, stack, await offlinePlan(h, stack), namespaces);
    await expectNoChanges(h, stack, "after the day-two changes");

    // The charts again, from the archives as local files: no change to the program.
    await setConfig(h, stack, {
        trinoChart: h.chartFiles.trino,
        airbyteChart: h.chartFiles.airbyte,
        dagsterChart: h.chartFiles.dagster,
    });
    await h.report.check(`${stack}: pulumi up with the charts from local archives`, async () => {
        const log = await up(h, stack, "up: charts from local archives");
        return summary(log);
    });
    await expectNoChanges(h, stack, "with the charts from local archives");

    // Destroy, and up again onto what was retained.
    const retained = retainedObjects(plan);
    const volumes = await pvcUids(h.kube, namespaces);
    const beforeDestroy = await credentialSnapshot(h.kube, namespaces);
    // On a real node: rows written through Trino before the destroy (Iceberg files in Garage, the table in the metastore's PostgreSQL).
    const trinoNamespace = plan.config.namespaces.trino;
    const rows =
        h.probe && retained.length > 0
            ? await h.probe.writeRows([trinoNamespace], `${stack} before destroy`)
            : undefined;
    await h.report.check(`${stack}: pulumi destroy`, async () => {
        const { log } = await engine(h, stack, "destroy", ["destroy", "--yes", "--skip-preview"]);
        return summary(log);
    });
    await h.report.check(
        `${stack}: after destroy, what retainStatefulResources keeps is in the cluster, and nothing else`,
        async () => {
            const left = [...(await leftInCluster(h, namespaces)), ...(await clusterScopedLeft(h, retained))];
            const want = new Set(retained.map((r) => `${r.kind} ${r.id}`));
            const unexpected = left.filter((l) => !want.has(l));
            const gone = [...want].filter((w) => !left.includes(w));
            if (unexpected.length > 0 || gone.length > 0)
                throw new CheckFailed(
                    `left but not retained: ${unexpected.join(", ") || "none"}; retained but gone: ${gone.join(", ") || "none"}`,
                );
            return want.size === 0
                ? "nothing left (the stack retains nothing)"
                : `${want.size} objects retained: ${[...want].join(", ")}`;
        },
    );
    if (retained.length === 0) return;
    await h.report.check(`${stack}: pulumi up onto the retained objects`, async () => {
        const log = await up(h, stack, "up after destroy");
        return summary(log);
    });
    await h.report.check(`${stack}: the retained volumes are reused (same PVC UIDs)`, async () => {
        const now = await pvcUids(h.kube, namespaces);
        const replaced = [...volumes].filter(([k, uid]) => now.get(k) !== uid).map(([k]) => k);
        if (replaced.length > 0 || volumes.size === 0)
            throw new CheckFailed(`replaced: ${replaced.join(", ") || "no volume seen"}`);
        return `${volumes.size} PVCs, same UIDs: ${[...volumes.keys()].join(", ")}`;
    });
    // The values are issued anew (destroy forgot them, and nothing else holds them); what data depends on is kept: see retained.ts.
    await checkCredentials(h, stack, namespaces, beforeDestroy, {
        rotated: [],
        mayChange: true,
        when: "after the redeploy",
    });
    if (h.probe && rows)
        await h.report.check(
            `${stack}: after the redeploy, PostgreSQL, the metastore and Garage serve the data written before the destroy`,
            async () => {
                const r = await h.probe!.readRows([trinoNamespace], rows);
                if (!r.ok) throw new CheckFailed(r.detail);
                return `${r.detail}: Trino's catalog reached the metastore (its PostgreSQL login) and Garage (Trino's key) as the redeploy issued them`;
            },
        );
    await expectNoChanges(h, stack, "after the redeploy");
}

/** The cluster-scoped objects the plan retains that are still there (`ClusterRole garage-crd-...`). */
async function clusterScopedLeft(h: Harness, retained: { kind: string; id: string }[]): Promise<string[]> {
    const out: string[] = [];
    for (const r of retained.filter((x) => !x.id.includes("/") && x.kind !== "Namespace"))
        if (await h.kube.get(r.kind, r.id)) out.push(`${r.kind} ${r.id}`);
    return out;
}

/** Every object left in the namespaces (and the namespaces themselves), as `<Kind> <ns>/<name>`. */
async function leftInCluster(h: Harness, namespaces: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const ns of namespaces) {
        const n = await h.kube.get("Namespace", ns);
        if (!n || n.metadata.deletionTimestamp) continue;
        out.push(`Namespace ${ns}`);
        for (const kind of [
            "StatefulSet",
            "Deployment",
            "Service",
            "ServiceAccount",
            "Secret",
            "ConfigMap",
            "Role",
            "RoleBinding",
            "Job",
            "NetworkPolicy",
        ]) {
            for (const o of await h.kube.list(kind, ns)) {
                if (o.metadata.deletionTimestamp) continue;
                // What Kubernetes puts in every namespace itself.
                if (kind === "ServiceAccount" && o.metadata.name === "default") continue;
                if (kind === "ConfigMap" && o.metadata.name === "kube-root-ca.crt") continue;
                out.push(`${kind} ${ns}/${o.metadata.name}`);
            }
        }
    }
    return out;
}
