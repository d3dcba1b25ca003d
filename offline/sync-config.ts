// Writes what is generated from the code: Pulumi.yaml and docs/configuration.md's key reference
// (from components/config-schema.ts). The policy pack has no per-stack file to write: under the
// CLI it reads the stack's settings from the stack's own config (policies/lib/config.ts).
import * as fs from "fs";
import * as path from "path";
import { answersHelp, EXIT } from "./exit";
import { CONFIG_PAGE, renderConfigPage } from "./docs-config";
import { renderPulumiYaml } from "./pulumi-yaml";
import { PROJECT_DIR } from "./stack-config";

const USAGE = `usage: npm run sync-config

Writes what is generated from the code: Pulumi.yaml's config block and the key reference of
docs/configuration.md (from components/config-schema.ts). Tests fail when either is out of
date.`;

export function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): number {
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
    return EXIT.ok;
}
