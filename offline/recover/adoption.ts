// Whether an object in the cluster is the one an interrupted update created, before recovery
// imports it into the stack. Importing puts an object under the stack's management: the next
// `pulumi up` reshapes it to the program and `pulumi destroy` deletes it. An object of the same
// name that someone else made (another tool, another stack, a person) must never be adopted, so
// an import needs all of:
//   - the Kubernetes provider's field manager among the object's managed fields (the provider
//     applies server-side with a `pulumi-kubernetes` manager); for a Helm release, Helm's own
//     release record (`sh.helm.release.v1.<release>.v<n>`, labelled owner=helm, name=<release>);
//   - created at or after the interrupted update started (its lock's time);
//   - every label and annotation the program gave it, with the program's values.
import type { PendingOperation } from "./plan";

/** An object as the API server returns it (only what the proof reads). */
export interface ClusterObject {
    metadata: {
        name: string;
        namespace?: string;
        creationTimestamp?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
        managedFields?: { manager?: string; operation?: string }[];
    };
}

export type Verdict =
    { kind: "absent" } | { kind: "adopt"; evidence: string[] } | { kind: "foreign"; reasons: string[] };

/** The field managers the Kubernetes provider applies with (server-side apply, its default). */
export const PROVIDER_FIELD_MANAGER = /^pulumi-kubernetes/;

/** The annotations the provider itself may add, not the program's: not part of the proof. */
const PROVIDER_ANNOTATION = /^pulumi\.com\//;

function metadataOf(op: PendingOperation): { labels: Record<string, string>; annotations: Record<string, string> } {
    const meta = op.resource.inputs?.metadata ?? {};
    return { labels: { ...(meta.labels ?? {}) }, annotations: { ...(meta.annotations ?? {}) } };
}

/** The proof's steps for a created-at time: at or after the update started (the API server stamps whole seconds). */
function createdAfter(created: string | undefined, updateStarted: Date | undefined): string | undefined {
    if (!updateStarted) return "when the interrupted update started is unknown (no lock, no backup of its start)";
    if (!created) return "it has no creation time";
    const startSecond = Math.floor(updateStarted.getTime() / 1000) * 1000;
    if (new Date(created).getTime() < startSecond)
        return `created ${created}, before the interrupted update started (${updateStarted.toISOString()})`;
    return undefined;
}

/** A Kubernetes object (not a Helm release) against the pending create that would have made it. */
export function judgeObject(
    op: PendingOperation,
    obj: ClusterObject | undefined,
    updateStarted: Date | undefined,
): Verdict {
    if (!obj) return { kind: "absent" };
    const reasons: string[] = [];
    const evidence: string[] = [];
    const managers = (obj.metadata.managedFields ?? []).map((f) => f.manager ?? "");
    const ours = managers.find((m) => PROVIDER_FIELD_MANAGER.test(m));
    if (ours) evidence.push(`field manager ${ours}`);
    else reasons.push(`no field manager of the Kubernetes provider (managers: ${managers.join(", ") || "none"})`);
    const late = createdAfter(obj.metadata.creationTimestamp, updateStarted);
    if (late) reasons.push(late);
    else evidence.push(`created ${obj.metadata.creationTimestamp}, after the update started`);
    const want = metadataOf(op);
    const differs = (kind: string, wanted: Record<string, string>, have: Record<string, string> = {}) =>
        Object.entries(wanted)
            .filter(([k]) => !(kind === "annotation" && PROVIDER_ANNOTATION.test(k)))
            .filter(([k, v]) => have[k] !== v)
            .map(([k, v]) => `${kind} ${k}=${v} ${k in have ? `is ${have[k]}` : "missing"}`);
    const mismatched = [
        ...differs("label", want.labels, obj.metadata.labels),
        ...differs("annotation", want.annotations, obj.metadata.annotations),
    ];
    if (mismatched.length > 0) reasons.push(`not the program's metadata: ${mismatched.join("; ")}`);
    else evidence.push(`the program's ${Object.keys(want.labels).length} labels and annotations`);
    return reasons.length > 0 ? { kind: "foreign", reasons } : { kind: "adopt", evidence };
}

/** A Helm release against its pending create: Helm's release records in the namespace, oldest first. */
export function judgeRelease(op: PendingOperation, records: ClusterObject[], updateStarted: Date | undefined): Verdict {
    const release = op.resource.inputs?.name;
    const own = records
        .filter((r) => r.metadata.labels?.owner === "helm" && r.metadata.labels?.name === release)
        .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""));
    if (own.length === 0) return { kind: "absent" };
    const first = own[0];
    const late = createdAfter(first.metadata.creationTimestamp, updateStarted);
    if (late)
        return {
            kind: "foreign",
            reasons: [
                `release ${release}'s first record ${first.metadata.name}: ${late}: installed before this update`,
            ],
        };
    return {
        kind: "adopt",
        evidence: [
            `Helm's record ${first.metadata.name} (owner=helm, name=${release})`,
            `created ${first.metadata.creationTimestamp}, after the update started`,
            `${own.length} revision${own.length === 1 ? "" : "s"}`,
        ],
    };
}

/** A Helm release record (`sh.helm.release.v1.<release>.v<n>`) Helm left locked: pending-install, -upgrade or -rollback. */
export function pendingRecords(records: ClusterObject[]): ClusterObject[] {
    return records.filter((r) => /^pending-/.test(r.metadata.labels?.status ?? ""));
}

/**
 * Whether a pending Helm record is the interrupted update's own: Helm marks a revision pending
 * while it applies it and clears the mark when done; a revision the killed update started stays
 * pending forever, and Helm then refuses every later change ("another operation is in progress").
 * Only a record made after the interrupted update started is that update's; an older one is
 * someone else's operation, perhaps running.
 */
export function judgePending(record: ClusterObject, updateStarted: Date | undefined): { ours: boolean; why: string } {
    const late = createdAfter(record.metadata.creationTimestamp, updateStarted);
    const what = `${record.metadata.name} (${record.metadata.labels?.status})`;
    return late
        ? { ours: false, why: `${what}: ${late}` }
        : { ours: true, why: `${what}: made ${record.metadata.creationTimestamp}, by the interrupted update` };
}
