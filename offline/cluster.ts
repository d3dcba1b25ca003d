// npm run test:cluster: the real-engine suite (tests/cluster/main.ts), run compiled through the
// launcher like the other tools. `--help` answers without loading the suite.
import { USAGE } from "../tests/cluster/usage";
import { answersHelp, EXIT } from "./exit";

export async function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): Promise<number> {
    if (answersHelp(argv, USAGE, out)) return EXIT.ok;
    return (await import("../tests/cluster/main")).main(argv, out, err);
}
