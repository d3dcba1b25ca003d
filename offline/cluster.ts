// npm run test:cluster: the real-engine suite (tests/cluster/main.ts), run compiled through the
// launcher like the other tools. `--help` answers without loading the suite.
import { USAGE } from "../tests/cluster/usage";
import { loadsOnRun } from "./exit";

export const main = loadsOnRun(USAGE, async (argv, out, err) =>
    (await import("../tests/cluster/main")).main(argv, out, err),
);
