// npm run down:local (tests/cluster/local.ts), through the launcher; `--help` answers at once.
import { DOWN_USAGE } from "../tests/cluster/local-usage";
import { answersHelp, EXIT } from "./exit";

export async function main(argv: string[], out: (s: string) => void = console.log): Promise<number> {
    if (answersHelp(argv, DOWN_USAGE, out)) return EXIT.ok;
    return (await import("../tests/cluster/local")).down(out);
}
