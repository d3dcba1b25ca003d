// Changes the API server cannot apply in place to what holds data, planned against the stack's
// last deployment (`npm run plan -- --ref <this stack>=PLAN.json`, as `pulumi preview` reads the
// stack's own outputs): a stack that keeps its data refuses each, naming the key (exit 2), until
// `allowDataChanges` lists it; a stack that keeps nothing proceeds, and the plan says so loudly.
// The real-engine suite runs the same changes under the CLI (tests/cluster/faults.ts).
import { strict as assert } from "assert";
import { dataChanges, dataSettingsOf } from "../components/data-guard";
import { main as plan } from "../offline/plan-cli";
import { platformConfigOf } from "../offline/run-stack";
import { capture, tmp } from "./helpers/commands";
import { shared } from "./helpers/shared";
import { run } from "./helpers/stack";

const deployedPlans = new Map<string, Promise<string>>();

/** The plan file of `stack` as shipped: its "last deployment". */
function deployed(stack: string): Promise<string> {
    return shared(deployedPlans, stack, async () => {
        const file = tmp(`${stack}.json`);
        const r = await capture(plan, ["--stack", stack, "--json", file]);
        if (r.code !== 0) throw new Error(`plan ${stack}: ${r.err}`);
        return file;
    });
}

async function planAgainst(stack: string, sets: string[]) {
    const ref = `organization/lakehouse-platform/${stack}=${await deployed(stack)}`;
    return capture(plan, ["--stack", stack, "--ref", ref, ...sets.flatMap((s) => ["--set", s])]);
}

/** The changes the guard watches, each as a --set over staging, and the verdict it reaches. */
const CHANGES: [string, string, string][] = [
    ["garageNamespace", "garageNamespace=objects-staging", "deletes data"],
    ["databaseNamespace", "databaseNamespace=metadata-staging", "deletes data"],
    ["garageDataSize", "garageDataSize=40Gi", "replaces, volumes kept"],
    ["garageMetadataSize", "garageMetadataSize=2Gi", "replaces, volumes kept"],
    ["postgresStorageSize", "postgresStorageSize=10Gi", "replaces, volumes kept"],
    ["storageClass", "storageClass=fast-ssd", "replaces, volumes kept"],
    ["lakehouseBucket", "lakehouseBucket=warehouse", "leaves data behind"],
    ["components", 'components=["garage"]', "deletes data"],
    ["environment", "environment=stage", "replaces, volumes kept"],
];

describe("changes to what holds data, against the last deployment", () => {
    for (const [key, set, verdict] of CHANGES) {
        it(`staging refuses ${set} (exit 2, naming ${key}), and proceeds once allowDataChanges lists it`, async () => {
            const refused = await planAgainst("staging", [set]);
            assert.equal(refused.code, 2, refused.err);
            assert.match(
                refused.err,
                new RegExp(
                    `lakehouse-platform:${key} = .*: the deployed .*retainStatefulResources.*docs/day-two.md.*allowDataChanges`,
                ),
            );
            assert.match(refused.err, /No resource was registered\./);
            const allowed = await planAgainst("staging", [set, `allowDataChanges=["${key}"]`]);
            assert.equal(allowed.code, 0, allowed.err);
            assert.match(allowed.out, new RegExp(`^Data \\(1 change`, "m"));
            assert.match(allowed.out, new RegExp(`${key} .* ${verdict.toUpperCase()}: `));
        });
    }

    it("prod refuses them too (protectStatefulResources), naming the setting that keeps the data", async () => {
        const r = await planAgainst("prod", ["garageDataSize=600Gi"]);
        assert.equal(r.code, 2);
        assert.match(r.err, /garageDataSize .*protectStatefulResources/);
    });

    it("dev keeps nothing: the change proceeds, and the plan says loudly that it deletes the data", async () => {
        const r = await planAgainst("dev", ["garageNamespace=objects"]);
        assert.equal(r.code, 0, r.err);
        assert.match(
            r.out,
            /garageNamespace "garage" → "objects" DELETES DATA: Garage moves to namespace objects: garage is deleted with its volumes/,
        );
    });

    it("a first deployment has nothing to compare: no guard, no Data section", async () => {
        const r = await capture(plan, ["--stack", "staging", "--set", "garageDataSize=40Gi"]);
        assert.equal(r.code, 0, r.err);
        assert.doesNotMatch(r.out, /^Data /m);
    });

    it("rejects a key in allowDataChanges that touches no data", async () => {
        const r = await capture(plan, ["--stack", "staging", "--set", 'allowDataChanges=["trinoWorkers"]']);
        assert.equal(r.code, 2);
        assert.match(r.err, /allowDataChanges .*"trinoWorkers" is not a key whose change touches data/);
    });

    it("changes that keep the data need no step: sizes of pods, a Job's template, replicas", () => {
        const cfg = platformConfigOf("staging");
        for (const set of [
            { "lakehouse-platform:garageCpuLimit": "2" },
            { "lakehouse-platform:busyboxImage": "busybox:1.37.0-uclibc" },
            { "lakehouse-platform:trinoWorkers": "5" },
        ]) {
            const next = platformConfigOf("staging", set);
            assert.deepEqual(dataChanges(dataSettingsOf(cfg), dataSettingsOf(next)), [], JSON.stringify(set));
        }
    });

    it("no key changes a selector: Services and StatefulSets select by constant labels, so they update in place", async () => {
        const selectors = async (overrides: Record<string, unknown>) => {
            const r = await run("staging", { overrides });
            return r.resources
                .filter((x) =>
                    [
                        "kubernetes:core/v1:Service",
                        "kubernetes:apps/v1:StatefulSet",
                        "kubernetes:apps/v1:Deployment",
                    ].includes(x.type),
                )
                .map((x) => JSON.stringify([x.name, r.inputs(x).spec.selector]));
        };
        const base = await selectors({});
        for (const overrides of [
            { "lakehouse-platform:environment": "stage" },
            { "lakehouse-platform:garageReplicas": "4" },
        ])
            assert.deepEqual(await selectors(overrides), base);
    });
});
