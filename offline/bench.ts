// npm run bench: what the plan and the policy gate cost, each target a ratio to a floor measured in
// the same run (offline/bench-run.ts). The benchmark loads only when it runs: `--help` answers at once.
import { EXIT } from "./exit";

const USAGE = `usage: npm run bench

Measures, in one run on this machine, the plan against the empty program, the pack's start against a
pack with no policies, policy evaluation against parsing and visiting the same resources, and the
pack's protocol against the pack with no policies; every target is a ratio (a few minutes).
Exit status: 0 every target met, 1 one missed, 2 bad arguments.`;

export async function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): Promise<number> {
    if (argv[0] === "--help" || argv[0] === "-h") {
        out(USAGE);
        return EXIT.ok;
    }
    if (argv.length > 0 && argv[0] !== "--child") {
        err(`bench: takes no arguments\n\n${USAGE}`);
        return EXIT.badInput;
    }
    return (await import("./bench-run")).run(argv, out);
}
