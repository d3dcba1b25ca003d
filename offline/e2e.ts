// npm run test:e2e: the end-to-end suite on the real software (tests/e2e/main.ts), run compiled
// through the launcher like the other tools. The suite loads only when it runs: `--help` answers at once.
import { USAGE } from "../tests/e2e/usage";
import { answersHelp, EXIT } from "./exit";

export async function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): Promise<number> {
    if (answersHelp(argv, USAGE, out)) return EXIT.ok;
    return (await import("../tests/e2e/main")).main(argv, out, err);
}
