// The README's "Deploy for real" shows what the real CLI printed for dev's `pulumi preview` with the
// pack and its `pulumi up`, and docs/outputs.md the outputs `pulumi up` printed. Those samples cannot be rendered offline (npm run readme), so the
// real-engine suite holds them: each run of dev compares the page's block with what the CLI printed
// in that run, and `npm run test:cluster -- --write-docs` writes it.
import * as fs from "fs";
import * as path from "path";
import { CheckFailed } from "../e2e/report";
import { README } from "../../offline/readme";
import { PROJECT_DIR } from "../../offline/stack-config";
import type { Harness } from "./harness";

/** A captured sample: the commands as a user types them (the suite adds --stack and --event-log). */
interface Captured {
    name: string;
    file: string;
    steps: { step: string; command: string; keep: string[] }[];
}

export const CAPTURED: Captured[] = [
    {
        name: "deploy-dev",
        file: README,
        steps: [
            {
                step: "preview with the policy pack",
                command: "pulumi preview --policy-pack policies",
                keep: ["Policies", "Resources"],
            },
            { step: "up", command: "pulumi up --yes --skip-preview", keep: ["Resources", "Duration"] },
        ],
    },
    {
        // The stack outputs as `pulumi up` prints them at its end: one screen (docs/outputs.md).
        name: "outputs-dev",
        file: path.join(PROJECT_DIR, "docs", "outputs.md"),
        steps: [{ step: "up", command: "pulumi up --yes --skip-preview", keep: ["Outputs", "Resources"] }],
    },
];

const begin = (name: string) => `<!-- captured:${name} -->`;
const end = (name: string) => `<!-- /captured:${name} -->`;

/**
 * The CLI's output by its sections ("Previewing update (dev):", "Policies:", "Outputs:",
 * "Resources:", "Duration: 30s"): the sections named in `keep` whole, the others as a count of
 * their lines (one per resource event, progress and output value).
 */
export function fold(text: string, keep: string[]): string {
    const out: string[] = [];
    let folded = 0;
    let keeping = false;
    const flush = () => {
        if (folded > 0) out.push(`  … ${folded} more line${folded === 1 ? "" : "s"}`, "");
        folded = 0;
    };
    for (const line of text.split("\n")) {
        if (/^[A-Z][^:]*:$|^Duration: /.test(line)) {
            flush();
            if (out.length > 0 && out[out.length - 1] !== "") out.push("");
            keeping = keep.some((k) => line.startsWith(k));
            out.push(line);
        } else if (keeping) out.push(line);
        else if (line.trim() !== "") folded++;
    }
    flush();
    return out.join("\n").trimEnd();
}

/** The block as the CLI printed it in this run, the per-resource lines folded. */
function render(h: Harness, stack: string, c: Captured): string {
    const parts = c.steps.map((s) => {
        const printed = h.report.printed.get(`${stack}: ${s.step}`);
        if (printed === undefined) throw new CheckFailed(`no output of "${s.step}" in this run`);
        return `$ ${s.command}\n${fold(printed.trimEnd(), s.keep)}`;
    });
    return `\n\`\`\`\n${parts.join("\n\n")}\n\`\`\`\n`;
}

/**
 * What may differ from run to run and still be the same output: times, and how many progress
 * lines the CLI printed while it waited (it prints one every few seconds).
 */
export function normalize(text: string): string {
    return text
        .replace(/\b(\d+h)?(\d+m)?\d+(\.\d+)?s\b/g, "<time>")
        .replace(/… \d+ more lines?/g, "… more lines")
        .trim();
}

function block(text: string, name: string): { at: number; body: string } | undefined {
    const a = text.indexOf(begin(name));
    const b = text.indexOf(end(name));
    if (a < 0 || b < a) return undefined;
    return { at: a + begin(name).length, body: text.slice(a + begin(name).length, b) };
}

/** Each captured block of dev against this run's output; with `write`, the blocks are rewritten. */
export async function checkCaptured(h: Harness, stack: string, write: boolean): Promise<void> {
    for (const c of CAPTURED)
        await h.report.check(
            `${stack}: the captured output on ${c.file.split("/").pop()} (${c.name}) is what the CLI printed`,
            () => {
                const text = fs.readFileSync(c.file, "utf8");
                const found = block(text, c.name);
                if (!found) throw new CheckFailed(`${c.file} has no ${begin(c.name)} … ${end(c.name)} block`);
                const now = render(h, stack, c);
                if (write) {
                    fs.writeFileSync(c.file, text.slice(0, found.at) + now + text.slice(found.at + found.body.length));
                    return `written (${now.split("\n").length} lines)`;
                }
                if (normalize(found.body) !== normalize(now))
                    throw new CheckFailed(
                        `the page shows:\n${found.body}\nthe CLI printed (abridged):\n${now}\n(npm run test:cluster -- --write-docs writes it)`,
                    );
                return `${now.split("\n").length} lines, the same but for times and the count of progress lines`;
            },
        );
}
