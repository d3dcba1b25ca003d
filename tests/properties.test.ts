// Property tests: random valid configurations parse, any single mutation of a valid one into a bad
// value is refused naming its key, and every address the registry yields is a full name. Seeded, so
// a failure names the seed that reproduces it.
import { strict as assert } from "assert";
import { addressTable } from "../components/addresses";
import { COMPONENTS, ComponentName, ConfigError } from "../components/config";
import { platformConfigOf } from "../offline/run-stack";
import { recordedVersions } from "../policies/lib/chart-values";

const P = "lakehouse-platform";
const RUNS = 60;

/** mulberry32: small, fast, and the same sequence for the same seed. */
function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, 0, xs.length - 1)];
const label = (r: Rand, prefix: string) =>
    `${prefix}-${Array.from({ length: int(r, 1, 8) }, () => pick(r, [..."abcdefghijklmnopqrstuvwxyz0123456789"])).join("")}`;

/** A random configuration every rule accepts, over the dev stack file. */
function validConfig(r: Rand): Record<string, unknown> {
    const replicas = int(r, 1, 7);
    const cfg: Record<string, unknown> = {
        clusterDomain: pick(r, ["cluster.local", "lakehouse.example.com", `${label(r, "c")}.internal`]),
        garageReplicas: replicas,
        garageReplicationFactor: int(r, 1, Math.min(3, replicas)),
        trinoWorkers: int(r, 1, 40),
        hiveMetastoreReplicas: int(r, 1, 5),
        garageDataSize: `${int(r, 1, 500)}${pick(r, ["Gi", "Ti"])}`,
        busyboxImage: `busybox:1.${int(r, 30, 37)}.${int(r, 0, 9)}`,
        trinoChartVersion: pick(r, recordedVersions("trino")),
        airbyteSize: pick(r, ["small", "medium", "large"]),
        networkPolicies: r() < 0.5,
        verifyWiring: r() < 0.5,
        lakehouseBucket: label(r, "lake"),
        airbyteBucket: label(r, "ab"),
    };
    const used = new Set<string>();
    for (const c of COMPONENTS) {
        if (r() < 0.5) continue;
        let ns = label(r, c);
        while (used.has(ns)) ns = label(r, c);
        used.add(ns);
        cfg[`${c}Namespace`] = ns;
    }
    return cfg;
}

/** Per key: bad values the rules must refuse. */
const BAD: Record<string, unknown[]> = {
    clusterDomain: ["", "Cluster_Local", "-bad.domain"],
    garageReplicas: [0, -1, 99999999999999, "three"],
    trinoWorkers: [0, -1, 100000, 1.5],
    hiveMetastoreReplicas: [0, "99999999999999999999"],
    garageDataSize: ["0Gi", "10GB", "ten", "999999Ei"],
    busyboxImage: ["busybox", "busybox:latest", "BusyBox:1.37.0", "a b:1"],
    trinoChartVersion: ["^1.42.2", "1.42", "latest"],
    airbyteSize: ["huge", ""],
    networkPolicies: ["maybe"],
    verifyWiring: ["yes please"],
    lakehouseBucket: ["Lake_House", "ab", "-lake"],
    trinoNamespace: ["Trino", "kube-system", "a".repeat(64)],
};

function refusedKeys(overrides: Record<string, unknown>): string[] {
    try {
        platformConfigOf("dev", Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`${P}:${k}`, v])));
        return [];
    } catch (e) {
        if (e instanceof ConfigError) return e.problems.map((p) => p.key.replace(`${P}:`, ""));
        throw e;
    }
}

describe("properties", () => {
    it(`any valid configuration parses (${RUNS} random ones)`, () => {
        for (let seed = 1; seed <= RUNS; seed++) {
            const cfg = validConfig(prng(seed));
            assert.deepEqual(refusedKeys(cfg), [], `seed ${seed}: ${JSON.stringify(cfg)}`);
        }
    });

    it(`any single mutation of a valid configuration into a bad value is refused, naming that key (${RUNS} random ones)`, () => {
        for (let seed = 1; seed <= RUNS; seed++) {
            const r = prng(1000 + seed);
            const cfg = validConfig(r);
            const key = pick(r, Object.keys(BAD));
            const bad = pick(r, BAD[key]);
            const refused = refusedKeys({ ...cfg, [key]: bad });
            assert.ok(
                refused.includes(key),
                `seed ${1000 + seed}: ${key} = ${JSON.stringify(bad)} over ${JSON.stringify(cfg)} was refused for ${refused.join(", ") || "nothing"}`,
            );
        }
    });

    it(`every address the registry yields is a full <service>.<namespace>.svc.<domain> name (${RUNS} random namespaces and domains)`, () => {
        for (let seed = 1; seed <= RUNS; seed++) {
            const r = prng(2000 + seed);
            const namespaces = Object.fromEntries(COMPONENTS.map((c) => [c, label(r, c)])) as Record<
                ComponentName,
                string
            >;
            const domain = pick(r, ["cluster.local", `${label(r, "d")}.example`]);
            const table = addressTable(namespaces, domain, COMPONENTS);
            assert.equal(Object.keys(table).length, 6);
            for (const entry of Object.values(table)) {
                assert.equal(
                    entry.host,
                    `${entry.service}.${namespaces[entry.component]}.svc.${domain}`,
                    `seed ${2000 + seed}`,
                );
                assert.ok(entry.url.includes(`${entry.host}:${entry.port}`), entry.url);
                assert.match(entry.host, /^[a-z0-9-]+\.[a-z0-9-]+\.svc\.[a-z0-9.-]+$/);
            }
        }
    });
});
