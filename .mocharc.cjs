// mocha's configuration. The suite runs in parallel, one worker per core; mocha hands the files
// to the workers in this order, so the longest (measured: processes of their own, the pack over
// its protocol, a real PostgreSQL) go first and the two workers finish together. Every other test
// file follows, in name order.
const fs = require("fs");
const path = require("path");

const LONGEST_FIRST = [
    "tests/docs.test.ts",
    "tests/commands.test.ts",
    "tests/exit-codes.test.ts",
    "tests/critical-path.test.ts",
    "tests/plan.test.ts",
    "tests/policies/stacks.test.ts",
    "tests/policies/protocol.test.ts",
    "tests/postgres-init.test.ts",
    "tests/rotation.test.ts",
    "tests/wiring-checks.test.ts",
    "tests/garage.test.ts",
];
const all = fs
    .readdirSync("tests", { recursive: true })
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => path.posix.join("tests", f.split(path.sep).join("/")))
    .sort();
const missing = LONGEST_FIRST.filter((f) => !all.includes(f));
if (missing.length > 0) throw new Error(`.mocharc.cjs names test files that do not exist: ${missing.join(", ")}`);

module.exports = {
    require: ["tests/setup.cjs"],
    extension: ["ts"],
    spec: [...LONGEST_FIRST, ...all.filter((f) => !LONGEST_FIRST.includes(f))],
    sort: false,
    parallel: true,
    jobs: 2,
    timeout: 30000,
    reporter: "spec",
};
