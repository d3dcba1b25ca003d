// The critical path the plan prints, and the pieces the benchmark is built from. Nothing here is
// timed: speed targets live in `npm run bench`.
import { strict as assert } from "assert";
import { beyondTlsAdvisories } from "./helpers/policy";
import { checkCriticalPath } from "../offline/bench-run";
import { criticalPath, PathResource } from "../offline/critical-path";
import { isWiringCheck } from "../offline/plan";
import { runGate } from "../offline/crossguard/gate";
import { engineResources, packIdentity, platformConfigOf, runStack, stackPolicyDoc } from "../offline/run-stack";
import { POLICIES } from "../policies/policies";
import { syntheticStack } from "../offline/synthetic";
import { plannedStack, run } from "./helpers/stack";

function resource(name: string, type: string, component: string, dependencies: string[] = []): PathResource {
    return { urn: name, name, type, component, dependencies };
}

describe("critical path", () => {
    it("counts the waits for readiness on the longest chain, not the objects created in between", () => {
        const path = criticalPath([
            resource("ns", "kubernetes:core/v1:Namespace", "garage"),
            resource("role", "kubernetes:rbac.authorization.k8s.io/v1:Role", "garage", ["ns"]),
            resource("garage", "kubernetes:apps/v1:StatefulSet", "garage", ["role"]),
            resource("garage-bootstrap", "kubernetes:batch/v1:Job", "garage", ["garage"]),
            resource("postgres", "kubernetes:apps/v1:StatefulSet", "database", ["ns"]),
            resource("postgres-init", "kubernetes:batch/v1:Job", "database", ["postgres"]),
            resource("secret", "kubernetes:core/v1:Secret", "database", ["postgres-init"]),
            resource("hive-metastore-schema", "kubernetes:batch/v1:Job", "database", ["secret"]),
            resource("cm", "kubernetes:core/v1:ConfigMap", "dagster", ["garage-bootstrap", "postgres-init"]),
            resource("dagster", "kubernetes:helm.sh/v3:Release", "dagster", ["cm"]),
            resource("hive-metastore", "kubernetes:apps/v1:Deployment", "database", [
                "garage-bootstrap",
                "hive-metastore-schema",
            ]),
            resource("trino", "kubernetes:helm.sh/v3:Release", "trino", ["hive-metastore"]),
        ]);
        assert.equal(path.waits, 5);
        assert.deepEqual(
            path.steps.map((s) => s.name),
            ["postgres", "postgres-init", "hive-metastore-schema", "hive-metastore", "trino"],
        );
        assert.deepEqual(path.readyAfter, { garage: 2, dagster: 3, database: 4, trino: 5 });
        assert.deepEqual(checkCriticalPath(path), []);
    });

    it("is what the plan prints: database → init → metastore schema → metastore → Trino → a check of its edges, with Garage, Airbyte and Dagster beside it", async () => {
        for (const stack of ["dev", "prod"]) {
            const plan = await plannedStack(stack);
            assert.deepEqual(
                plan.criticalPath.steps.map((s) => `${s.kind} ${s.name}`),
                [
                    "StatefulSet postgres",
                    "Job postgres-init",
                    "Job hive-metastore-schema",
                    "Deployment hive-metastore",
                    "Release trino",
                    // Trino's own checks, or Dagster's check of its edge to Trino: both wait for Trino.
                    plan.criticalPath.steps[5]?.name === "wiring-checks-dagster"
                        ? "Job wiring-checks-dagster"
                        : "Job wiring-checks-trino",
                ],
            );
            assert.equal(plan.criticalPath.verifiedAfter, 6);
            // Garage bootstraps while the schema is created: its chain is shorter.
            assert.ok(plan.criticalPath.readyAfter.garage < plan.criticalPath.readyAfter.database);
            assert.deepEqual(checkCriticalPath(plan.criticalPath), []);
            assert.ok(plan.criticalPath.readyAfter.dagster < plan.criticalPath.readyAfter.trino);
            assert.ok(plan.criticalPath.readyAfter.airbyte < plan.criticalPath.readyAfter.trino);
        }
    });

    it("flags a chain longer than the dependencies require: Dagster made to wait for Trino", async () => {
        const plan = await plannedStack("dev");
        const trino = plan.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === "trino")!;
        const resources = plan.resources.map((r) =>
            r.type === "kubernetes:helm.sh/v3:Release" && r.name === "dagster"
                ? { ...r, dependencies: [...r.dependencies, trino.urn] }
                : r,
        );
        const problems = checkCriticalPath(criticalPath(resources, isWiringCheck));
        assert.equal(problems.length, 2);
        assert.match(problems.join("\n"), /Release trino → Release dagster/);
        assert.match(problems.join("\n"), /dagster is ready only after 6 waits, not in parallel to Trino \(5\)/);
    });
});

describe("benchmark inputs", () => {
    it("synthetic stacks have the size asked for, realistic objects, and pass every policy", async () => {
        const r = await run("staging");
        const cfg = platformConfigOf("staging");
        const resources = syntheticStack(400, {
            base: engineResources(r.raw),
            namespaces: cfg.namespaces,
            clusterDomain: cfg.clusterDomain,
        });
        assert.equal(resources.length, 400);
        assert.equal(new Set(resources.map((x) => x.urn)).size, 400);
        const kinds = new Set(resources.map((x) => x.type.split(":").pop()));
        for (const k of ["Deployment", "Service", "ConfigMap", "Secret", "Role", "NetworkPolicy", "Release"])
            assert.ok(kinds.has(k), k);
        const report = await runGate(resources, packIdentity("staging", r.raw.project, r.raw.config), [
            { doc: stackPolicyDoc(cfg, POLICIES), source: "of stack staging" },
        ]);
        assert.deepEqual(beyondTlsAdvisories(report.diagnostics), []);
    });

    it("a run without the SDK's stack traces registers exactly the resources, inputs and outputs of one with them", async () => {
        const fast = await run("staging"); // without, as every run by default
        const traced = await runStack("staging", { stackTraces: true });
        assert.deepEqual(fast.raw.resources, traced.resources);
        assert.deepEqual(fast.raw.outputs, traced.outputs);
    });
});
