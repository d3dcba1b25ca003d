// Planted faults: each makes the fault one of the suite's checks exists to catch, so that the
// check is seen failing (a check that has never failed has not been shown to check anything).
//
//   LAKEHOUSE_PLANT=short-host,wrong-credential npm run test:cluster -- --stack dev --node real
//
// A run with a plant must FAIL, in the checks the plant names; docs/testing.md lists what each
// plant does and which check it fails. Plants exist for the real node (where the platform runs).
export const PLANTS = {
    /** Trino's catalog names the metastore by its short host (`hive-metastore:9083`), from Trino's namespace. */
    "short-host": "the Dagster run of dbt through Trino (Trino cannot resolve the metastore)",
    /** The NetworkPolicy admitting Dagster's namespace into Trino's is deleted before the checks. */
    "removed-rule": "the NetworkPolicies check (the wired dagster → trino is refused) and the Dagster run",
    /** A NetworkPolicy of the suite's admits the client namespace to Dagster's webserver port, past its login. */
    "open-webserver": "Dagster's login from a client namespace (the webserver behind the login answers it)",
    /** Trino's Garage secret key replaced with a wrong one (its pods restarted to read it). */
    "wrong-credential": "the Dagster run of dbt through Trino (Garage refuses Trino's requests)",
    /** One of the rows written before each fault deleted right after it is written. */
    "missing-row": "every fault's verdict (the rows read back)",
    /** Every fault dealt only once the operation it aims at has completed. */
    "late-kill": "every fault's 'the state shows what the fault interrupted'",
    /** The foreign Job carries the provider's field manager and every label and annotation of the program's. */
    "adopted-foreign": "the foreign-object fault (recover adopts it: exit 0 where 2 is expected)",
    /** Every update watch's Secret stream dropped once, a second after it starts (as a network drop would). */
    "missed-watch": "the day-two updates' 'no Secret or ConfigMap was ever absent' (continuity not proven)",
    /** The kubelet's kubeconfig names a port the API server does not listen on: the node never registers. */
    "unready-node":
        "the node's start: 'not Ready after 180 s', with the kubelet's log and what to do; nothing left behind",
    /** The curl image asks Debian for a package that does not exist (its cache key changes, so it is built). */
    "broken-image": "the images' build: mmdebstrap's own error, its log and what to do, before any node starts",
} as const;

export type Plant = keyof typeof PLANTS;

/** The plants of this run (`LAKEHOUSE_PLANT`, comma-separated); an unknown name is bad input. */
export function plants(env: NodeJS.ProcessEnv = process.env): Set<Plant> {
    const names = (env.LAKEHOUSE_PLANT ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    const unknown = names.filter((n) => !(n in PLANTS));
    if (unknown.length > 0)
        throw new PlantError(
            `LAKEHOUSE_PLANT: unknown ${unknown.map((n) => JSON.stringify(n)).join(", ")}; one or more of: ${Object.keys(PLANTS).join(", ")}`,
        );
    return new Set(names as Plant[]);
}

export class PlantError extends Error {}

/** Whether `plant` is planted in this run. */
export function planted(plant: Plant): boolean {
    return plants().has(plant);
}
