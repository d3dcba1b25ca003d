// Renders `Pulumi.yaml` from the config schema in code, so the CLI declares, fills and
// type-checks exactly the keys and defaults the program applies. `npm run sync-config` writes it;
// a test fails when the committed file differs.
import { dump } from "js-yaml";
import { CONFIG_KEYS } from "../components/config-schema";

export const PROJECT_NAME = "lakehouse-platform";

export function renderPulumiYaml(): string {
    const header = [
        "# The lakehouse platform: Garage, Hive Metastore (+ PostgreSQL), Trino, Airbyte and Dagster on Kubernetes.",
        "# The config block is generated from components/config-schema.ts: edit it there, then `npm run sync-config`.",
        "",
    ].join("\n");
    const project = {
        name: PROJECT_NAME,
        description: "An open-source lakehouse on Kubernetes that proves its own wiring",
        // JavaScript: package.json's `main` (program.js) runs the compiled program, or the
        // TypeScript through ts-node when a source is newer than the build.
        runtime: { name: "nodejs", options: { typescript: false, packagemanager: "npm" } },
        config: Object.fromEntries(
            Object.entries(CONFIG_KEYS).map(([key, k]) => [
                key,
                {
                    type: k.type,
                    ...("items" in k ? { items: k.items } : {}),
                    description: k.description,
                    ...("default" in k ? { default: k.default } : {}),
                },
            ]),
        ),
    };
    return header + dump(project, { lineWidth: -1, noRefs: true });
}
