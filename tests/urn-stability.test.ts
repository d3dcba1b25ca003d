// Renames keep deployed stacks: every URN a stack had in the previous release is a URN it has now,
// or an alias of one (Pulumi then updates the resource in place instead of replacing it). The
// fixtures list each stack's URNs as the release before the renames registered them.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { plannedStack } from "./helpers/stack";

const FIXTURES = path.join(__dirname, "fixtures", "urns");

describe("URN stability", () => {
    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: every URN of the previous release is kept, or aliased by the resource that replaces its name`, async () => {
            const before = fs
                .readFileSync(path.join(FIXTURES, `${stack}.txt`), "utf8")
                .split("\n")
                .filter((l) => l !== "" && !l.startsWith("#"));
            const plan = await plannedStack(stack);
            const now = new Set(plan.resources.map((r) => r.urn));
            const aliased = new Map(plan.resources.flatMap((r) => (r.aliases ?? []).map((a) => [a, r.urn] as const)));
            const lost = before.filter((urn) => !now.has(urn) && !aliased.has(urn));
            assert.deepEqual(lost, [], "URNs neither kept nor aliased: Pulumi would delete and recreate these");
            // The renamed ones are really renamed (each alias points at one resource, not at itself).
            const renamed = before.filter((urn) => !now.has(urn));
            for (const urn of renamed) assert.notEqual(aliased.get(urn), urn);
            assert.ok(renamed.length > 0, "the fixture predates the renames");
        });
    }
});
