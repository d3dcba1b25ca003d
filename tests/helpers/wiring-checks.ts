// What every stack's wiring checks must be: one per edge, in a Job of the edge's source namespace.
import { strict as assert } from "assert";
import type { WiringEdge } from "../../components/addresses";
import { WIRING_CHECK_NAME, WIRING_CHECK_SCRIPT } from "../../components/wiring-check-jobs";
import { T } from "./policy";
import { Run } from "./stack";

export type Entry = { id: string; from: string; to: string; address: string; job: string; checks: string[] };

export const jobs = (r: Run) => r.ofType(T.job).filter((j) => r.inputs(j).metadata.name === WIRING_CHECK_NAME);
export const scriptOf = (r: Run, namespace: string): string => {
    const cm = r
        .ofType(T.configMap)
        .find((c) => r.inputs(c).metadata.name === WIRING_CHECK_NAME && r.inputs(c).metadata.namespace === namespace);
    assert.ok(cm, `a wiring-check script in ${namespace}`);
    return r.inputs(cm).data[WIRING_CHECK_SCRIPT];
};

export function assertOneCheckPerEdge(r: Run, label: string): void {
    const wiring = r.view.wiring as WiringEdge[];
    const checks = r.view.wiringChecks as Entry[];
    assert.equal(checks.length, wiring.length, `${label}: one check per edge`);
    assert.deepEqual(
        checks.map((c) => `${c.from}→${c.to} ${c.address}`),
        wiring.map((e) => `${e.from}→${e.to} ${e.address}`),
        `${label}: the checks are the edges, in order`,
    );
    assert.equal(new Set(checks.map((c) => c.id)).size, checks.length, `${label}: ids are unique`);
    const sources = [...new Set(wiring.map((e) => e.from))];
    assert.equal(jobs(r).length, sources.length, `${label}: one Job per namespace that starts a connection`);
    for (const c of checks) {
        const ns = c.job.split("/")[0];
        const script = scriptOf(r, ns);
        assert.match(
            script,
            new RegExp(`^want ${c.id} (curl|psql) && check_`, "m"),
            `${label}: ${c.id} is in the script of ${ns}`,
        );
    }
}
