// Size profiles for chart-managed pod fleets (Airbyte, Dagster), whose many pods get their
// requests and limits from a table rather than a config key each.
import type { SizeProfile } from "./config";

export interface PodSize {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

const FACTOR: Record<SizeProfile, number> = { small: 1, medium: 2, large: 4 };

function scaleQuantity(q: string, factor: number): string {
    const m = /^(\d+(?:\.\d+)?)(m|Mi|Gi)?$/.exec(q);
    if (!m) throw new Error(`cannot scale quantity ${q}`);
    const value = Number(m[1]) * factor;
    return `${Number.isInteger(value) ? value : value.toFixed(1)}${m[2] ?? ""}`;
}

/** A table of small sizes scaled to a profile: medium doubles every request and limit, large quadruples it. */
export function scaleSizes<K extends string>(small: Record<K, PodSize>, profile: SizeProfile): Record<K, PodSize> {
    const f = FACTOR[profile];
    const scale = (r: PodSize["requests"]) => ({ cpu: scaleQuantity(r.cpu, f), memory: scaleQuantity(r.memory, f) });
    return Object.fromEntries(
        Object.entries<PodSize>(small).map(([pod, s]) => [
            pod,
            { requests: scale(s.requests), limits: scale(s.limits) },
        ]),
    ) as Record<K, PodSize>;
}
