// npm run up:local (tests/cluster/local.ts), through the launcher; `--help` answers at once.
import { UP_USAGE } from "../tests/cluster/local-usage";
import { answersHelp, EXIT } from "./exit";

export async function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): Promise<number> {
    if (answersHelp(argv, UP_USAGE, out)) return EXIT.ok;
    return (await import("../tests/cluster/local")).up(out, err);
}
