// npm run readme: the README's sample outputs, produced by the real commands and written between
// their markers (`<!-- sample:NAME -->` ... `<!-- /sample:NAME -->`), so the README shows what a
// user sees. A test fails when a sample differs from what the command prints now.
import * as fs from "fs";
import * as path from "path";
import { answersHelp, EXIT } from "./exit";
import { PROJECT_DIR } from "./stack-config";

// The commands load when a sample runs: `--help` answers without loading the SDK.
type Command = (argv: string[], out: (s: string) => void, err: (s: string) => void) => Promise<number>;
const plan: Command = async (...a) => (await import("./plan-cli")).main(...a);
const check: Command = async (...a) => (await import("./check")).main(...a);

export const README = path.join(PROJECT_DIR, "README.md");

const USAGE =
    "usage: npm run readme\n\nRewrites the README's sample outputs (<!-- sample:NAME --> blocks) from the real commands.";

async function capture(fn: Command, argv: string[]): Promise<string> {
    const lines: string[] = [];
    const code = await fn(
        argv,
        (s) => lines.push(s),
        (s) => lines.push(s),
    );
    return `${lines.join("\n")}\n(exit ${code})`;
}

/** Each sample: the command a user types, and what it prints. */
export const SAMPLES: Record<string, { command: string; run: () => Promise<string> }> = {
    "plan-dev": { command: "npm run plan", run: () => capture(plan, []) },
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
    "check-short-name": {
        command: "npm run check -- tests/fixtures/resources/short-name.json",
        run: () => capture(check, [path.join("tests", "fixtures", "resources", "short-name.json")]),
    },
};

/** The README with every sample block replaced by the command's current output. */
export async function renderReadme(text: string): Promise<string> {
    let out = text;
    for (const [name, sample] of Object.entries(SAMPLES)) {
        const begin = `<!-- sample:${name} -->`;
        const end = `<!-- /sample:${name} -->`;
        const a = out.indexOf(begin);
        const b = out.indexOf(end);
        if (a < 0 || b < a) throw new Error(`README.md has no ${begin} ... ${end} block`);
        const body = `\n\`\`\`\n$ ${sample.command}\n${await sample.run()}\n\`\`\`\n`;
        out = out.slice(0, a + begin.length) + body + out.slice(b);
    }
    return out;
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
    fs.writeFileSync(README, await renderReadme(fs.readFileSync(README, "utf8")));
    out(`wrote ${path.relative(process.cwd(), README)} (${Object.keys(SAMPLES).length} samples)`);
    return EXIT.ok;
}
