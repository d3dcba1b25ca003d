import { strict as assert } from "assert";
import type { WiringEdge } from "../components/addresses";
import { platformConfigOf } from "../offline/run-stack";
import { configStrings } from "../policies/lib/strings";
import { run, Run } from "./helpers/stack";

function valueAt(r: Run, edge: WiringEdge): string | undefined {
    const resource = r.one(edge.via.type, edge.via.name);
    let found: string | undefined;
    configStrings(resource.type, r.inputs(resource), (s) => {
        if (s.path === edge.via.path) found = s.value;
    });
    return found;
}

describe("wiring", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: every edge is a value the stack really configures, at the address it states`, async () => {
            const r = await run(stack);
            const cfg = platformConfigOf(stack);
            const wiring = (r.view as { wiring: WiringEdge[] }).wiring;
            assert.ok(wiring.length >= 10);
            for (const edge of wiring) {
                const value = valueAt(r, edge);
                assert.equal(
                    value,
                    edge.address,
                    `${edge.from} → ${edge.to}: ${edge.via.type} ${edge.via.name} ${edge.via.path}`,
                );
                assert.ok(edge.address.includes(`${edge.host}`), edge.address);
                assert.equal(
                    edge.host.split(".")[1],
                    cfg.namespaces[edge.to],
                    `${edge.host} is not in ${edge.to}'s namespace`,
                );
                assert.ok(edge.host.endsWith(`.svc.${cfg.clusterDomain}`));
                assert.notEqual(edge.from, edge.to);
            }
        });
    }

    it("is the platform's call graph", async () => {
        const r = await run("dev");
        const edges = new Set((r.view as { wiring: WiringEdge[] }).wiring.map((e) => `${e.from} → ${e.to}:${e.port}`));
        assert.deepEqual([...edges].sort(), [
            "airbyte → database:5432",
            "airbyte → garage:3900",
            "dagster → airbyte:8001",
            "dagster → database:5432",
            "dagster → garage:3900",
            "dagster → trino:8080",
            "database → garage:3900",
            "trino → database:9083",
            "trino → garage:3900",
        ]);
    });
});
