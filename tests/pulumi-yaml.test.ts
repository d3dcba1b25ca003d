import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { load as parse } from "js-yaml";
import { CONFIG_KEYS } from "../components/config-schema";
import { renderPulumiYaml } from "../offline/pulumi-yaml";
import { platformConfigOf } from "../offline/run-stack";
import { listStacks, loadProject, PROJECT_DIR, readStackFile, StackFileError, stackConfig } from "../offline/stack-config";

describe("Pulumi.yaml and the stack files", () => {
    const project = loadProject();

    it("Pulumi.yaml is the one generated from the config schema (run `npm run sync-config`)", () => {
        assert.equal(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8"), renderPulumiYaml());
    });

    it("declares every key with a type the CLI accepts and a description", () => {
        // The CLI's project schema allows string, integer, boolean and array (with items) only.
        const doc = parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as { runtime: { name: string }; config: Record<string, unknown> };
        assert.equal(doc.runtime.name, "nodejs");
        assert.deepEqual(Object.keys(doc.config).sort(), Object.keys(CONFIG_KEYS).sort());
        for (const [key, decl] of Object.entries(doc.config as Record<string, { type: string; description: string; items?: object }>)) {
            assert.ok(["string", "integer", "boolean", "array"].includes(decl.type), `${key}: ${decl.type}`);
            assert.ok(decl.description.length > 10, `${key} has no description`);
            if (decl.type === "array") assert.ok(decl.items, `${key} is an array without items`);
        }
    });

    it("has the dev, staging and prod stacks", () => {
        assert.deepEqual(listStacks(project), ["dev", "prod", "staging"]);
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: sets only declared keys, each of its declared type, and validates`, () => {
            for (const key of Object.keys(readStackFile(project, stack))) {
                const [namespace, name] = key.split(":");
                assert.equal(namespace, project.name, `${key} belongs to another namespace`);
                assert.ok(name in CONFIG_KEYS, `${key} is not declared in Pulumi.yaml`);
            }
            assert.doesNotThrow(() => stackConfig(project, stack));
            assert.doesNotThrow(() => platformConfigOf(stack));
        });
    }

    it("refuses a value of the wrong type, as the CLI does", () => {
        assert.throws(() => stackConfig(project, "dev", { "lakehouse-platform:garageReplicas": "three" }), StackFileError);
        assert.throws(() => stackConfig(project, "dev", { "lakehouse-platform:components": "garage" }), StackFileError);
    });

    it("refuses an unknown stack", () => {
        assert.throws(() => stackConfig(project, "qa"), /no stack "qa": Pulumi.qa.yaml does not exist/);
    });
});
