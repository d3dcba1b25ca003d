// npm run test:e2e: the end-to-end suite on the real software (tests/e2e/main.ts), run compiled
// through the launcher like the other tools. The suite loads only when it runs: `--help` answers at once.
import { USAGE } from "../tests/e2e/usage";
import { loadsOnRun } from "./exit";

export const main = loadsOnRun(USAGE, async (argv, out, err) =>
    (await import("../tests/e2e/main")).main(argv, out, err),
);
