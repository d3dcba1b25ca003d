import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { load as parse } from "js-yaml";
import { ConfigError } from "../components/config";
import { CONFIG_KEYS } from "../components/config-schema";
import { isSecretValue } from "../offline/engine";
import { planOfRun } from "../offline/plan";
import { renderPulumiYaml } from "../offline/pulumi-yaml";
import { projectWith } from "./helpers/commands";
import { platformConfigOf, runStack } from "../offline/run-stack";
import {
    listStacks,
    loadProject,
    missingKeys,
    PROJECT_DIR,
    readStackFile,
    SECURE_PLACEHOLDER,
    StackFileError,
    stackConfig,
} from "../offline/stack-config";

function configError(fn: () => unknown): ConfigError {
    try {
        fn();
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
        return e;
    }
    assert.fail("accepted");
}

describe("Pulumi.yaml and the stack files", () => {
    const project = loadProject();

    it("Pulumi.yaml is the one generated from the config schema (run `npm run sync-config`)", () => {
        assert.equal(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8"), renderPulumiYaml());
    });

    it("declares every key with a type the CLI accepts and a description", () => {
        // The CLI's project schema allows string, integer, boolean and array (with items) only.
        const doc = parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8")) as {
            runtime: { name: string };
            config: Record<string, unknown>;
        };
        assert.equal(doc.runtime.name, "nodejs");
        assert.deepEqual(Object.keys(doc.config).sort(), Object.keys(CONFIG_KEYS).sort());
        for (const [key, decl] of Object.entries(
            doc.config as Record<string, { type: string; description: string; items?: object }>,
        )) {
            assert.ok(["string", "integer", "boolean", "array"].includes(decl.type), `${key}: ${decl.type}`);
            assert.ok(decl.description.length > 10, `${key} has no description`);
            if (decl.type === "array") assert.ok(decl.items, `${key} is an array without items`);
        }
    });

    it("has the dev, staging and prod stacks (and whatever stacks a user adds)", () => {
        for (const s of ["dev", "prod", "staging"]) assert.ok(listStacks(project).includes(s), s);
    });

    // Every stack file of the project, the shipped ones and any a user adds (a split stack copied from prod).
    for (const stack of listStacks(project)) {
        it(`${stack}: sets only declared keys, each of its declared type, and validates`, () => {
            const file = readStackFile(project, stack);
            assert.deepEqual(file.problems, []);
            for (const key of Object.keys(file.values)) {
                const [namespace, name] = key.split(":");
                assert.equal(namespace, project.name, `${key} belongs to another namespace`);
                assert.ok(name in CONFIG_KEYS, `${key} is not declared in Pulumi.yaml`);
            }
            assert.deepEqual(stackConfig(project, stack).problems, []);
            assert.doesNotThrow(() => platformConfigOf(stack));
        });
    }

    it("refuses values of the wrong type, all of them, with the program's own problems, in one report", () => {
        const err = configError(() =>
            platformConfigOf("dev", {
                "lakehouse-platform:garageReplicas": "three",
                "lakehouse-platform:components": "garage",
                "lakehouse-platform:trinoWorkers": 0,
            }),
        );
        assert.deepEqual(err.problems.map((p) => p.key).sort(), [
            "lakehouse-platform:components",
            "lakehouse-platform:garageReplicas",
            "lakehouse-platform:trinoWorkers",
        ]);
        assert.match(
            err.message,
            /lakehouse-platform:garageReplicas = "three": a value of the type integer that Pulumi\.yaml declares/,
        );
        assert.match(err.message, /lakehouse-platform:components = "garage": a value of the type array/);
        assert.match(err.message, /lakehouse-platform:trinoWorkers = "0": an integer from 1 to 500/);
        assert.match(err.message, /\(3 problems\)[\s\S]*No resource was registered\.$/);
    });

    it("refuses an unknown stack", () => {
        assert.throws(() => stackConfig(project, "qa"), /no stack "qa": Pulumi.qa.yaml does not exist/);
    });
});

describe("stack files as the CLI reads them", () => {
    it("refuses a file that is a list or a scalar, and a config: that is not a mapping, naming the file", () => {
        for (const [text, what] of [
            ["- a\n- b\n", "a list"],
            ["just text\n", "a string"],
            ["config:\n  - x\n", "config: holds a list"],
        ] as const) {
            const p = projectWith({ "Pulumi.x.yaml": text });
            const err = configError(() => platformConfigOf("x", {}, p));
            assert.match(err.message, new RegExp(`Pulumi\\.x\\.yaml.*${what}`), text);
        }
    });

    it("gives every key a default, so the CLI accepts a stack that sets only what it needs", () => {
        // The CLI stops before the program when a key declared without a default is unset:
        // "Stack 'dev' is missing configuration values ...". The real-engine suite runs the shipped
        // stacks through it with only a kubeconfig and the charts' sources set.
        const project = loadProject();
        const without = Object.entries(project.config).filter(([, k]) => k.default === undefined);
        assert.deepEqual(
            without.map(([name]) => name),
            [],
        );
        for (const stack of listStacks(project))
            assert.equal(missingKeys(project, readStackFile(project, stack).values, stack), undefined);
    });

    it("says what the CLI says when a declared key without a default is unset", () => {
        const p = projectWith({ "Pulumi.x.yaml": "config:\n  lakehouse-platform:kubeContext: kind-x\n" });
        const strict = {
            ...p,
            config: { ...p.config, a: { type: "string" as const }, b: { type: "string" as const } },
        };
        const problem = missingKeys(strict, readStackFile(strict, "x").values, "x");
        assert.match(problem?.expected ?? "", /"Stack 'x' is missing configuration values 'a' and 'b'"/);
        assert.deepEqual(stackConfig(strict, "x").problems, [problem]);
    });

    it("reads an empty file as a stack without config (as the CLI does), and says what is then missing", () => {
        const err = configError(() => platformConfigOf("x", {}, projectWith({ "Pulumi.x.yaml": "" })));
        assert.match(err.message, /lakehouse-platform:kubeContext \(not set\): set lakehouse-platform:kubeContext/);
    });

    it("names keys outside config:, even invalid ones, without their values", () => {
        const p = projectWith({
            "Pulumi.x.yaml":
                "lakehouse-platform:trinoWorkers: 3\nsecret-ish: hunter2\nconfig:\n  lakehouse-platform:kubeContext: kind-x\n",
        });
        const err = configError(() => platformConfigOf("x", {}, p));
        assert.match(
            err.message,
            /Pulumi\.x\.yaml: lakehouse-platform:trinoWorkers \(value not shown\): not a stack-file setting \(it looks like a config key: indent it under config:\)/,
        );
        assert.match(
            err.message,
            /Pulumi\.x\.yaml: secret-ish \(value not shown\): not a stack-file setting; the file takes config, secretsprovider/,
        );
        assert.ok(!err.message.includes("hunter2"));
    });

    it("names a misspelt project prefix and the provider's own keys, on a stack file and on --set", () => {
        const p = projectWith({
            "Pulumi.x.yaml":
                "config:\n  lakehouse-platform:kubeContext: kind-x\n  lakehouse-platfrom:trinoWorkers: 3\n",
        });
        const fromFile = configError(() => platformConfigOf("x", {}, p));
        assert.match(
            fromFile.message,
            /lakehouse-platfrom:trinoWorkers \(value not shown\): "lakehouse-platfrom" is not this project's name; did you mean lakehouse-platform:trinoWorkers\?/,
        );
        const fromSet = configError(() => platformConfigOf("dev", { "kubernetes:context": "other" }));
        assert.match(
            fromSet.message,
            /kubernetes:context \(value not shown\): not read: .*lakehouse-platform:kubeContext; set that key instead/,
        );
    });

    it("names the file, line and column of a YAML mistake (unclosed [, a tab, a duplicate key)", () => {
        const cases: [string, RegExp][] = [
            [
                "config:\n  lakehouse-platform:components: [garage\n",
                /^Pulumi\.x\.yaml:3:1: .*the file is not valid YAML$/,
            ],
            ["config:\n\tlakehouse-platform:kubeContext: x\n", /^Pulumi\.x\.yaml:2:1: .*tab/],
            [
                "config:\n  lakehouse-platform:kubeContext: a\n  lakehouse-platform:kubeContext: b\n",
                /^Pulumi\.x\.yaml:3:3: duplicated mapping key/,
            ],
        ];
        for (const [text, expected] of cases) {
            const p = projectWith({ "Pulumi.x.yaml": text });
            assert.throws(
                () => stackConfig(p, "x"),
                (e: unknown) => e instanceof StackFileError && expected.test(e.message),
                text,
            );
        }
    });

    it("accepts secure: values as the CLI does (a placeholder, marked secret), and a secure kubeconfig plans offline, masked", async () => {
        const p = projectWith({
            "Pulumi.x.yaml":
                "config:\n  lakehouse-platform:kubeconfig:\n    secure: v1:Zm9vYmFyYmF6c2VjcmV0\n  lakehouse-platform:networkPolicies: false\n",
        });
        const sc = stackConfig(p, "x");
        assert.deepEqual(sc.problems, []);
        assert.equal(sc.config["lakehouse-platform:kubeconfig"], SECURE_PLACEHOLDER);
        assert.deepEqual(sc.secretKeys, ["lakehouse-platform:kubeconfig"]);
        // One run, and its plan as `npm run plan` makes it.
        const run = await runStack("x", { project: p });
        const plan = await planOfRun(run, platformConfigOf("x", {}, p));
        assert.equal(plan.summary.mandatory, 0);
        const provider = plan.resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
        assert.equal(provider.inputs.kubeconfig, "[secret]");
        assert.ok(!JSON.stringify(plan).includes("Zm9vYmFyYmF6c2VjcmV0"));
        const inputs = run.resources.find((r) => r.type === "pulumi:providers:kubernetes")!.inputs;
        assert.ok(isSecretValue(inputs.kubeconfig), "the kubeconfig reaches the provider as a secret");
    });

    it("never shows a secure value under a misspelt key", () => {
        const p = projectWith({
            "Pulumi.x.yaml":
                "config:\n  lakehouse-platform:kubeContext: kind-x\n  lakehouse-platform:kubeconfg:\n    secure: v1:c2VjcmV0LWNpcGhlcnRleHQ=\n",
        });
        const err = configError(() => platformConfigOf("x", {}, p));
        assert.match(
            err.message,
            /lakehouse-platform:kubeconfg \(value not shown\): not a key of this project; did you mean lakehouse-platform:kubeconfig\?/,
        );
        assert.ok(!err.message.includes("c2VjcmV0"));
        assert.ok(!err.message.includes(SECURE_PLACEHOLDER));
    });
});
