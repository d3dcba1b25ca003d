// `verifyWiring`: one check per edge of the wiring, run by a Job in the edge's source namespace with
// that component's own credentials. The script itself runs here too, with the real curl, where no
// server is needed (a name that does not resolve); the end-to-end suite runs it against the real
// servers.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { WiringEdge } from "../components/addresses";
import { WIRING_CHECK_NAME, WIRING_CHECK_SCRIPT } from "../components/wiring-check-jobs";
import { planStack, renderPlan } from "../offline/plan";
import { engineResources, platformConfigOf } from "../offline/run-stack";
import { unwrapSecrets } from "../offline/engine";
import {
    ingressRulesAdmitting,
    egressRulesAdmitting,
    isolated,
    namespaceLabels,
    parseNetworkPolicies,
} from "../policies/lib/network";
import { judgeRun, mandatoryOf, T } from "./helpers/policy";
import { plannedStack, run, Run } from "./helpers/stack";
import { assertOneCheckPerEdge, Entry, jobs, scriptOf } from "./helpers/wiring-checks";

const P = "lakehouse-platform";
/** Every secret value the run generates (Secrets' data), to make sure none reaches a command line or script. */
function secretValues(r: Run): string[] {
    return r.ofType(T.secret).flatMap((s) => {
        const i = r.inputs(s);
        const values = [
            ...Object.values((i.stringData ?? {}) as Record<string, string>),
            ...Object.values((i.data ?? {}) as Record<string, string>).map((v) => Buffer.from(v, "base64").toString()),
        ];
        return values.filter((v) => v.length >= 16);
    });
}

describe("wiring checks (verifyWiring)", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: one check per edge, in a Job of the edge's source namespace, and nothing else`, async () => {
            const r = await run(stack);
            assertOneCheckPerEdge(r, stack);
            const cfg = platformConfigOf(stack);
            for (const job of jobs(r)) {
                const ns = r.inputs(job).metadata.namespace;
                const script = scriptOf(r, ns);
                const source = Object.entries(cfg.namespaces).find(([, n]) => n === ns)![0];
                // Only edges from this namespace: every `want` line is one of its checks.
                const ids = [...script.matchAll(/^want (\S+) /gm)].map((m) => m[1]);
                assert.deepEqual(
                    ids,
                    (r.view.wiringChecks as Entry[]).filter((c) => c.from === source).map((c) => c.id),
                );
            }
        });
    }

    it("the Job waits for its component, what its edges reach and the NetworkPolicies; pods hardened, images pinned, credentials by reference", async () => {
        const r = await run("staging");
        const secrets = secretValues(r);
        assert.ok(secrets.length > 5);
        const dagster = r.one(T.job, "wiring-checks-dagster");
        const deps = new Set(dagster.dependencies.map((u) => r.byUrn(u)?.name));
        for (const waited of [
            "dagster",
            "trino",
            "airbyte",
            "postgres",
            "garage",
            "network-policies-trino-from-dagster",
            "network-policies-dagster-baseline",
        ])
            assert.ok(deps.has(waited), `the dagster check waits for ${waited} (has ${[...deps].join(", ")})`);
        for (const job of jobs(r)) {
            const spec = r.inputs(job).spec.template.spec;
            assert.equal(spec.automountServiceAccountToken, false);
            assert.equal(spec.securityContext.runAsNonRoot, true);
            assert.equal(spec.restartPolicy, "Never");
            for (const c of spec.containers) {
                assert.match(c.image, /^[\w./-]+:[\w][\w.-]*$/, `${job.name}/${c.name} pinned`);
                assert.equal(c.securityContext.readOnlyRootFilesystem, true);
                assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
                assert.ok(c.resources.limits.memory && c.resources.limits.cpu);
                for (const e of c.env)
                    assert.ok(
                        e.value === undefined || e.name === "TERMINATION_LOG",
                        `${job.name}/${c.name} env ${e.name} is a reference`,
                    );
                const text = JSON.stringify([c.command, c.args ?? []]);
                for (const s of secrets)
                    assert.ok(!text.includes(s), `${job.name}/${c.name}: no credential on the command line`);
            }
            const script = scriptOf(r, r.inputs(job).metadata.namespace);
            for (const s of secrets) assert.ok(!script.includes(s), "no credential in the script");
        }
        // The psql container of a namespace with a login, the curl one everywhere.
        assert.deepEqual(
            r.inputs(dagster).spec.template.spec.containers.map((c: { name: string }) => c.name),
            ["curl", "psql"],
        );
        assert.deepEqual(
            r
                .inputs(r.one(T.job, "wiring-checks-trino"))
                .spec.template.spec.containers.map((c: { name: string }) => c.name),
            ["curl"],
        );
    });

    it("is admitted by the generated NetworkPolicies exactly: every check's connection has its rules, and no rule admits more than the checks reach", async () => {
        for (const stack of ["staging", "prod"]) {
            const r = await run(stack);
            const resources = engineResources(r.raw).map((x) => ({
                type: x.type,
                name: x.name,
                urn: x.urn,
                props: unwrapSecrets(x.inputs),
            }));
            const policies = parseNetworkPolicies(resources);
            const labelsOf = namespaceLabels(resources);
            const ns = platformConfigOf(stack).namespaces;
            const edges = (r.view.wiring as WiringEdge[]).map((e) => ({
                from: ns[e.from],
                to: ns[e.to],
                port: e.port,
            }));
            const egressIsolated = isolated(policies, "egress");
            for (const e of edges) {
                assert.ok(
                    ingressRulesAdmitting(policies, e.from, e.to, e.port, labelsOf).length > 0,
                    `${stack}: ${e.from} → ${e.to}:${e.port} admitted`,
                );
                if (egressIsolated.has(e.from))
                    assert.ok(egressRulesAdmitting(policies, e.from, e.to, e.port, labelsOf).length > 0);
            }
            // Rules between platform namespaces admit exactly the pairs and ports the checks reach.
            const platform = new Set(Object.values(ns));
            for (const p of policies) {
                for (const rule of p.ingress ?? []) {
                    for (const peer of rule.peers ?? []) {
                        if (peer.kind !== "namespaces") continue;
                        const from = peer.matchLabels["kubernetes.io/metadata.name"];
                        if (!platform.has(from)) continue;
                        for (const port of rule.ports ?? [])
                            assert.ok(
                                edges.some((e) => e.from === from && e.to === p.namespace && e.port === port.port),
                                `${stack}: ${p.namespace}/${p.name} admits ${from}:${port.port}, which no check reaches`,
                            );
                    }
                }
            }
            const verdict = (await plannedStack(stack)).policy.violations;
            assert.deepEqual(
                verdict.filter((v) => v.enforcementLevel === "mandatory"),
                [],
                `${stack}: the pack passes the checks`,
            );
        }
    });

    it("the coverage policy judges the checks as it judges any workload: a check reaching a namespace the wiring does not is refused", async () => {
        const r = await run("staging");
        const report = await judgeRun(r.raw, {
            edit: (resources) =>
                resources.map((x) => {
                    if (x.type !== T.configMap || x.name !== "wiring-checks-trino-script") return x;
                    const data = { ...(x.inputs.data as Record<string, string>) };
                    data[WIRING_CHECK_SCRIPT] +=
                        "\n# trino-9: reaches airbyte-airbyte-server-svc.airbyte-staging.svc.cluster.local:8001\n";
                    const inputs = { ...x.inputs, data };
                    return { ...x, inputs, outputs: inputs };
                }),
        });
        const coverage = mandatoryOf(report).filter((v) => v.policy === "network-policy-coverage");
        assert.ok(coverage.length >= 1);
        assert.match(
            coverage.map((v) => v.message).join("\n"),
            /wiring-checks-trino-script.*connects trino-staging to airbyte-staging on port 8001/s,
        );
    });

    it("off per stack: no Job, no script, the outputs and the plan say so", async () => {
        const r = await run("staging", { overrides: { [`${P}:verifyWiring`]: false } });
        assert.equal(jobs(r).length, 0);
        assert.equal(r.ofType(T.configMap).filter((c) => r.inputs(c).metadata.name === WIRING_CHECK_NAME).length, 0);
        assert.deepEqual(r.view.wiringChecks, []);
        const plan = await planStack("staging", { overrides: { [`${P}:verifyWiring`]: false } });
        assert.match(renderPlan(plan), /Wiring checks: off \(verifyWiring is false\)/);
        assert.equal(plan.criticalPath.verifiedAfter, undefined);
    });

    it("leaves out the edges of wiringChecksSkip, and only those, keeping every other check's id; the plan says which", async () => {
        const skip = { [`${P}:wiringChecksSkip`]: ["dagster/airbyte"] };
        const all = (await run("dev")).view.wiringChecks as Entry[];
        const r = await run("dev", { overrides: skip });
        const left = r.view.wiringChecks as Entry[];
        assert.deepEqual(
            left.map((c) => c.id),
            all.filter((c) => !(c.from === "dagster" && c.to === "airbyte")).map((c) => c.id),
        );
        assert.ok(all.length > left.length);
        assert.doesNotMatch(scriptOf(r, "dagster"), /airbyte-airbyte-server-svc/);
        assert.match(scriptOf(r, "dagster"), /trino\.trino\.svc\.cluster\.local/);
        const plan = await planStack("dev", { overrides: skip });
        assert.match(
            renderPlan(plan),
            /one per connection but the 1 of wiringChecksSkip;[\s\S]*not checked \(wiringChecksSkip\): dagster → airbyte/,
        );
        await assert.rejects(
            run("dev", { overrides: { [`${P}:wiringChecksSkip`]: ["trino/dagster"] } }),
            /"trino\/dagster" is not an edge of the call graph; one of: .*dagster\/airbyte/,
        );
    });

    it("runs again when the wiring, an image or a credential changes, and not otherwise", async () => {
        const sum = (r: Run, name: string) =>
            r.inputs(r.one(T.job, name)).spec.template.metadata.annotations["lakehouse-platform/run-checksum"];
        const base = await run("dev");
        const again = await run("dev");
        const moved = await run("dev", { overrides: { [`${P}:garageNamespace`]: "object-store" } });
        const rotated = await run("dev", { overrides: { [`${P}:credentialGenerations`]: ["garage-key/trino=2"] } });
        const curl = await run("dev", { overrides: { [`${P}:curlImage`]: "curlimages/curl:8.12.0" } });
        assert.equal(sum(again, "wiring-checks-trino"), sum(base, "wiring-checks-trino"));
        assert.notEqual(sum(moved, "wiring-checks-trino"), sum(base, "wiring-checks-trino"));
        assert.match(scriptOf(moved, "trino"), /garage\.object-store\.svc\.cluster\.local:3900/);
        assert.notEqual(sum(rotated, "wiring-checks-trino"), sum(base, "wiring-checks-trino"));
        assert.equal(sum(rotated, "wiring-checks-airbyte"), sum(base, "wiring-checks-airbyte"));
        assert.notEqual(sum(curl, "wiring-checks-airbyte"), sum(base, "wiring-checks-airbyte"));
    });

    it("the plan lists the checks per edge, and the wiring verified after Trino's", async () => {
        const plan = await plannedStack("dev");
        const text = renderPlan(plan);
        assert.match(text, /Wiring checks \(11, one per connection; 4 Jobs run them after the components are ready\)/);
        assert.match(
            text,
            /dagster-2 +dagster → trino +dagster\/lakehouse-wiring-check +.*a SELECT through catalog lakehouse/,
        );
        assert.match(text, /trino-1 +trino → database .*the thrift port accepts a connection/);
        assert.deepEqual(
            plan.wiringChecks.map((c) => c.id),
            plan.wiring.map((e, i, all) => `${e.from}-${all.slice(0, i + 1).filter((x) => x.from === e.from).length}`),
        );
    });

    it("the script, run with the real curl, fails naming the edge when its name does not resolve, and writes the termination message", async function () {
        const which = spawnSync("sh", ["-c", "command -v curl"], { encoding: "utf8" });
        if (which.status !== 0) this.skip();
        const r = await run("dev");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wiring-check-"));
        const file = path.join(dir, WIRING_CHECK_SCRIPT);
        fs.writeFileSync(file, scriptOf(r, "dagster"));
        const log = path.join(dir, "termination-log");
        // dagster-6: Airbyte's server; cluster.local names do not resolve on this machine.
        const res = spawnSync("sh", [file, "curl", "dagster-6"], {
            encoding: "utf8",
            env: { PATH: process.env.PATH, TERMINATION_LOG: log },
        });
        assert.equal(res.status, 1, res.stdout + res.stderr);
        assert.match(
            res.stderr,
            /^FAILED {2}dagster-6 dagster → airbyte \(Airbyte server \(UI and API\)\) at http:\/\/airbyte-airbyte-server-svc\.airbyte\.svc\.cluster\.local:8001\/api\/public\/v1: airbyte-airbyte-server-svc\.airbyte\.svc\.cluster\.local does not resolve \(DNS\)$/m,
        );
        assert.match(res.stdout, /curl checks of namespace dagster: 0 passed, 1 failed/);
        assert.match(fs.readFileSync(log, "utf8"), /^FAILED dagster-6 dagster → airbyte/);
        // Another tool's checks are not run by this container; an unknown id runs nothing.
        const none = spawnSync("sh", [file, "curl", "dagster-1"], {
            encoding: "utf8",
            env: { PATH: process.env.PATH },
        });
        assert.equal(none.status, 0);
        assert.match(none.stdout, /0 passed, 0 failed/);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
