// npm run down:local (tests/cluster/local.ts), through the launcher; `--help` answers at once.
import { DOWN_USAGE } from "../tests/cluster/local-usage";
import { loadsOnRun } from "./exit";

export const main = loadsOnRun(DOWN_USAGE, async (_argv, out, err) =>
    (await import("../tests/cluster/local")).down(out, err),
);
