// What an interrupted update's pending operations call for. The engine records an operation in
// the state before it asks a provider to act, and clears it when the provider answers: what is
// left pending is what the update was doing when it died. A pending update or delete is settled
// by `pulumi refresh` (it reads the object as it is); a pending create must be cleared
// (`--clear-pending-creates`), and where the object was in fact made, imported under its URN, or
// the next `pulumi up` fails with "already exists" (only after the proof of adoption.ts).

export interface PendingOperation {
    resource: {
        urn: string;
        type: string;
        /** URN of its parent, and its provider as `<provider urn>::<provider id>`. */
        parent?: string;
        provider?: string;
        inputs?: {
            metadata?: {
                name?: string;
                namespace?: string;
                labels?: Record<string, string>;
                annotations?: Record<string, string>;
            };
            name?: string;
            namespace?: string;
        };
    };
    type: string;
}

export interface ExportedState {
    deployment?: {
        manifest?: { time?: string };
        resources?: {
            urn: string;
            type?: string;
            pendingReplacement?: boolean;
            inputs?: { name?: string; namespace?: string };
        }[];
        pending_operations?: PendingOperation[];
    };
}

export const HELM_RELEASE = /^kubernetes:helm\.sh\/v\d+:Release$/;

/** The id the Kubernetes provider gives an object (`namespace/name`, or `name` when cluster-wide), or undefined. */
export function kubernetesId(op: PendingOperation): string | undefined {
    const { type, inputs } = op.resource;
    if (!type.startsWith("kubernetes:") || type.startsWith("pulumi:providers:")) return undefined;
    // A Helm release is `namespace/name` of the release.
    const meta = HELM_RELEASE.test(type) ? { name: inputs?.name, namespace: inputs?.namespace } : inputs?.metadata;
    if (!meta?.name) return undefined;
    return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

/** The `pulumi import` of a pending create of a Kubernetes object, under its URN, parent and provider. */
export function importCommand(op: PendingOperation): string[] | undefined {
    const id = kubernetesId(op);
    if (!id || op.type !== "creating") return undefined;
    const r = op.resource;
    const name = r.urn.split("::").pop()!;
    const provider = r.provider?.slice(0, r.provider.lastIndexOf("::"));
    return [
        "import",
        r.type,
        name,
        id,
        ...(r.parent ? ["--parent", `parent=${r.parent}`] : []),
        ...(provider ? ["--provider", `provider=${provider}`] : []),
        "--protect=false",
        "--generate-code=false",
        "--skip-preview",
        "--yes",
    ];
}

export interface RecoveryPlan {
    /** The state with replacements settled, to `pulumi stack import` first (when needed). */
    edited?: ExportedState;
    /** Pending creates of Kubernetes objects: imported when the object exists and is proven the update's. */
    candidates: PendingOperation[];
    /** Whether `pulumi refresh` must clear pending creates. */
    clear: boolean;
    described: string[];
}

/**
 * How to settle an interrupted update's pending operations: the state edited where a pending
 * create is the replacement of a resource whose original the engine already deleted (kept, no
 * longer pending replacement: the refresh reads the new object, or drops it when it was never
 * made); the other pending creates of Kubernetes objects are candidates for an import; every
 * other pending create cleared; pending updates and deletes left to the refresh.
 */
export function recoveryPlan(state: ExportedState): RecoveryPlan {
    const pending = state.deployment?.pending_operations ?? [];
    const replacing = new Set(
        (state.deployment?.resources ?? []).filter((r) => r.pendingReplacement).map((r) => r.urn),
    );
    const described: string[] = [];
    const candidates: PendingOperation[] = [];
    let clear = false;
    const keep: PendingOperation[] = [];
    let edited = false;
    for (const op of pending) {
        const urn = op.resource.urn;
        if (op.type !== "creating") {
            keep.push(op);
            described.push(`${op.type} ${urn}: settled by the refresh`);
        } else if (replacing.has(urn)) {
            edited = true;
            described.push(`creating ${urn} (a replacement, its original deleted): kept, read again by the refresh`);
        } else if (kubernetesId(op)) {
            candidates.push(op);
            clear = true;
            described.push(
                `creating ${urn}: ${kubernetesId(op)} imported if it exists and the interrupted update made it, else created by the next up`,
            );
        } else {
            clear = true;
            described.push(`creating ${urn}: cleared (the program makes it again)`);
        }
    }
    if (!edited) return { candidates, clear, described };
    const copy = JSON.parse(JSON.stringify(state)) as ExportedState;
    copy.deployment!.pending_operations = [
        ...keep,
        ...pending.filter((op) => op.type === "creating" && !replacing.has(op.resource.urn)),
    ];
    for (const r of copy.deployment!.resources ?? []) {
        if (replacing.has(r.urn) && pending.some((op) => op.type === "creating" && op.resource.urn === r.urn))
            delete r.pendingReplacement;
    }
    return { edited: copy, candidates, clear, described };
}
