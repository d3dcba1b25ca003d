// The configuration reference of docs/configuration.md: one row per key of Pulumi.yaml, generated
// from components/config-schema.ts (type, default, description) and the stack files (what each
// stack sets), between markers in the page. `npm run sync-config` writes it; a test fails when the
// page differs, so every key is documented, once, as the program reads it.
import * as fs from "fs";
import * as path from "path";
import { CONFIG_KEYS, ConfigKey } from "../components/config-schema";
import { PROJECT_NAME } from "./pulumi-yaml";
import { listStacks, loadProject, Project, PROJECT_DIR, readStackFile, SHIPPED_STACKS } from "./stack-config";

export const CONFIG_PAGE = path.join(PROJECT_DIR, "docs", "configuration.md");
const BEGIN = "<!-- generated:config-keys -->";
const END = "<!-- /generated:config-keys -->";

/** The groups of the reference, by the key's prefix; the first group takes what no other does. */
const GROUPS: { title: string; matches: (key: string) => boolean }[] = [
    { title: "The stack: cluster, components, data", matches: () => true },
    {
        title: "Namespaces, storage and images",
        matches: (k) => /Namespace$|^storageClass$|^imageRegistryMirror$|^busyboxImage$|^curlImage$|Bucket$/.test(k),
    },
    { title: "Garage", matches: (k) => k.startsWith("garage") && !k.endsWith("Namespace") },
    { title: "PostgreSQL and the Hive Metastore", matches: (k) => /^(postgres|hiveMetastore)/.test(k) },
    { title: "Trino", matches: (k) => k.startsWith("trino") && !k.endsWith("Namespace") },
    { title: "Airbyte", matches: (k) => k.startsWith("airbyte") && !/Namespace$|Bucket$/.test(k) },
    {
        title: "Dagster and dbt",
        matches: (k) => (k.startsWith("dagster") && !k.endsWith("Namespace")) || k === "dbtSchema",
    },
];

function groupOf(key: string): string {
    const specific = GROUPS.slice(1).find((g) => g.matches(key));
    return (specific ?? GROUPS[0]).title;
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function shown(value: unknown): string {
    if (value === "" || (Array.isArray(value) && value.length === 0)) return "(unset)";
    if (typeof value === "object" && value !== null && "secure" in value) return "(secret)";
    return `\`${cell(typeof value === "string" ? value : JSON.stringify(value))}\``;
}

function typeOf(k: ConfigKey): string {
    return k.type === "array" ? `array of ${k.items?.type ?? "string"}` : k.type;
}

/**
 * The generated reference: a table per group, a row per key, the shipped stacks' values beside the
 * default (a team's own stack files change nothing here, so they never fail the docs' test).
 */
export function renderConfigReference(project: Project = loadProject()): string {
    const stacks = listStacks(project).filter((s) => (SHIPPED_STACKS as readonly string[]).includes(s));
    const values = Object.fromEntries(stacks.map((s) => [s, readStackFile(project, s).values]));
    const lines: string[] = [];
    for (const group of GROUPS) {
        const keys = Object.keys(CONFIG_KEYS).filter((k) => groupOf(k) === group.title);
        if (!keys.length) continue;
        lines.push(`### ${group.title}`, "");
        lines.push(`| key | type | default | set by the stacks | what |`, "|---|---|---|---|---|");
        for (const key of keys) {
            const k = CONFIG_KEYS[key as keyof typeof CONFIG_KEYS] as ConfigKey;
            const set = stacks
                .filter((s) => `${PROJECT_NAME}:${key}` in values[s])
                .map((s) => `${s}: ${shown(values[s][`${PROJECT_NAME}:${key}`])}`);
            lines.push(
                `| <a id="${key.toLowerCase()}"></a>\`${key}\` | ${typeOf(k)} | ${shown(k.default)} | ${cell(set.join("; ")) || "—"} | ${cell(k.description)} |`,
            );
        }
        lines.push("");
    }
    return lines.join("\n");
}

/** docs/configuration.md with its generated block rewritten from the code. */
export function renderConfigPage(text = fs.readFileSync(CONFIG_PAGE, "utf8")): string {
    const a = text.indexOf(BEGIN);
    const b = text.indexOf(END);
    if (a < 0 || b < a) throw new Error(`docs/configuration.md has no ${BEGIN} ... ${END} block`);
    return `${text.slice(0, a + BEGIN.length)}\n\n${renderConfigReference()}\n${text.slice(b)}`;
}
