// Watches the API server while an update runs: every Secret and ConfigMap that is deleted and then
// created again (a replacement) left its readers without it for that moment; every Job that
// completes is a wiring check (or an init) that ran.
import { Kube, KubeObject } from "./kube";

export interface Gap {
    kind: string;
    id: string;
    /** Milliseconds between the deletion and the creation seen. */
    ms: number;
    /** A chart's Helm hook (`helm.sh/hook`): Helm itself deletes and creates it on every upgrade. */
    helmHook: boolean;
}

export class UpdateWatch {
    private readonly deleted = new Map<string, number>();
    readonly gaps: Gap[] = [];
    readonly removed: string[] = [];
    readonly jobsCompleted = new Set<string>();
    private readonly stops: (() => void)[] = [];

    constructor(
        private readonly kube: Kube,
        private readonly namespaces: Set<string>,
    ) {}

    private key(kind: string, o: KubeObject): string {
        return `${kind} ${o.metadata.namespace}/${o.metadata.name}`;
    }

    async start(): Promise<void> {
        for (const kind of ["Secret", "ConfigMap"]) {
            const w = this.kube.watch(kind, (type, o) => {
                if (!this.namespaces.has(o.metadata.namespace ?? "")) return;
                const k = this.key(kind, o);
                if (type === "DELETED") this.deleted.set(k, Date.now());
                else if (type === "ADDED" && this.deleted.has(k)) {
                    this.gaps.push({
                        kind,
                        id: k.slice(kind.length + 1),
                        ms: Date.now() - this.deleted.get(k)!,
                        helmHook: o.metadata.annotations?.["helm.sh/hook"] !== undefined,
                    });
                    this.deleted.delete(k);
                }
            });
            this.stops.push(w.stop);
            await w.ready;
        }
        const jobs = this.kube.watch("Job", (type, o) => {
            if (!this.namespaces.has(o.metadata.namespace ?? "")) return;
            const s = o.status as { succeeded?: number } | undefined;
            if (type !== "DELETED" && (s?.succeeded ?? 0) > 0)
                this.jobsCompleted.add(`${o.metadata.namespace}/${o.metadata.name}@${o.metadata.uid}`);
        });
        this.stops.push(jobs.stop);
        await jobs.ready;
    }

    stop(): void {
        for (const s of this.stops) s();
        // What was deleted and never came back was removed on purpose (a retired key's Secret).
        this.removed.push(...this.deleted.keys());
    }
}
