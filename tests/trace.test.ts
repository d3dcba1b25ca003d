// The bench's breakdown of a preview (tests/cluster/trace.ts), on a trace written as the CLI writes
// `--otel-traces file://...`: a batch of spans per line, per process.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { previewBreakdown, readTrace } from "./cluster/trace";
import { tmp } from "./helpers/commands";

const T0 = 1_765_000_000_000; // ms

function line(service: string, spans: [string, number, number][]): string {
    return JSON.stringify({
        resourceSpans: [
            {
                resource: { attributes: [{ key: "service.name", value: { stringValue: service } }] },
                scopeSpans: [
                    {
                        spans: spans.map(([name, start, end]) => ({
                            name,
                            startTimeUnixNano: String(BigInt(T0 + start) * 1_000_000n),
                            endTimeUnixNano: String(BigInt(T0 + end) * 1_000_000n),
                        })),
                    },
                ],
            },
        ],
    });
}

describe("the bench's breakdown of a preview, from the engine's trace", () => {
    const dir = tmp("trace");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "t.jsonl");
    fs.writeFileSync(
        file,
        [
            line("pulumi-cli", [
                ["pulumi", 0, 9000],
                ["pulumi-plan", 500, 8900],
                ["pulumirpc.LanguageRuntime/GetRequiredPackages", 550, 700],
                ["pulumirpc.Analyzer/Configure", 2400, 2410],
                ["pulumirpc.LanguageRuntime/Run", 2420, 8800],
                ["pulumirpc.ResourceProvider/Check", 5000, 5100],
                ["pulumirpc.ResourceProvider/Diff", 5100, 5130],
                ["pulumirpc.Analyzer/Analyze", 5130, 5140],
                ["pulumirpc.Analyzer/AnalyzeStack", 8810, 8850],
            ]),
            line("pulumi-sdk-nodejs", [["language-runtime.runProgram", 3500, 4700]]),
            "",
        ].join("\n"),
    );

    it("cuts the preview into the phases it waited for, which add up to the whole", () => {
        const b = previewBreakdown(readTrace(file));
        assert.deepEqual(
            b.phases.map((p) => Math.round(p.ms)),
            [500, 200, 1710, 1090, 1200, 4100, 200],
        );
        assert.equal(Math.round(b.phases.reduce((n, p) => n + p.ms, 0)), b.totalMs);
        assert.deepEqual(
            b.sums.map((s) => [s.calls, Math.round(s.ms)]),
            [
                [2, 130],
                [2, 50],
            ],
        );
    });

    it("says which span is missing from a trace it cannot cut", () => {
        fs.writeFileSync(file, line("pulumi-cli", [["pulumi", 0, 10]]) + "\n");
        assert.throws(() => previewBreakdown(readTrace(file)), /the trace has no span pulumi-plan of pulumi-cli/);
    });
});
