// Watches the API server while an update runs: every Secret and ConfigMap that is deleted and then
// created again (a replacement) left its readers without it for that moment; every one deleted and
// never created again is gone, which only the plan may decide; every Job that completes is a
// wiring check (or an init) that ran. A watch proves continuity only if it saw every event: one
// that broke (an ERROR event, a stream the server closed, a failed connection) proves nothing
// about what happened after, and says so.
import { Kube, KubeObject } from "./kube";
import { planted } from "./plants";

export interface Gap {
    kind: string;
    id: string;
    /** Milliseconds between the deletion and the creation seen. */
    ms: number;
    /** A chart's Helm hook (`helm.sh/hook`): Helm itself deletes and creates it on every upgrade. */
    helmHook: boolean;
}

export class UpdateWatch {
    private readonly deleted = new Map<string, { at: number; helmHook: boolean }>();
    readonly gaps: Gap[] = [];
    /** `<Kind> <ns>/<name>` deleted and not created again by the end, with whether it was a Helm hook. */
    readonly removed: { id: string; helmHook: boolean }[] = [];
    readonly jobsCompleted = new Set<string>();
    /** Why a watch stopped seeing events before `stop()`: continuity not proven. */
    readonly breaks: string[] = [];
    private readonly stops: (() => void)[] = [];

    constructor(
        private readonly kube: Kube,
        private readonly namespaces: Set<string>,
    ) {}

    private key(kind: string, o: KubeObject): string {
        return `${kind} ${o.metadata.namespace}/${o.metadata.name}`;
    }

    /** Whether every watch saw every event from start to stop. */
    get proven(): boolean {
        return this.breaks.length === 0;
    }

    async start(): Promise<void> {
        const onBreak = (why: string) => this.breaks.push(`${new Date().toISOString()}: ${why}`);
        for (const kind of ["Secret", "ConfigMap"]) {
            const w = this.kube.watch(
                kind,
                (type, o) => {
                    if (!this.namespaces.has(o.metadata.namespace ?? "")) return;
                    const k = this.key(kind, o);
                    const helmHook = o.metadata.annotations?.["helm.sh/hook"] !== undefined;
                    if (type === "DELETED") this.deleted.set(k, { at: Date.now(), helmHook });
                    else if (type === "ADDED" && this.deleted.has(k)) {
                        this.gaps.push({
                            kind,
                            id: k.slice(kind.length + 1),
                            ms: Date.now() - this.deleted.get(k)!.at,
                            helmHook,
                        });
                        this.deleted.delete(k);
                    }
                },
                onBreak,
            );
            this.stops.push(w.stop);
            await w.ready;
            // Planted (missed-watch): the Secret stream dropped a second in, the events after it unseen.
            if (kind === "Secret" && planted("missed-watch")) setTimeout(w.drop, 1000).unref();
        }
        const jobs = this.kube.watch(
            "Job",
            (type, o) => {
                if (!this.namespaces.has(o.metadata.namespace ?? "")) return;
                const s = o.status as { succeeded?: number } | undefined;
                if (type !== "DELETED" && (s?.succeeded ?? 0) > 0)
                    this.jobsCompleted.add(`${o.metadata.namespace}/${o.metadata.name}@${o.metadata.uid}`);
            },
            onBreak,
        );
        this.stops.push(jobs.stop);
        await jobs.ready;
    }

    stop(): void {
        for (const s of this.stops) s();
        for (const [id, d] of this.deleted) this.removed.push({ id, helmHook: d.helmHook });
    }

    /**
     * What the watch cannot vouch for, given the objects the plan deletes (`<Kind> <ns>/<name>`):
     * every break, and every removal the plan does not make (a chart's hooks are Helm's).
     */
    problems(planned: Set<string>): string[] {
        return [
            ...this.breaks.map((b) => `continuity not proven: ${b}`),
            ...this.removed
                .filter((r) => !r.helmHook && !planned.has(r.id))
                .map((r) => `${r.id} deleted and never created again, which the plan does not do`),
        ];
    }
}
