// Writes what is generated from the code: Pulumi.yaml (from components/config-schema.ts), and the
// policy pack's configuration for each stack (policies/config/<stack>.json, from the stack files).
import * as fs from "fs";
import * as path from "path";
import { answersHelp, EXIT } from "./exit";
import { CONFIG_PAGE, renderConfigPage } from "./docs-config";
import { renderPulumiYaml } from "./pulumi-yaml";
import { listStacks, loadProject, PROJECT_DIR } from "./stack-config";

export const POLICY_CONFIG_DIR = path.join(PROJECT_DIR, "policies", "config");

export async function renderPolicyConfig(stack: string): Promise<string> {
    // Loaded here, not with the module: `--help` answers without loading the SDK the program needs.
    const [{ POLICIES }, { platformConfigOf, stackPolicyDoc }] = await Promise.all([
        import("../policies/policies"),
        import("./run-stack"),
    ]);
    // The policies are listed from the pack's own module here; the pack declares the same over GetAnalyzerInfo.
    return JSON.stringify(stackPolicyDoc(platformConfigOf(stack), POLICIES), null, 2) + "\n";
}

const USAGE = `usage: npm run sync-config

Writes what is generated from the code: Pulumi.yaml's config block and the key reference of
docs/configuration.md (from components/config-schema.ts) and the policy pack's configuration of every stack (policies/config/<stack>.json). Tests fail when
either is out of date.`;

export async function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): Promise<number> {
    if (answersHelp(argv, USAGE, out)) return EXIT.ok;
    if (argv.length > 0) {
        err(`sync-config: takes no arguments\n\n${USAGE}`);
        return EXIT.badInput;
    }
    const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, text);
        out(`wrote ${path.relative(PROJECT_DIR, file)}`);
    };
    write(path.join(PROJECT_DIR, "Pulumi.yaml"), renderPulumiYaml());
    write(CONFIG_PAGE, renderConfigPage());
    for (const stack of listStacks(loadProject()))
        write(path.join(POLICY_CONFIG_DIR, `${stack}.json`), await renderPolicyConfig(stack));
    return EXIT.ok;
}
