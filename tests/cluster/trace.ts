// Where a `pulumi preview` spends its time, from the engine's own trace (`--otel-traces
// file://...`: OTLP JSON, one batch of spans per line, written by the CLI, the language host, the
// program's SDK and the providers). The phases follow one another on the clock; the sums beside
// them are work that overlaps the last ones (the providers' and the pack's calls).
import * as fs from "fs";

export interface Span {
    /** The process that recorded it: pulumi-cli, pulumi-language-nodejs, pulumi-sdk-nodejs, kubernetes, ... */
    service: string;
    name: string;
    startMs: number;
    endMs: number;
}

interface OtlpLine {
    resourceSpans?: {
        resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
        scopeSpans?: { spans?: { name: string; startTimeUnixNano: string; endTimeUnixNano: string }[] }[];
    }[];
}

/** The spans of a trace file, in milliseconds since the epoch. */
export function readTrace(file: string): Span[] {
    const spans: Span[] = [];
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        if (line.trim() === "") continue;
        for (const rs of (JSON.parse(line) as OtlpLine).resourceSpans ?? []) {
            const service =
                rs.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue ?? "unknown";
            for (const ss of rs.scopeSpans ?? [])
                for (const s of ss.spans ?? [])
                    spans.push({
                        service,
                        name: s.name,
                        startMs: Number(BigInt(s.startTimeUnixNano) / 1000n) / 1000,
                        endMs: Number(BigInt(s.endTimeUnixNano) / 1000n) / 1000,
                    });
        }
    }
    return spans;
}

export interface PreviewBreakdown {
    /** Consecutive phases, wall clock: what the preview waited for, in order. */
    phases: { phase: string; ms: number }[];
    /** Work summed over calls, overlapping the program's and the engine's phases. */
    sums: { what: string; calls: number; ms: number }[];
    totalMs: number;
}

/** The preview's phases from its trace; throws when a span the phases are cut at is missing. */
export function previewBreakdown(spans: Span[]): PreviewBreakdown {
    const one = (service: string, name: string, pick: "first" | "last" = "first"): Span => {
        const found = spans
            .filter((s) => s.service === service && s.name === name)
            .sort((a, b) => a.startMs - b.startMs);
        const s = pick === "first" ? found[0] : found[found.length - 1];
        if (!s) throw new Error(`the trace has no span ${name} of ${service}`);
        return s;
    };
    const root = one("pulumi-cli", "pulumi");
    const plan = one("pulumi-cli", "pulumi-plan");
    const packages = one("pulumi-cli", "pulumirpc.LanguageRuntime/GetRequiredPackages");
    const configured = one("pulumi-cli", "pulumirpc.Analyzer/Configure", "last");
    const run = one("pulumi-cli", "pulumirpc.LanguageRuntime/Run");
    const program = one("pulumi-sdk-nodejs", "language-runtime.runProgram");
    const cuts: [string, number][] = [
        ["the CLI's start, the language host's About (node --version, npm --version)", plan.startMs],
        ["the plugins the program needs (GetRequiredPackages)", packages.endMs],
        ["the policy pack's start (node, the SDK, TypeScript, the pack), to Configure", configured.endMs],
        ["the program's start (node, the SDK)", program.startMs],
        ["the program: its modules, its config, the resources it registers", program.endMs],
        ["the engine after the program: the providers' Check and Diff, the pack's Analyze", run.endMs],
        ["AnalyzeStack, the summary, the plugins' shutdown", root.endMs],
    ];
    let at = root.startMs;
    const phases = cuts.map(([phase, end]) => {
        const ms = Math.max(0, end - at);
        at = Math.max(at, end);
        return { phase, ms };
    });
    const sum = (what: string, match: (s: Span) => boolean) => {
        const found = spans.filter(match);
        return { what, calls: found.length, ms: found.reduce((n, s) => n + s.endMs - s.startMs, 0) };
    };
    const cli = (prefix: string) => (s: Span) => s.service === "pulumi-cli" && s.name.startsWith(prefix);
    return {
        phases,
        sums: [
            sum("the providers' calls (Check, Diff, Configure)", cli("pulumirpc.ResourceProvider/")),
            sum("the pack's calls (Analyze, Remediate, AnalyzeStack)", cli("pulumirpc.Analyzer/Analy")),
        ],
        totalMs: root.endMs - root.startMs,
    };
}
