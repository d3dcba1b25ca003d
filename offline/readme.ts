// npm run readme: the sample outputs of the README, CONTRIBUTING.md and the pages of docs/,
// produced by the real commands and written between their markers (`<!-- sample:NAME -->` ...
// `<!-- /sample:NAME -->`), so every page shows what a user sees. A test fails when a sample
// differs from what the command prints now, when a page names a sample that does not exist, or
// when a sample is on no page.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { answersHelp, EXIT } from "./exit";
import { PROJECT_DIR } from "./stack-config";

// The commands load when a sample runs: `--help` answers without loading the SDK.
type Command = (argv: string[], out: (s: string) => void, err: (s: string) => void) => Promise<number>;
const plan: Command = async (...a) => (await import("./plan-cli")).main(...a);
const check: Command = async (...a) => (await import("./check")).main(...a);

export const README = path.join(PROJECT_DIR, "README.md");
export const DOCS_DIR = path.join(PROJECT_DIR, "docs");
/** Where the policy pack's examples are: `<policy>/fail.json` and `<policy>/pass.json`. */
export const POLICY_EXAMPLES = path.join(DOCS_DIR, "policy-examples");

/** Every page with samples or links: the README, CONTRIBUTING.md and docs/*.md. */
export function pages(): string[] {
    return [
        README,
        path.join(PROJECT_DIR, "CONTRIBUTING.md"),
        ...fs
            .readdirSync(DOCS_DIR)
            .filter((f) => f.endsWith(".md"))
            .sort()
            .map((f) => path.join(DOCS_DIR, f)),
    ].filter((f) => fs.existsSync(f));
}

const USAGE =
    "usage: npm run readme\n\nRewrites the sample outputs (<!-- sample:NAME --> blocks) of the README, CONTRIBUTING.md and docs/*.md from the real commands.";

async function capture(fn: Command, argv: string[]): Promise<string> {
    const lines: string[] = [];
    const code = await fn(
        argv,
        (s) => lines.push(s),
        (s) => lines.push(s),
    );
    return `${lines.join("\n")}\n(exit ${code})`;
}

/**
 * The plan's text with the rows of some sections folded to a count: the header, every section's
 * title line, the rows of the sections named in `keep`, and the result, as the command printed them.
 */
export function abridge(text: string, keep: string[] = []): string {
    const out: string[] = [];
    let folded = 0;
    let keeping = true;
    for (const line of text.split("\n")) {
        if (/^[A-Z(][^ ]/.test(line) && out.length > 0) {
            // A section's title (or the exit line): what was folded before it is counted.
            if (folded > 0) out.push(`  … ${folded} more line${folded === 1 ? "" : "s"}`, "");
            folded = 0;
            keeping = keep.some((k) => line.startsWith(k)) || line.startsWith("(exit");
            out.push(line);
        } else if (keeping) {
            out.push(line);
        } else if (line !== "") {
            folded++;
        }
    }
    return out.join("\n");
}

export interface Sample {
    command: string;
    run: () => Promise<string>;
}

/** The policy pack's examples: for each policy a resources file it fails and one it passes. */
function policySamples(): Record<string, Sample> {
    if (!fs.existsSync(POLICY_EXAMPLES)) return {};
    const out: Record<string, Sample> = {};
    for (const policy of fs.readdirSync(POLICY_EXAMPLES).sort())
        for (const kind of ["fail", "pass"]) {
            const file = path.join("docs", "policy-examples", policy, `${kind}.json`);
            out[`policy-${policy}-${kind}`] = {
                command: `npm run check -- ${file}`,
                run: () => capture(check, [file]),
            };
        }
    return out;
}

/** Each sample: the command a user types, and what it prints. */
export function samples(): Record<string, Sample> {
    return {
        "plan-dev": { command: "npm run plan", run: () => capture(plan, []) },
        "plan-dev-abridged": {
            command: "npm run plan",
            run: async () => abridge(await capture(plan, []), ["lakehouse-platform", "Result"]),
        },
        "plan-mirror-images": {
            command: "npm run plan -- --stack prod --set imageRegistryMirror=registry.example.com/lakehouse",
            run: async () =>
                abridge(
                    await capture(plan, [
                        "--stack",
                        "prod",
                        "--set",
                        "imageRegistryMirror=registry.example.com/lakehouse",
                    ]),
                    ["lakehouse-platform", "Images", "Result"],
                ),
        },
        "config-error": {
            command: "npm run plan -- --set trinoNamespace=Trino --set garageReplicas=0 --set kubeconfg=~/.kube/lab",
            run: () =>
                capture(plan, [
                    "--set",
                    "trinoNamespace=Trino",
                    "--set",
                    "garageReplicas=0",
                    "--set",
                    "kubeconfg=~/.kube/lab",
                ]),
        },
        "chart-version-refused": {
            command: "npm run plan -- --set trinoChartVersion=1.43.0 --set airbyteChartVersion=2.3.0",
            run: () => capture(plan, ["--set", "trinoChartVersion=1.43.0", "--set", "airbyteChartVersion=2.3.0"]),
        },
        "data-guard-refusal": {
            command:
                "npm run plan -- --stack staging --set garageDataSize=30Gi --ref organization/lakehouse-platform/staging=deployed.json",
            run: async () => {
                // What is deployed: the stack as its files say, planned first.
                const deployed = path.join(
                    fs.mkdtempSync(path.join(os.tmpdir(), "lakehouse-readme-")),
                    "deployed.json",
                );
                await capture(plan, ["--stack", "staging", "--json", deployed]);
                return capture(plan, [
                    "--stack",
                    "staging",
                    "--set",
                    "garageDataSize=30Gi",
                    "--ref",
                    `organization/lakehouse-platform/staging=${deployed}`,
                ]);
            },
        },
        "check-short-name": {
            command: "npm run check -- tests/fixtures/resources/short-name.json",
            run: () => capture(check, [path.join("tests", "fixtures", "resources", "short-name.json")]),
        },
        ...policySamples(),
    };
}

const MARKER = /<!-- sample:([a-z0-9-]+) -->/g;

/** The names of the samples a page shows. */
export function samplesOn(text: string): string[] {
    return [...text.matchAll(MARKER)].map((m) => m[1]);
}

/** A page with every sample block replaced by the command's current output. */
export async function renderSamples(text: string, all: Record<string, Sample> = samples()): Promise<string> {
    let out = text;
    for (const name of samplesOn(text)) {
        const sample = all[name];
        if (!sample) throw new Error(`no sample named ${name} (offline/readme.ts lists them)`);
        const begin = `<!-- sample:${name} -->`;
        const end = `<!-- /sample:${name} -->`;
        const a = out.indexOf(begin);
        const b = out.indexOf(end);
        if (b < a) throw new Error(`${begin} has no ${end} after it`);
        const body = `\n\`\`\`\n$ ${sample.command}\n${await sample.run()}\n\`\`\`\n`;
        out = out.slice(0, a + begin.length) + body + out.slice(b);
    }
    return out;
}

/** The README's samples (kept for callers that render one text). */
export function renderReadme(text: string): Promise<string> {
    return renderSamples(text);
}

export async function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): Promise<number> {
    if (answersHelp(argv, USAGE, out)) return EXIT.ok;
    if (argv.length > 0) {
        err("readme: takes no arguments");
        return EXIT.badInput;
    }
    // The samples name files relative to the project, as a user runs them from there.
    process.chdir(PROJECT_DIR);
    const all = samples();
    let count = 0;
    for (const page of pages()) {
        const text = fs.readFileSync(page, "utf8");
        const names = samplesOn(text);
        if (names.length === 0) continue;
        fs.writeFileSync(page, await renderSamples(text, all));
        count += names.length;
        out(`wrote ${path.relative(PROJECT_DIR, page)} (${names.length} samples)`);
    }
    out(`${count} samples`);
    return EXIT.ok;
}
