// One stack's life under the real engine, the way Pulumi's own ProgramTest runs a program and
// further: preview with the policy pack, up, the cluster and the outputs against the offline plan,
// no changes on a second preview and after a refresh, day two (a rotation, an image change, the
// charts from other sources), destroy, and up again onto what destroy retained.
import * as fs from "fs";
import * as path from "path";
import { readContract } from "../../components/contract";
import { isOnMirror, isSecretPointer, isUnusedCredential } from "../../policies/lib/rules";
import { EngineResource } from "../../offline/crossguard/engine-view";
import { SECRET_MASK } from "../../offline/engine";
import { clusterObjectsOfPlan, Plan, planStack } from "../../offline/plan";
import { engineResources, runStack } from "../../offline/run-stack";
import { loadProject } from "../../offline/stack-config";
import { CheckFailed } from "../e2e/report";
import { beyondTlsAdvisories } from "../helpers/policy";
import { EventLog, readEventLog } from "./events";
import type { Harness } from "./harness";
import { Kube, KubeObject } from "./kube";
import type { Command } from "./pulumi";

export const ORG = "organization";
export const PROJECT = "lakehouse-platform";

export function fqn(stack: string): string {
    return `${ORG}/${PROJECT}/${stack}`;
}

/** `kubernetes:apps/v1:StatefulSet` → `StatefulSet`. */
export function kindOfType(type: string): string {
    return type.split(":").pop() ?? type;
}

// ---- running commands with the event log ----

let logCount = 0;

/** A CLI command with an event log of its own; the step is recorded in the report. */
export async function engine(
    h: Harness,
    stack: string,
    step: string,
    args: string[],
    opts: { timeoutMs?: number; allowFailure?: boolean } = {},
): Promise<{ c: Command; log: EventLog }> {
    const file = path.join(
        h.work,
        "events",
        `${String(++logCount).padStart(3, "0")}-${stack}-${step.replace(/\W+/g, "-")}.jsonl`,
    );
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const c = await h.cli.run([...args, "--stack", fqn(stack), "--event-log", file], {
        timeoutMs: opts.timeoutMs,
        log: path.join(h.work, "logs", "pulumi.log"),
    });
    const log = readEventLog(file);
    h.report.step(stack, step, c, log);
    if (c.code !== 0 && !opts.allowFailure)
        throw new CheckFailed(
            `pulumi ${args.join(" ")} exited ${c.code}:\n${[...log.errors, (c.stdout + c.stderr).trim().split("\n").slice(-30).join("\n")].join("\n")}`,
        );
    return { c, log };
}

/** What an update did, as counts: "78 create", "3 replace, 4 update". */
export function summary(log: EventLog): string {
    return Object.entries(log.changes)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ");
}

// ---- the stack ----

/** `pulumi stack init` and the settings a user of this cluster gives (`pulumi config set`). */
export async function initStack(h: Harness, stack: string, settings: Record<string, string>): Promise<void> {
    await h.cli.must(["stack", "init", fqn(stack)]);
    await setConfig(h, stack, settings);
}

export async function setConfig(
    h: Harness,
    stack: string,
    settings: Record<string, string | undefined>,
): Promise<void> {
    for (const [key, value] of Object.entries(settings)) {
        if (value === undefined) await h.cli.must(["config", "rm", key, "--stack", fqn(stack)]);
        else if (key.includes("[")) await h.cli.must(["config", "set", "--path", key, value, "--stack", fqn(stack)]);
        else await h.cli.must(["config", "set", key, value, "--stack", fqn(stack)]);
    }
}

/** The offline plan of the stack as its (copied) stack file now stands: what `npm run plan` says. */
export async function offlinePlan(h: Harness, stack: string): Promise<Plan> {
    return planStack(stack, { project: loadProject(h.project) });
}

/** The resources the offline engine registers for the stack as it now stands, secrets included (as the engine sees them). */
export async function offlineResources(h: Harness, stack: string): Promise<EngineResource[]> {
    const run = await runStack(stack, { project: loadProject(h.project) });
    return engineResources(run);
}

/** URNs whose inputs differ between two offline runs, and those added or removed: what an `up` should change. */
export function offlineChanges(before: EngineResource[], after: EngineResource[]): Map<string, string> {
    const out = new Map<string, string>();
    const old = new Map(before.filter((r) => r.registered).map((r) => [r.urn, r]));
    for (const r of after.filter((x) => x.registered)) {
        const o = old.get(r.urn);
        if (!o) out.set(r.urn, "create");
        else if (JSON.stringify(o.inputs) !== JSON.stringify(r.inputs)) out.set(r.urn, "update");
        old.delete(r.urn);
    }
    for (const urn of old.keys()) out.set(urn, "delete");
    // Components and the stack have no inputs of their own to change.
    for (const [urn] of out) if (urn.includes("::pulumi:pulumi:Stack::")) out.delete(urn);
    return out;
}

// ---- checks against the cluster and the plan ----

/** Every Kubernetes object of the offline plan, as the API server holds it (undefined when missing). */
export async function planObjectsInCluster(
    kube: Kube,
    plan: Plan,
): Promise<{ kind: string; id: string; obj?: KubeObject }[]> {
    const out: { kind: string; id: string; obj?: KubeObject }[] = [];
    for (const o of clusterObjectsOfPlan(plan)) {
        const kind = kindOfType(o.type);
        const [ns, name] = o.id.includes("/") ? o.id.split("/") : [undefined, o.id];
        out.push({ kind, id: o.id, obj: await kube.get(kind, name, ns) });
    }
    return out;
}

export async function checkObjects(h: Harness, stack: string, plan: Plan): Promise<void> {
    await h.report.check(`${stack}: every object of the offline plan exists in the API server`, async () => {
        const found = await planObjectsInCluster(h.kube, plan);
        const missing = found.filter((f) => !f.obj).map((f) => `${f.kind} ${f.id}`);
        if (missing.length > 0) throw new CheckFailed(`missing: ${missing.join(", ")}`);
        return `${found.length} objects (${[...new Set(found.map((f) => f.kind))].length} kinds)`;
    });
}

/** Every value of a Secret in the cluster, decoded: what must never appear in clear anywhere else. */
export async function secretValues(kube: Kube, namespaces: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const ns of namespaces) {
        for (const s of await kube.list("Secret", ns)) {
            if ((s.type as string) === "helm.sh/release.v1") continue;
            for (const [k, v] of Object.entries((s.data as Record<string, string>) ?? {})) {
                const text = Buffer.from(v, "base64").toString("utf8");
                // Short values (a role name, "postgres") are not secrets of their own, nor is the
                // text a chart is given where the credential lives or why there is none.
                if (text.length >= 16 && !isSecretPointer(text) && !isUnusedCredential(text))
                    out.set(`${ns}/${s.metadata.name}:${k}`, text);
            }
        }
    }
    return out;
}

export async function checkOutputs(h: Harness, stack: string, plan: Plan, namespaces: string[]): Promise<void> {
    await h.report.check(`${stack}: pulumi stack output --json equals the offline plan's outputs`, async () => {
        const c = await h.cli.must(["stack", "output", "--json", "--stack", fqn(stack)]);
        const got = JSON.parse(c.stdout) as Record<string, unknown>;
        const want = JSON.parse(JSON.stringify(plan.outputs)) as Record<string, unknown>;
        const a = JSON.stringify(sortKeys(got));
        const b = JSON.stringify(sortKeys(want));
        if (a !== b) throw new CheckFailed(`outputs differ:\n  CLI:  ${a.slice(0, 1500)}\n  plan: ${b.slice(0, 1500)}`);
        readContract(fqn(stack), got);
        return `${Object.keys(got).length} outputs, byte-equal to the plan's; the contract reader accepts them (docs/outputs.md)`;
    });
    await h.report.check(`${stack}: no secret in clear in the outputs or the state`, async () => {
        const secrets = await secretValues(h.kube, namespaces);
        const outputs = (await h.cli.must(["stack", "output", "--json", "--stack", fqn(stack)])).stdout;
        const state = (await h.cli.must(["stack", "export", "--stack", fqn(stack)])).stdout;
        const leaks = [...secrets].filter(([, v]) => outputs.includes(v) || state.includes(v)).map(([k]) => k);
        if (leaks.length > 0) throw new CheckFailed(`in clear: ${leaks.join(", ")}`);
        return `${secrets.size} Secret values in the cluster; none in \`pulumi stack output\` or \`pulumi stack export\``;
    });
}

function sortKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object")
        return Object.fromEntries(
            Object.keys(v)
                .sort()
                .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
        );
    return v;
}

/** Passwords charts ship as defaults (and a scanner looks for first). */
const WELL_KNOWN = [
    "airbyte123",
    "airbyte",
    "minio123",
    "minio",
    "password",
    "admin",
    "changeme",
    "postgres",
    "dagster",
    "trino",
];

/** No Secret in the namespaces holds a well-known default as a password, key or token. */
export async function checkNoDefaultCredentials(h: Harness, stack: string, namespaces: string[]): Promise<void> {
    await h.report.check(`${stack}: no Secret holds a chart's well-known default credential`, async () => {
        const found: string[] = [];
        let looked = 0;
        for (const ns of namespaces)
            for (const s of await h.kube.list("Secret", ns)) {
                if ((s.type as string) === "helm.sh/release.v1") continue;
                for (const [k, v] of Object.entries((s.data as Record<string, string>) ?? {})) {
                    if (!/password|secret|token|_key$|apikey/i.test(k)) continue;
                    looked++;
                    const text = Buffer.from(v, "base64").toString("utf8");
                    if (WELL_KNOWN.includes(text.toLowerCase())) found.push(`${ns}/${s.metadata.name}:${k}`);
                }
            }
        if (found.length > 0) throw new CheckFailed(`well-known defaults in ${found.join(", ")}`);
        return `${looked} password, secret and token keys in every Secret (the charts' own included), none a default`;
    });
}

/** The URNs of the stack's state (`pulumi stack export`) are the offline plan's resources. */
export async function checkStateMatchesPlan(h: Harness, stack: string, plan: Plan): Promise<void> {
    await h.report.check(`${stack}: the state's resources are the offline plan's (same URNs)`, async () => {
        const exported = JSON.parse((await h.cli.must(["stack", "export", "--stack", fqn(stack)])).stdout) as {
            deployment: { resources: { urn: string }[] };
        };
        const state = new Set(exported.deployment.resources.map((r) => r.urn));
        // Reads (StackReferences, `.get`) are in both, the state keeps them as external resources.
        const planned = new Set(plan.resources.map((r) => r.urn));
        const onlyState = [...state].filter((u) => !planned.has(u));
        const onlyPlan = [...planned].filter((u) => !state.has(u));
        if (onlyState.length > 0 || onlyPlan.length > 0)
            throw new CheckFailed(
                `only in the state: ${onlyState.join(", ") || "none"}\n  only in the plan: ${onlyPlan.join(", ") || "none"}`,
            );
        return `${state.size} resources, the same URNs`;
    });
}

/**
 * The pack judges a stack from the stack itself (issue: a per-stack pack file went stale when a
 * team moved a namespace): a copy of the stack whose file moves Trino to another namespace is
 * judged by the real preview with no per-stack file, and the offline plan of the same stack file
 * reports the same (policy, level, resource) verdicts: none with this cluster's pack tuning; and
 * without it, where the stack names a host it does not declare (a real node's Maven mirror), the
 * same violations under both. The copy enforces NetworkPolicies: that is where the pack's verdict
 * depends on the namespaces it reads (network-policy-coverage), so a pack that misread them would
 * disagree here; with them off, as in dev's file, a pack that ignored the stack's namespaces was
 * seen passing this check.
 */
export async function checkVerdictsAgree(h: Harness, stack: string, packConfig?: string): Promise<void> {
    const moved = `${stack}-moved`;
    await h.report.check(
        `${stack}: a copy whose stack file moves Trino (NetworkPolicies on): the pack under the CLI (no per-stack file) and the offline plan give the same verdicts`,
        async () => {
            const trino = `${(await offlinePlan(h, stack)).config.namespaces.trino}-moved`;
            await h.cli.must(["stack", "init", fqn(moved), "--copy-config-from", fqn(stack)]);
            try {
                await setConfig(h, moved, { trinoNamespace: trino, networkPolicies: "true" });
                const said: string[] = [];
                for (const tuning of packConfig ? [packConfig, undefined] : [undefined]) {
                    const { c, log } = await engine(
                        h,
                        moved,
                        `preview with the pack${tuning ? " and this cluster's tuning" : ""}`,
                        ["preview", "--policy-pack", "policies", ...(tuning ? ["--policy-pack-config", tuning] : [])],
                        { allowFailure: true },
                    );
                    const offline = await planStack(moved, {
                        project: loadProject(h.project),
                        ...(tuning
                            ? { policyConfig: { doc: JSON.parse(fs.readFileSync(tuning, "utf8")), source: tuning } }
                            : {}),
                    });
                    if (offline.config.namespaces.trino !== trino)
                        throw new CheckFailed(`the offline plan put Trino in ${offline.config.namespaces.trino}`);
                    const key = (v: { policy: string; urn: string; enforcementLevel: string }) =>
                        `${v.enforcementLevel} ${v.policy} ${v.urn}`;
                    const real = new Set(log.violations.map(key));
                    const model = new Set(offline.policy.violations.map(key));
                    const onlyReal = [...real].filter((k) => !model.has(k));
                    const onlyModel = [...model].filter((k) => !real.has(k));
                    if (onlyReal.length > 0 || onlyModel.length > 0)
                        throw new CheckFailed(
                            `${tuning ? "with" : "without"} the tuning: only the CLI: ${onlyReal.join("; ") || "none"}\n  only offline: ${onlyModel.join("; ") || "none"}`,
                        );
                    // Tuned, the moved stack is clean (but for the servers it leaves without TLS);
                    // untuned, the undeclared host is reported.
                    const want = tuning !== undefined || h.allowedHosts().length === 0 ? 0 : "some";
                    if ((want === 0) !== (beyondTlsAdvisories(log.violations).length === 0))
                        throw new CheckFailed(
                            `${tuning ? "with" : "without"} the tuning: ${real.size} violations under both (expected ${want}): ${log.violations.map((v) => `${v.policy}: ${v.message}`).join("; ")}`,
                        );
                    said.push(
                        `${tuning ? "tuned" : "untuned"}: ${real.size} violations${real.size ? ` (${[...new Set(log.violations.map((v) => v.policy))].join(", ")})` : ""} under both, the CLI exited ${c.code}`,
                    );
                }
                return `Trino in ${trino}; ${said.join("; ")}`;
            } finally {
                await h.cli.run(["stack", "rm", "--yes", "--force", fqn(moved)]);
            }
        },
    );
}

/** `pulumi preview --expect-no-changes`: exit 0 and nothing to do. */
export async function expectNoChanges(h: Harness, stack: string, when: string): Promise<void> {
    await h.report.check(`${stack}: pulumi preview --expect-no-changes ${when}`, async () => {
        const { log } = await engine(h, stack, `preview --expect-no-changes ${when}`, [
            "preview",
            "--expect-no-changes",
        ]);
        return summary(log) || "no changes";
    });
}

// ---- the steps ----

/**
 * Step 1: the policy pack judges the real preview: exit 0, nothing mandatory, nothing advisory but
 * servers-use-tls's for the servers the stack's settings leave without TLS (which ones, the unit
 * tests check; that the CLI's verdicts are the offline plan's, checkVerdictsAgree).
 * `packConfig` is a cluster's tuning (allowed hosts), never the stack's settings: the pack reads
 * those from the stack.
 */
export async function previewWithPack(h: Harness, stack: string, packConfig?: string): Promise<void> {
    const tuning = packConfig ? ["--policy-pack-config", packConfig] : [];
    await h.report.check(
        `${stack}: pulumi preview --policy-pack policies${packConfig ? ` --policy-pack-config ${packConfig}` : ""}`,
        async () => {
            const { log } = await engine(h, stack, "preview with the policy pack", [
                "preview",
                "--policy-pack",
                "policies",
                ...tuning,
            ]);
            const beyond = beyondTlsAdvisories(log.violations);
            if (beyond.length > 0)
                throw new CheckFailed(
                    `${beyond.length} violations:\n${beyond.map((v) => `  ${v.enforcementLevel} ${v.policy}: ${v.message}`).join("\n")}`,
                );
            const tls = log.violations.length;
            return `${summary(log)}; no violation${tls ? `, ${tls} servers-use-tls advisories (servers without TLS)` : ""}`;
        },
    );
}

/** Step 2: `pulumi up`; then the cluster and the outputs against the offline plan. */
export async function up(h: Harness, stack: string, step = "up"): Promise<EventLog> {
    const { log } = await engine(h, stack, step, ["up", "--yes", "--skip-preview"]);
    return log;
}

/** Images of every pod template and pod spec in the namespaces, with where they are. */
export async function clusterImages(kube: Kube, namespaces: string[]): Promise<{ where: string; image: string }[]> {
    const out: { where: string; image: string }[] = [];
    const specOf: Record<string, (o: KubeObject) => unknown> = {
        Deployment: (o) => (o.spec as { template: { spec: unknown } }).template.spec,
        StatefulSet: (o) => (o.spec as { template: { spec: unknown } }).template.spec,
        Job: (o) => (o.spec as { template: { spec: unknown } }).template.spec,
        CronJob: (o) =>
            (o.spec as { jobTemplate: { spec: { template: { spec: unknown } } } }).jobTemplate.spec.template.spec,
        Pod: (o) => o.spec,
    };
    for (const ns of namespaces) {
        for (const [kind, spec] of Object.entries(specOf)) {
            for (const o of await kube.list(kind, ns)) {
                // A controller's pods are its template's (checked there); an old one may linger while it rolls.
                if (kind === "Pod" && (o.metadata.ownerReferences?.length || o.metadata.deletionTimestamp)) continue;
                const s = spec(o) as { containers?: { image: string }[]; initContainers?: { image: string }[] };
                for (const c of [...(s.initContainers ?? []), ...(s.containers ?? [])])
                    out.push({ where: `${kind} ${ns}/${o.metadata.name}`, image: c.image });
            }
        }
        // Images the workloads launch later (Airbyte's connectors, sidecars, orchestrators) are named in ConfigMaps.
        for (const cm of await kube.list("ConfigMap", ns)) {
            for (const [k, v] of Object.entries((cm.data as Record<string, string>) ?? {})) {
                if (/(^|_)IMAGE$/.test(k) && v.trim() !== "")
                    out.push({ where: `ConfigMap ${ns}/${cm.metadata.name}: ${k}`, image: v.trim() });
                if (/IMAGE_REGISTRY$/.test(k))
                    out.push({ where: `ConfigMap ${ns}/${cm.metadata.name}: ${k}`, image: v.trim() });
            }
        }
    }
    return out;
}

/** Every image the charts and workloads really run or name is one the offline plan lists (its Images). */
export async function checkImagesPlanned(h: Harness, stack: string, plan: Plan, namespaces: string[]): Promise<void> {
    await h.report.check(
        `${stack}: every image the cluster runs or names is in the offline plan's Images`,
        async () => {
            const found = await clusterImages(h.kube, namespaces);
            // A registry the workloads prefix to images they launch (Airbyte's connectors) is planned as `<registry>/airbyte/<connector>`.
            const registries = found.filter((i) => /IMAGE_REGISTRY$/.test(i.where)).map((i) => i.image);
            const real = new Set(found.filter((i) => !/IMAGE_REGISTRY$/.test(i.where)).map((i) => i.image));
            const planned = new Set(plan.images.map((i) => i.image));
            const unplanned = [...real].filter((i) => !planned.has(i));
            for (const r of registries)
                if (![...planned].some((p) => p.startsWith(`${r}/airbyte/<connector>`)))
                    unplanned.push(`${r}/<connector> (a registry)`);
            if (unplanned.length > 0) throw new CheckFailed(`not in the plan: ${unplanned.join(", ")}`);
            const unseen = [...planned].filter((i) => !real.has(i) && !i.includes("<"));
            return `${real.size} distinct images in the cluster, all planned${unseen.length ? `; planned, in no live object now: ${unseen.join(", ")}` : ""}`;
        },
    );
}

/** No image any workload of the namespaces runs (or launches) comes from outside the mirror. */
export async function checkImagesOnMirror(
    h: Harness,
    stack: string,
    mirror: string,
    namespaces: string[],
): Promise<void> {
    await h.report.check(`${stack}: every image the platform runs or launches is on the mirror ${mirror}`, async () => {
        const images = await clusterImages(h.kube, namespaces);
        const outside = images.filter((i) => !(isOnMirror(i.image, mirror) || i.image.replace(/\/+$/, "") === mirror));
        if (outside.length > 0)
            throw new CheckFailed(`off the mirror:\n${outside.map((o) => `  ${o.where}: ${o.image}`).join("\n")}`);
        const distinct = new Set(images.map((i) => i.image));
        return `${images.length} image references (${distinct.size} distinct), all under ${mirror}/`;
    });
}

export { SECRET_MASK };
