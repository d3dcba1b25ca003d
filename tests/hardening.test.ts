// Pod hardening and sizing: every workload the project defines, and every pod it configures through
// chart values, runs with the security context its image allows and with requests and limits.
import { strict as assert } from "assert";
import { AIRBYTE_PODS } from "../components/airbyte";
import { POD_SECURITY } from "../components/namespaces";
import { platformConfigOf } from "../offline/run-stack";
import { run, Run } from "./helpers/stack";

const WORKLOADS = [
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:CronJob",
];

/** Containers whose image must write to its root file system, and why. */
const WRITABLE_ROOT: Record<string, string> = {
    "hive-metastore/metastore": "the apache/hive image writes its configuration and logs under /opt/hive",
    "hive-metastore-schema/schematool":
        "the same image: its configuration is linked into /opt/hive/conf, as the entrypoint does",
};

function assertSized(where: string, resources: any): void {
    for (const kind of ["requests", "limits"]) {
        for (const r of ["cpu", "memory"]) assert.ok(resources?.[kind]?.[r], `${where}: no ${kind}.${r}`);
    }
}

const runs: Record<string, Run> = {};

describe("pod hardening and sizing", () => {
    before(async () => {
        for (const stack of ["dev", "staging", "prod"]) runs[stack] = await run(stack);
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: every workload the project defines runs restricted, with requests and limits on every container`, () => {
            const r = runs[stack];
            const workloads = r.resources.filter((x) => WORKLOADS.includes(x.type));
            assert.ok(workloads.length >= 5, `${workloads.length} workloads`);
            for (const w of workloads) {
                const spec = r.inputs(w).spec.template.spec;
                const pod = spec.securityContext;
                assert.equal(pod?.runAsNonRoot, true, `${w.name}: runAsNonRoot`);
                assert.equal(pod?.seccompProfile?.type, "RuntimeDefault", `${w.name}: seccomp`);
                for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
                    const where = `${w.name}/${c.name}`;
                    assertSized(where, c.resources);
                    const sc = c.securityContext;
                    assert.equal(sc?.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
                    assert.deepEqual(sc?.capabilities?.drop, ["ALL"], `${where}: capabilities`);
                    assert.equal(
                        sc?.readOnlyRootFilesystem,
                        !(where in WRITABLE_ROOT),
                        `${where}: readOnlyRootFilesystem`,
                    );
                    assert.ok(!sc?.privileged, `${where}: privileged`);
                }
            }
        });
    }

    it("sets each namespace's Pod Security level to the strictest its component passes", () => {
        assert.deepEqual(POD_SECURITY, {
            garage: "restricted",
            database: "restricted",
            trino: "restricted",
            airbyte: "baseline",
            dagster: "baseline",
        });
        const r = runs.prod;
        const cfg = platformConfigOf("prod");
        for (const [component, level] of Object.entries(POD_SECURITY)) {
            const ns = r
                .ofType("kubernetes:core/v1:Namespace")
                .find((n) => r.inputs(n).metadata.name === cfg.namespaces[component as keyof typeof cfg.namespaces])!;
            assert.equal(r.inputs(ns).metadata.labels["pod-security.kubernetes.io/enforce"], level, component);
            // Whatever keeps a namespace below `restricted` stays visible in audit logs and warnings.
            assert.equal(r.inputs(ns).metadata.labels["pod-security.kubernetes.io/warn"], "restricted");
        }
    });

    it("configures Trino's pods as non-root with no privilege and sized from config", () => {
        const values = runs.prod.inputs(runs.prod.one("kubernetes:helm.sh/v3:Release", "trino")).values;
        assert.equal(values.securityContext.runAsNonRoot, true);
        assert.equal(values.securityContext.seccompProfile.type, "RuntimeDefault");
        assert.equal(values.containerSecurityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(values.containerSecurityContext.capabilities.drop, ["ALL"]);
        assertSized("trino coordinator", values.coordinator.resources);
        assertSized("trino worker", values.worker.resources);
    });

    it("configures every Airbyte pod the chart runs, and the connector pods, with a security context and requests and limits", () => {
        const values = runs.prod.inputs(runs.prod.one("kubernetes:helm.sh/v3:Release", "airbyte")).values;
        for (const pod of AIRBYTE_PODS) {
            assertSized(`airbyte ${pod}`, values[pod].resources);
            assert.equal(values[pod].podSecurityContext.runAsNonRoot, true, pod);
            assert.equal(values[pod].containerSecurityContext.allowPrivilegeEscalation, false, pod);
            assert.deepEqual(values[pod].containerSecurityContext.capabilities.drop, ["ALL"], pod);
            assert.equal(values[pod].containerSecurityContext.seccompProfile.type, "RuntimeDefault", pod);
        }
        for (const [pod, r] of Object.entries(values.global.workloads.resources as Record<string, any>)) {
            for (const kind of ["cpu", "memory"])
                assert.ok(r[kind].request && r[kind].limit, `connector ${pod} ${kind}`);
        }
    });

    it("configures Dagster's webserver, daemon, code location and runs with requests and limits and no privilege", () => {
        const values = runs.prod.inputs(runs.prod.one("kubernetes:helm.sh/v3:Release", "dagster")).values;
        const location = values["dagster-user-deployments"].deployments[0];
        for (const [where, v] of [
            ["webserver", values.dagsterWebserver],
            ["daemon", values.dagsterDaemon],
            ["code location", location],
        ] as const) {
            assertSized(`dagster ${where}`, v.resources);
            assert.equal(v.podSecurityContext.seccompProfile.type, "RuntimeDefault", where);
            assert.equal(v.securityContext.allowPrivilegeEscalation, false, where);
            assert.deepEqual(v.securityContext.capabilities.drop, ["ALL"], where);
        }
        assertSized("dagster init containers", values.dagsterWebserver.initContainerResources);
        assertSized("dagster runs", values.runLauncher.config.k8sRunLauncher.resources);
    });
});
