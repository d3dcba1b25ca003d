// What the Pulumi CLI does with `Pulumi.yaml` and `Pulumi.<stack>.yaml` before it starts the
// program: check each stack value against the declared type, fill declared defaults, and pass
// every value as a string (arrays and objects as JSON) under its fully qualified key.
import * as fs from "fs";
import * as path from "path";
import { CORE_SCHEMA, load } from "js-yaml";

const parse = (text: string): unknown => load(text, { schema: CORE_SCHEMA });

export interface DeclaredKey {
    type: "string" | "integer" | "boolean" | "array";
    default?: unknown;
    description?: string;
    items?: { type: string };
}

export interface Project {
    name: string;
    dir: string;
    config: Record<string, DeclaredKey>;
}

/** A stack file that the CLI itself would refuse (unknown stack, wrong value type). */
export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

/** The project directory: the nearest one above this module with a Pulumi.yaml (from source or from `.build/`). */
function findProjectDir(start: string): string {
    for (let dir = start; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) return path.resolve(start, "..");
    }
}

export const PROJECT_DIR = findProjectDir(__dirname);

// Read once per process and file version: a plan reads the project for the config, the run and the policies.
const projects = new Map<string, { mtimeMs: number; project: Project }>();

export function loadProject(dir = PROJECT_DIR): Project {
    const file = path.join(dir, "Pulumi.yaml");
    const mtimeMs = fs.statSync(file).mtimeMs;
    const cached = projects.get(file);
    if (cached?.mtimeMs === mtimeMs) return cached.project;
    const doc = parse(fs.readFileSync(file, "utf8")) as { name: string; config?: Record<string, DeclaredKey> };
    const project = { name: doc.name, dir, config: doc.config ?? {} };
    projects.set(file, { mtimeMs, project });
    return project;
}

/** Stacks that have a `Pulumi.<stack>.yaml` in the project. */
export function listStacks(project: Project): string[] {
    return fs
        .readdirSync(project.dir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** The stack file's `config:` map (fully qualified keys, YAML-typed values). */
export function readStackFile(project: Project, stack: string): Record<string, unknown> {
    const file = path.join(project.dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        throw new StackFileError(`no stack "${stack}": ${path.basename(file)} does not exist (stacks here: ${listStacks(project).join(", ")})`);
    }
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    return doc.config ?? {};
}

function asConfigString(key: string, declared: DeclaredKey | undefined, value: unknown): string {
    if (declared === undefined) {
        return typeof value === "string" ? value : JSON.stringify(value);
    }
    const fail = () => new StackFileError(`${key}: ${JSON.stringify(value)} is not of the type ${declared.type} that Pulumi.yaml declares`);
    switch (declared.type) {
        case "string":
            if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
            throw fail();
        case "integer":
            if ((typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && /^-?\d+$/.test(value))) return String(value);
            throw fail();
        case "boolean":
            if (typeof value === "boolean" || value === "true" || value === "false") return String(value);
            throw fail();
        case "array":
            if (Array.isArray(value)) return JSON.stringify(value);
            throw fail();
    }
}

/**
 * The config map the CLI hands the program for `stack`: the stack file's values (type-checked)
 * over the declared defaults, plus `overrides` (keys as in the stack file, as `pulumi config set`;
 * `undefined` removes a key, as `pulumi config rm`).
 */
export function stackConfig(project: Project, stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
    const values = { ...readStackFile(project, stack), ...overrides };
    const config: Record<string, string> = {};
    for (const [key, declared] of Object.entries(project.config)) {
        if (declared.default !== undefined) config[`${project.name}:${key}`] = asConfigString(key, declared, declared.default);
    }
    for (const [fullKey, value] of Object.entries(values)) {
        const [namespace, key] = fullKey.includes(":") ? fullKey.split(/:(.*)/s, 2) : [project.name, fullKey];
        if (value === undefined) {
            // an override of `undefined` removes the key, as `pulumi config rm` would
            delete config[`${namespace}:${key}`];
            continue;
        }
        const declared = namespace === project.name ? project.config[key] : undefined;
        config[`${namespace}:${key}`] = asConfigString(fullKey, declared, value);
    }
    return config;
}
