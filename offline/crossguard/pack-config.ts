// The policy pack's configuration as the Pulumi CLI builds it before `Configure`: every policy's
// declared level and schema defaults, then the pack's initial config, then the
// `--policy-pack-config` file merged over them (per policy, property by property; `all` sets every
// level), checked against each policy's schema with the levels the CLI allows. Two checks go beyond
// the CLI, because a typo there silently keeps the default: an unknown policy name, and a property
// a policy's schema does not declare, are refused too.
import Ajv from "ajv";
import { closestName } from "../../components/suggest";

export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;
export type EnforcementLevel = (typeof ENFORCEMENT_LEVELS)[number];

export type JsonSchema = Record<string, unknown>;

/** A policy as `GetAnalyzerInfo` describes it. */
export interface PolicyInfo {
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    kind: "resource" | "stack";
    configSchema?: { properties: Record<string, JsonSchema>; required: string[] };
}

export interface PolicyConfig {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown>;
}

/** The configuration sent with `Configure`: every policy's level and settings. */
export type PackConfig = Record<string, PolicyConfig>;

/** What a configuration file says of one policy (or of `all`). */
export interface GivenPolicyConfig {
    enforcementLevel?: EnforcementLevel;
    properties?: Record<string, unknown>;
}

/** A configuration the CLI (or the stricter checks here) would refuse. */
export class PackConfigError extends Error {
    constructor(
        public readonly source: string,
        public readonly problems: string[],
    ) {
        super(
            `invalid policy pack configuration ${source} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
        );
        this.name = "PackConfigError";
    }
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function isLevel(v: unknown): v is EnforcementLevel {
    return typeof v === "string" && (ENFORCEMENT_LEVELS as readonly string[]).includes(v);
}

const LEVEL_RULE = `one of ${ENFORCEMENT_LEVELS.join(", ")}`;

/**
 * A `--policy-pack-config` document, read as the CLI reads it: an object from policy name (or
 * `all`) to a level or to an object of settings with an optional `enforcementLevel`. Every problem
 * is reported at once.
 */
export function parsePackConfig(
    doc: unknown,
    source: string,
    policies: readonly PolicyInfo[],
): Record<string, GivenPolicyConfig> {
    if (!isMap(doc)) {
        throw new PackConfigError(source, [
            `the file holds ${doc === null ? "null" : Array.isArray(doc) ? "a list" : `a ${typeof doc}`}; it must be a JSON object from policy names (or "all") to an enforcement level or an object of settings, e.g. {"cross-namespace-fqdn": "remediate"}`,
        ]);
    }
    const names = policies.map((p) => p.name);
    const problems: string[] = [];
    const out: Record<string, GivenPolicyConfig> = {};
    for (const [name, value] of Object.entries(doc)) {
        if (name !== "all" && !names.includes(name)) {
            const hint = closestName(name, names);
            problems.push(
                `"${name}" is not a policy of this pack${hint ? `; did you mean "${hint}"?` : ""} (policies: ${names.join(", ")}; "all" sets every level)`,
            );
            continue;
        }
        if (typeof value === "string") {
            if (isLevel(value)) out[name] = { enforcementLevel: value };
            else problems.push(`${name}: ${JSON.stringify(value)} is not an enforcement level; use ${LEVEL_RULE}`);
            continue;
        }
        if (!isMap(value)) {
            problems.push(
                `${name}: ${value === null ? "null" : Array.isArray(value) ? "a list" : JSON.stringify(value)} is not valid; use an enforcement level (${LEVEL_RULE}) or an object of settings`,
            );
            continue;
        }
        const { enforcementLevel, ...properties } = value;
        const given: GivenPolicyConfig = {};
        if (enforcementLevel !== undefined) {
            if (isLevel(enforcementLevel)) given.enforcementLevel = enforcementLevel;
            else
                problems.push(
                    `${name}.enforcementLevel: ${JSON.stringify(enforcementLevel)} is not an enforcement level; use ${LEVEL_RULE}`,
                );
        }
        if (Object.keys(properties).length > 0) {
            if (name === "all")
                problems.push(
                    `all: only an enforcementLevel applies to every policy; settings belong to a policy (${Object.keys(properties).join(", ")})`,
                );
            else given.properties = properties;
        }
        out[name] = given;
    }
    if (problems.length > 0) throw new PackConfigError(source, problems);
    return out;
}

function defaultsOf(policy: PolicyInfo): PolicyConfig {
    const properties: Record<string, unknown> = {};
    for (const [k, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
        if ("default" in schema) properties[k] = structuredClone(schema.default);
    }
    return { enforcementLevel: policy.enforcementLevel, properties };
}

function apply(result: PackConfig, given: Record<string, GivenPolicyConfig>): void {
    const all = given.all?.enforcementLevel;
    if (all) for (const name of Object.keys(result)) result[name] = { ...result[name], enforcementLevel: all };
    for (const [name, config] of Object.entries(given)) {
        if (name === "all" || result[name] === undefined) continue;
        result[name] = {
            enforcementLevel: config.enforcementLevel ?? result[name].enforcementLevel,
            properties: { ...result[name].properties, ...(config.properties ?? {}) },
        };
    }
}

const ajv = new Ajv({ allErrors: true, strict: false });
// Every gate run reconciles the same few schemas: each is compiled once (ajv caches by object, and
// each run builds its schema objects anew).
const validators = new Map<string, ReturnType<typeof ajv.compile>>();

function validatorOf(schema: JsonSchema): ReturnType<typeof ajv.compile> {
    const key = JSON.stringify(schema);
    let validate = validators.get(key);
    if (!validate) validators.set(key, (validate = ajv.compile(schema)));
    return validate;
}

/**
 * The configuration `Configure` receives: defaults, then `initial` (the pack's own), then `given`
 * (the file), validated against each policy's schema. Throws PackConfigError naming every problem.
 */
export function reconcilePackConfig(
    policies: readonly PolicyInfo[],
    given: Record<string, GivenPolicyConfig> = {},
    initial: Record<string, GivenPolicyConfig> = {},
    source = "(pack defaults)",
): PackConfig {
    const result: PackConfig = {};
    for (const p of policies) result[p.name] = defaultsOf(p);
    apply(result, initial);
    apply(result, given);

    const problems: string[] = [];
    for (const p of policies) {
        const declared = p.configSchema?.properties ?? {};
        const props = result[p.name].properties;
        for (const key of Object.keys(props)) {
            if (!(key in declared)) {
                const hint = closestName(key, Object.keys(declared));
                problems.push(
                    `${p.name}.${key}: not a setting of this policy${hint ? `; did you mean "${hint}"?` : ""} (${Object.keys(declared).length > 0 ? `settings: ${Object.keys(declared).join(", ")}` : "it takes none"})`,
                );
            }
        }
        if (!p.configSchema) continue;
        const schema: JsonSchema = { type: "object", properties: p.configSchema.properties };
        if (p.configSchema.required.length > 0) schema.required = p.configSchema.required;
        const validate = validatorOf(schema);
        if (!validate(props)) {
            for (const e of validate.errors ?? []) {
                const at = e.instancePath === "" ? "" : e.instancePath.slice(1).replace(/\//g, ".");
                problems.push(
                    `${p.name}${at ? `.${at}` : ""}: ${e.message ?? "invalid"}${e.params && "allowedValues" in e.params ? ` (${(e.params.allowedValues as unknown[]).join(", ")})` : ""}`,
                );
            }
        }
    }
    if (problems.length > 0) throw new PackConfigError(source, problems);
    return result;
}
