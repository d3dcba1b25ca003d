// npm run up:local (tests/cluster/local.ts), through the launcher; `--help` answers at once.
import { UP_USAGE } from "../tests/cluster/local-usage";
import { loadsOnRun } from "./exit";

export const main = loadsOnRun(UP_USAGE, async (argv, out, err) =>
    (await import("../tests/cluster/local")).up(argv, out, err),
);
