// The end-to-end suite's usage, apart from the suite: `npm run test:e2e -- --help` answers
// without loading the SDK, the program and the installers.
export const USAGE = `usage: npm run test:e2e -- [--stack <stack>] [--set key=value]... [--report FILE] [--keep] [--install-only]

Runs the stack's program offline, installs the pinned real software into a cache
(LAKEHOUSE_E2E_CACHE, default ~/.cache/lakehouse-platform-e2e), and runs PostgreSQL, Garage,
the Hive Metastore, Trino and dbt on this machine with the program's own files, each on a
loopback address of its own behind the stack's cluster names. Needs root (a private mount
namespace for /etc/hosts; PostgreSQL runs as the postgres user).

  --stack    the stack (default dev)
  --set      a config value over the stack file, as \`npm run plan\` takes it
  --report   where to write the JSON report (default e2e-report.json)
  --keep     keep the work directory (servers' logs and data) after a pass
  --install-only  install the software into the cache and stop (what .ci/warm runs)

Exit status: 0 every check passed, 1 a check failed, 2 bad input, 3 a failure of the suite.`;
