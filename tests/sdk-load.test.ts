// The SDK as the offline tools and the tests load it (policies/lib/sdk-load.ts): without npm's Arborist
// until something uses it, and then the real module.
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { arboristFile } from "../policies/lib/sdk-load";

describe("the Pulumi SDK, loaded offline", () => {
    it("loads Arborist on first use only, and then the real module: closure serialization still finds it", () => {
        assert.ok(pulumi.runtime.computeCodePaths, "the SDK is loaded");
        const file = arboristFile();
        const cached = require.cache[file];
        assert.ok(cached, "the SDK's import of Arborist is in the module cache");
        // What the SDK holds (its `arborist` binding is this object: it says __esModule).
        const held = cached.exports as { __esModule?: boolean; Arborist?: unknown };
        assert.equal(held.__esModule, true);
        assert.equal(require.cache[file], cached, "reading __esModule does not load Arborist");
        // The SDK's first use (`new arborist.Arborist(...)` in computeCodePaths) gets the real class.
        const Arborist = held.Arborist as { name?: string } | undefined;
        assert.equal(typeof Arborist, "function");
        assert.equal(Arborist?.name, "Arborist");
        const real = require.cache[file];
        assert.ok(real && real !== cached, "the real module replaced the stand-in");
        assert.equal((real.exports as { Arborist?: unknown }).Arborist, Arborist);
    });
});
