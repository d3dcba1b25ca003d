// What the Pulumi CLI does with `Pulumi.yaml` and `Pulumi.<stack>.yaml` before it starts the
// program: read the stack file (a mapping with `config:`), decrypt `secure:` values (offline: a
// placeholder, kept secret), check each value against the declared type, fill declared defaults,
// and pass every value as a string (arrays and objects as JSON) under its fully qualified key,
// with the list of keys that are secret. Every problem is collected, not just the first.
import * as fs from "fs";
import * as path from "path";
import { CORE_SCHEMA, load, YAMLException } from "js-yaml";
import type { ConfigProblem } from "../components/config";

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

/** A stack file the CLI itself would refuse to read (unknown stack, YAML it cannot parse). */
export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

/** What stands for a `secure:` value offline: the CLI would decrypt it; here it is a secret of unknown content. */
export const SECURE_PLACEHOLDER = "[secret]";

/** Top-level keys of a stack file, besides `config`, that the CLI reads. */
const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"];

/** YAML as the CLI reads it, or a StackFileError naming the file, line and column. */
export function parseYamlFile(file: string): unknown {
    const text = fs.readFileSync(file, "utf8");
    try {
        return load(text, { schema: CORE_SCHEMA, filename: path.basename(file) });
    } catch (e) {
        if (e instanceof YAMLException) {
            const at = e.mark ? `${path.basename(file)}:${e.mark.line + 1}:${e.mark.column + 1}` : path.basename(file);
            throw new StackFileError(`${at}: ${e.reason}; the file is not valid YAML`);
        }
        throw e;
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
    const doc = parseYamlFile(file) as { name: string; config?: Record<string, DeclaredKey> };
    const project = { name: doc.name, dir, config: doc.config ?? {} };
    projects.set(file, { mtimeMs, project });
    return project;
}

/** Stacks that have a `Pulumi.<stack>.yaml` in the project. */
/** The stacks this repository ships and documents; a team's own (`pulumi stack init mine`) sit beside them. */
export const SHIPPED_STACKS = ["dev", "staging", "prod"] as const;

export function listStacks(project: Project): string[] {
    return fs
        .readdirSync(project.dir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const kindOf = (v: unknown) =>
    v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "a mapping" : `a ${typeof v}`;

export interface StackFile {
    /** The file's `config:` map (fully qualified keys, YAML-typed values). */
    values: Record<string, unknown>;
    /** What is wrong with the file's shape: each problem names the file and the key. */
    problems: ConfigProblem[];
}

/** The stack file's `config:` map, and what is wrong with its shape. */
export function readStackFile(project: Project, stack: string): StackFile {
    const name = `Pulumi.${stack}.yaml`;
    const file = path.join(project.dir, name);
    if (!fs.existsSync(file))
        throw new StackFileError(
            `no stack "${stack}": ${name} does not exist (stacks here: ${listStacks(project).join(", ")})`,
        );
    const doc = parseYamlFile(file);
    const problems: ConfigProblem[] = [];
    // An empty file is a stack without config, as the CLI reads it.
    if (doc === null || doc === undefined) return { values: {}, problems };
    if (!isMap(doc)) {
        problems.push({
            key: name,
            expected: `the file holds ${kindOf(doc)}; a stack file is a mapping whose config: section holds the stack's keys`,
        });
        return { values: {}, problems };
    }
    for (const key of Object.keys(doc)) {
        if (STACK_FILE_KEYS.includes(key)) continue;
        const hint = key.includes(":") ? ` (it looks like a config key: indent it under config:)` : "";
        problems.push({
            key: `${name}: ${key}`,
            hidden: true,
            value: "",
            expected: `not a stack-file setting${hint}; the file takes ${STACK_FILE_KEYS.join(", ")}`,
        });
    }
    if (doc.config === undefined || doc.config === null) return { values: {}, problems };
    if (!isMap(doc.config)) {
        problems.push({
            key: `${name}: config`,
            expected: `config: holds ${kindOf(doc.config)}; it is a mapping of <project>:<key> to values`,
        });
        return { values: {}, problems };
    }
    return { values: doc.config, problems };
}

function isSecure(value: unknown): boolean {
    return isMap(value) && typeof value.secure === "string" && Object.keys(value).length === 1;
}

/** The value as the CLI passes it (a string), or a problem when it is not of the declared type. */
function asConfigString(
    key: string,
    declared: DeclaredKey | undefined,
    value: unknown,
    secret: boolean,
): { text?: string; problem?: ConfigProblem } {
    if (declared === undefined) return { text: typeof value === "string" ? value : JSON.stringify(value) };
    const fail = (): { problem: ConfigProblem } => ({
        problem: {
            key,
            value,
            expected: `a value of the type ${declared.type} that Pulumi.yaml declares`,
            ...(secret ? { hidden: true } : {}),
        },
    });
    switch (declared.type) {
        case "string":
            if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
                return { text: String(value) };
            return fail();
        case "integer":
            if (
                (typeof value === "number" && Number.isInteger(value)) ||
                (typeof value === "string" && /^-?\d+$/.test(value))
            )
                return { text: String(value) };
            return fail();
        case "boolean":
            if (typeof value === "boolean" || value === "true" || value === "false") return { text: String(value) };
            return fail();
        case "array":
            if (Array.isArray(value)) return { text: JSON.stringify(value) };
            return fail();
    }
}

/**
 * The CLI's first check, before the program runs: every key Pulumi.yaml declares without a
 * `default` (or `value`) must be set by the stack, or it stops with this message (pulumi
 * sdk/go/common/workspace/config.go, missingStackConfigurationKeysError).
 */
export function missingKeys(project: Project, values: Record<string, unknown>, stack = ""): ConfigProblem | undefined {
    const set = (key: string) => values[`${project.name}:${key}`] !== undefined || values[key] !== undefined;
    const missing = Object.keys(project.config)
        .filter((k) => project.config[k].default === undefined && !set(k))
        .sort();
    if (missing.length === 0) return undefined;
    const quoted = missing.map((k) => `'${k}'`);
    const list = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1]}`;
    return {
        key: `Pulumi.${stack}.yaml`,
        expected: `the CLI refuses the stack before the program runs: "Stack '${stack}' is missing configuration value${missing.length === 1 ? "" : "s"} ${list}"; set ${missing.length === 1 ? "it" : "them"} in the stack, or give Pulumi.yaml a default`,
    };
}

export interface StackConfig {
    /** What the CLI hands the program: fully qualified keys, string values (declared defaults filled). */
    config: Record<string, string>;
    /** Fully qualified keys whose values are secret (PULUMI_CONFIG_SECRET_KEYS). */
    secretKeys: string[];
    /** Every problem the CLI would have, in the file's shape and the values' types. */
    problems: ConfigProblem[];
}

/**
 * The config the CLI hands the program for `stack`: the stack file's values (type-checked) over
 * the declared defaults, plus `overrides` (keys as in the stack file, as `pulumi config set`;
 * `undefined` removes a key, as `pulumi config rm`). A value of the wrong type is left out of
 * `config` and reported in `problems`, with every other one.
 */
export function stackConfig(project: Project, stack: string, overrides: Record<string, unknown> = {}): StackConfig {
    const file = readStackFile(project, stack);
    const values = { ...file.values, ...overrides };
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    const problems = [...file.problems];
    for (const [key, declared] of Object.entries(project.config)) {
        if (declared.default !== undefined)
            config[`${project.name}:${key}`] = asConfigString(key, declared, declared.default, false).text!;
    }
    const missing = missingKeys(project, values, stack);
    if (missing) problems.push(missing);
    for (const [given, value] of Object.entries(values)) {
        const [namespace, key] = given.includes(":") ? given.split(/:(.*)/s, 2) : [project.name, given];
        const full = `${namespace}:${key}`;
        if (value === undefined) {
            // an override of `undefined` removes the key, as `pulumi config rm` would
            delete config[full];
            continue;
        }
        const declared = namespace === project.name ? project.config[key] : undefined;
        if (isSecure(value)) {
            secretKeys.push(full);
            if (declared !== undefined && declared.type !== "string") {
                problems.push({
                    key: full,
                    hidden: true,
                    value: "",
                    expected: `a secure ${declared.type} cannot be checked offline (the CLI decrypts it); give it with --set to plan`,
                });
                delete config[full];
            } else {
                config[full] = SECURE_PLACEHOLDER;
            }
            continue;
        }
        const { text, problem } = asConfigString(full, declared, value, false);
        if (problem) {
            problems.push(problem);
            delete config[full];
        } else {
            config[full] = text!;
        }
    }
    return { config, secretKeys, problems };
}
