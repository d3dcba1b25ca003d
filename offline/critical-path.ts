// The deployment's critical path as the plan sees it: the longest chain of resources that wait on
// each other (dependencies, explicit or through inputs, with components expanded to their
// children). Its length is counted in waits: resources Pulumi waits on until they are ready
// (workloads, Jobs, Helm charts and releases, and Services that route to pods), since creating
// the others takes no time to speak of. The real engine's events agree (npm run bench): a Service
// with a cluster IP and a selector is awaited until it has endpoints and then 10 s more, the
// longest single waits of dev's `pulumi up` on a cluster whose pods start at once.

/** Kinds Pulumi's Kubernetes provider waits on until they are ready. */
export const AWAITED_KINDS = new Set(["StatefulSet", "Deployment", "DaemonSet", "Job", "Chart", "Release"]);

/** A Service the provider waits on: it has a selector and a cluster IP (a headless one is not awaited). */
export function awaitedService(inputs: unknown): boolean {
    const spec = (inputs as { spec?: { clusterIP?: unknown; selector?: unknown; type?: unknown } } | undefined)?.spec;
    return spec?.selector !== undefined && spec.clusterIP !== "None" && spec.type !== "ExternalName";
}

/** Whether Pulumi waits for the resource to be ready (see AWAITED_KINDS and awaitedService). */
export function isAwaited(r: { type: string; inputs?: unknown }): boolean {
    const kind = kindOf(r.type);
    return AWAITED_KINDS.has(kind) || (kind === "Service" && awaitedService(r.inputs));
}

export interface PathResource {
    urn: string;
    type: string;
    name: string;
    component: string;
    dependencies: string[];
    /** Inputs, for the kinds awaited by what they say (Services). */
    inputs?: unknown;
}

export interface PathStep {
    kind: string;
    name: string;
    component: string;
}

export interface CriticalPath {
    /** Waits on the longest chain. */
    waits: number;
    /** The awaited resources of the chain, first to last. */
    steps: PathStep[];
    /** Per component: the waits until its last resource is ready (its wiring checks apart). */
    readyAfter: Record<string, number>;
    /** The waits until the last wiring check passed (`verifyWiring`); absent when there are none. */
    verifiedAfter?: number;
}

/** `kubernetes:apps/v1:StatefulSet` → `StatefulSet`; `random:index/randomPassword:RandomPassword` → `RandomPassword`. */
export function kindOf(type: string): string {
    return type.split(":").pop() ?? type;
}

/**
 * `isCheck` tells the wiring checks apart: they wait for what they check, so they end the chain,
 * but a component is ready before its checks run.
 */
export function criticalPath<R extends PathResource>(
    resources: R[],
    isCheck: (r: R) => boolean = () => false,
): CriticalPath {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const depth = new Map<string, { waits: number; count: number; previous?: string }>();
    const visiting = new Set<string>();
    const weight = (r: PathResource) => (isAwaited(r) ? 1 : 0);
    const measure = (urn: string): { waits: number; count: number } => {
        const known = depth.get(urn);
        if (known) return known;
        const r = byUrn.get(urn)!;
        if (visiting.has(urn)) throw new Error(`dependency cycle through ${r.type} ${r.name}`);
        visiting.add(urn);
        let best: { waits: number; count: number; previous?: string } = { waits: 0, count: 0 };
        for (const dep of r.dependencies) {
            if (!byUrn.has(dep) || dep === urn) continue;
            const d = measure(dep);
            if (d.waits > best.waits || (d.waits === best.waits && d.count > best.count))
                best = { waits: d.waits, count: d.count, previous: dep };
        }
        visiting.delete(urn);
        const own = { waits: best.waits + weight(r), count: best.count + 1, previous: best.previous };
        depth.set(urn, own);
        return own;
    };
    let end: string | undefined;
    const readyAfter: Record<string, number> = {};
    let verifiedAfter: number | undefined;
    for (const r of resources) {
        const d = measure(r.urn);
        if (isCheck(r)) verifiedAfter = Math.max(verifiedAfter ?? 0, d.waits);
        else readyAfter[r.component] = Math.max(readyAfter[r.component] ?? 0, d.waits);
        const top = end === undefined ? undefined : depth.get(end)!;
        if (!top || d.waits > top.waits || (d.waits === top.waits && d.count > top.count)) end = r.urn;
    }
    const steps: PathStep[] = [];
    for (let urn = end; urn !== undefined; urn = depth.get(urn)!.previous) {
        const r = byUrn.get(urn)!;
        if (weight(r) > 0) steps.unshift({ kind: kindOf(r.type), name: r.name, component: r.component });
    }
    return {
        waits: end === undefined ? 0 : depth.get(end)!.waits,
        steps,
        readyAfter,
        ...(verifiedAfter === undefined ? {} : { verifiedAfter }),
    };
}

export function renderCriticalPath(path: CriticalPath): string[] {
    const chain = path.steps.map((s) => `${s.kind} ${s.name} (${s.component})`).join(" → ");
    const ready = Object.entries(path.readyAfter)
        .filter(([c]) => c !== "platform")
        .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
        .map(([c, n]) => `${c} ${n}`)
        .join(", ");
    const verified = path.verifiedAfter === undefined ? "" : `; wiring verified after ${path.verifiedAfter}`;
    return [
        `Critical path (${path.waits} waits for readiness)`,
        `  ${chain || "(nothing to wait for)"}`,
        `  ready after n waits: ${ready}${verified}`,
    ];
}
