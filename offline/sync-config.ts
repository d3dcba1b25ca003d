// Writes Pulumi.yaml from components/config-schema.ts (see pulumi-yaml.ts).
import * as fs from "fs";
import * as path from "path";
import { renderPulumiYaml } from "./pulumi-yaml";
import { PROJECT_DIR } from "./stack-config";

const file = path.join(PROJECT_DIR, "Pulumi.yaml");
fs.writeFileSync(file, renderPulumiYaml());
console.log(`wrote ${path.relative(process.cwd(), file) || file}`);
