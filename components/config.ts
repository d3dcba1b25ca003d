// Loads and validates the whole platform configuration in one place. Every problem is collected
// and reported in one error (key, bad value unless it is secret, what would be valid) before any
// resource exists. The config is read as the Pulumi CLI hands it over: every key of the stack,
// with the list of those that are secret; no message ever shows a secret's value, nor the value of
// a key this program does not know (a mistyped secret is still a secret).
import * as pulumi from "@pulumi/pulumi";
import * as sdkConfig from "@pulumi/pulumi/runtime/config";
import {
    COMPONENTS,
    isDnsLabel,
    isDnsSubdomain,
    isExactVersion,
    isPinnedImage,
    jvmBytes,
    mirrorImage,
    parseImageReference,
} from "../policies/lib/rules";
import { recordedVersions } from "../policies/lib/chart-values";
import { ChartName, ChartSpec, isHostPort, localChartProblem, parseChartSource } from "./charts";
import { CONFIG_KEYS, ConfigKey, ConfigKeyName } from "./config-schema";
import { CREDENTIALS, Generations, parseGenerations } from "./credentials";
import { closestName, editDistance } from "./suggest";

export { COMPONENTS, isDnsLabel, isDnsSubdomain, isExactVersion, isPinnedImage };
export type ComponentName = (typeof COMPONENTS)[number];

/** What each component reads from the others: deploying one without these cannot work. */
export const COMPONENT_NEEDS: Record<ComponentName, readonly ComponentName[]> = {
    garage: [],
    database: ["garage"],
    trino: ["garage", "database"],
    airbyte: ["garage", "database"],
    dagster: ["garage", "database", "trino", "airbyte"],
};

/**
 * `wiringChecksSkip`: `<from>/<to>` pairs, each an edge of the call graph (COMPONENT_NEEDS: `from`
 * reads from `to`). Any edge of the graph is accepted, deployed here or not: a stack that narrows
 * `components` for a while (or a project-wide setting shared by split stacks) need not edit the list.
 */
function readWiringChecksSkip(r: ConfigReader): { from: ComponentName; to: ComponentName }[] {
    const key = "wiringChecksSkip";
    const out: { from: ComponentName; to: ComponentName }[] = [];
    const edges = COMPONENTS.flatMap((from) => COMPONENT_NEEDS[from].map((to) => `${from}/${to}`));
    for (const entry of r.stringArray(key)) {
        const [from, to] = entry.split("/") as [ComponentName, ComponentName];
        if (!edges.includes(entry)) {
            r.problem(
                key,
                r.stringArray(key),
                `${JSON.stringify(entry)} is not an edge of the call graph; one of: ${edges.join(", ")}`,
            );
            continue;
        }
        out.push({ from, to });
    }
    return out;
}

/** Size profiles of chart-managed pod fleets (see sizing.ts). */
export const SIZE_PROFILES = ["small", "medium", "large"] as const;
export type SizeProfile = (typeof SIZE_PROFILES)[number];

export interface Resources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

/** How the stack reaches its cluster: a kubeconfig context, or a kubeconfig (path or contents). */
export interface ClusterAccess {
    context?: string;
    kubeconfig?: string;
    /** Which of the two the stack set as secret (the kubeconfig is treated as one either way). */
    secret: { context: boolean; kubeconfig: boolean };
}

export interface PlatformConfig {
    project: string;
    stack: string;
    /** Label value naming the environment; the stack name unless configured. */
    environment: string;
    clusterDomain: string;
    kubernetes: ClusterAccess;
    /** Components this stack deploys, in dependency order. */
    components: ComponentName[];
    /** Stacks whose outputs give the components this stack needs but does not deploy (split mode). */
    upstreamStacks: string[];
    /** Components other stacks deploy against this one: the credentials they need are issued here. */
    downstreamComponents: ComponentName[];
    /** Resource options of the resources that hold data (Garage, PostgreSQL). */
    stateful: { protect: boolean; retainOnDelete: boolean };
    /** Generation of each credential the stack rotated (`credentialGenerations`); unlisted ones are at 1. */
    credentialGenerations: Generations;
    /** Keys whose change touches what holds data that the stack may change although it keeps its data. */
    allowDataChanges: string[];
    /** NetworkPolicies from the wiring, and the namespaces admitted to the user-facing services. */
    network: { policies: boolean; clientNamespaces: string[] };
    /** Check every edge of the wiring from its source namespace after the components are ready (`verifyWiring`). */
    verifyWiring: boolean;
    /** Edges (`from` → `to`) whose checks are left out (`wiringChecksSkip`). */
    wiringChecksSkip: { from: ComponentName; to: ComponentName }[];
    namespaces: Record<ComponentName, string>;
    /** StorageClass of every persistent volume; the cluster default when undefined. */
    storageClass?: string;
    buckets: { lakehouse: string; airbyte: string };
    images: { busybox: string; curl: string };
    /** Registry mirror every image is rewritten onto (`imageRegistryMirror`); undefined: none. */
    imageMirror?: string;
    /** The login every pod pulls its images with (`imageRegistryUsername`), for the mirror's host; undefined: anonymous. */
    registryLogin?: RegistryLogin;
    garage: {
        image: string;
        replicas: number;
        replicationFactor: number;
        dataSize: string;
        metadataSize: string;
        resources: Resources;
    };
    database: {
        postgres: {
            image: string;
            storageSize: string;
            maxConnections: number;
            resources: Resources;
            /** TLS only, with a certificate from the platform's CA, every client verifying it (`postgresTls`). */
            tls: boolean;
        };
        metastore: {
            image: string;
            replicas: number;
            resources: Resources;
            jdbcDriverUrl: string;
            /** The driver URL was set as a secret (it may carry a repository's credentials). */
            jdbcDriverUrlSecret: boolean;
            jdbcDriverSha256?: string;
        };
    };
    trino: {
        chartVersion: string;
        chart: ChartSpec;
        workers: number;
        catalogName: string;
        keepDemoCatalogs: boolean;
        /** HTTPS with the platform's certificate, password logins and access rules (`trinoAuthentication`). */
        authentication: boolean;
        coordinator: { resources: Resources; heap: string };
        worker: { resources: Resources; heap: string };
    };
    airbyte: { chartVersion: string; chart: ChartSpec; size: SizeProfile };
    dagster: {
        chartVersion: string;
        chart: ChartSpec;
        size: SizeProfile;
        userCode: { image: string; tag: string; module: string };
        dbtSchema: string;
        /** The webserver behind an authenticating proxy (`dagsterLogin`), and the proxy's image. */
        login: { enabled: boolean; image: string };
    };
}

export interface ConfigProblem {
    /** Fully qualified key, e.g. `lakehouse-platform:trinoWorkers`, or a file. */
    key: string;
    /** The offending value as given (undefined when the key is missing). */
    value?: unknown;
    /** What would be valid. */
    expected: string;
    /** The value is a secret, or of a key nobody declared (which may be one): it is never shown. */
    hidden?: boolean;
}

/** Invalid stack configuration; printed by Pulumi without a stack trace. */
export class ConfigError extends pulumi.RunError {
    constructor(
        public readonly stack: string,
        public readonly problems: ConfigProblem[],
    ) {
        super(formatProblems(stack, problems));
        this.name = "ConfigError";
    }
}

function shown(p: ConfigProblem): string {
    if (p.hidden) return p.value === undefined ? "" : " (value not shown)";
    if (p.value === undefined) return " (not set)";
    return ` = ${JSON.stringify(p.value)}`;
}

export function formatProblems(stack: string, problems: ConfigProblem[]): string {
    const lines = problems.map((p) => `  - ${p.key}${shown(p)}: ${p.expected}`);
    const n = problems.length;
    return [
        `invalid configuration for stack "${stack}" (${n} problem${n === 1 ? "" : "s"}):`,
        ...lines,
        "No resource was registered.",
    ].join("\n");
}

const DNS_LABEL_RULE =
    "a DNS-1123 label: at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit";
const BUCKET_RULE =
    "an S3 bucket name: 3 to 63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit";
/** Kubernetes takes replica counts as int32. */
const INT32_MAX = 2 ** 31 - 1;

/** S3 bucket naming rules (the subset Garage and every S3 client agree on). */
export function isBucketName(s: string): boolean {
    return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s) && !s.includes("..") && !/^\d+\.\d+\.\d+\.\d+$/.test(s);
}

const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const SUFFIX: Record<string, number> = {
    "": 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
};

/** The value of a Kubernetes quantity in base units (cores or bytes), or undefined when malformed. */
export function parseQuantity(q: string): number | undefined {
    const m = QUANTITY.exec(q);
    if (!m) return undefined;
    return Number(m[1]) * SUFFIX[m[3] ?? ""];
}

/** Sensible bounds of the quantities the stack sets (a 1-byte volume or 999999Ei is a typo). */
const QUANTITY_BOUNDS = {
    cpu: { min: 0.001, max: 512, unit: "cores", example: "500m or 2" },
    memory: { min: 16 * 2 ** 20, max: 4 * 2 ** 40, unit: "bytes", example: "512Mi or 4Gi" },
    storage: { min: 2 ** 30, max: 2 ** 50, unit: "bytes", example: "10Gi or 500Gi" },
} as const;
type QuantityKind = keyof typeof QUANTITY_BOUNDS;

function humanBytes(n: number): string {
    for (const [suffix, size] of [
        ["Pi", 2 ** 50],
        ["Ti", 2 ** 40],
        ["Gi", 2 ** 30],
        ["Mi", 2 ** 20],
    ] as const)
        if (n >= size) return `${n / size}${suffix}`;
    return `${n}`;
}

/** Trino's JVM needs room to start; below this heap a node fails at start. */
const MIN_TRINO_HEAP = 512 * 2 ** 20;

// ---- the reader: raw values, declared defaults, and every problem ----

/** Reads raw (string) config values, applies declared defaults, and collects problems. */
class ConfigReader {
    readonly problems: ConfigProblem[] = [];

    constructor(
        private readonly project: string,
        private readonly raw: Record<string, string>,
        private readonly secretKeys: ReadonlySet<string>,
        readonly cwd: string,
    ) {}

    fullKey(key: string): string {
        return `${this.project}:${key}`;
    }

    isSecret(key: string): boolean {
        return this.secretKeys.has(key);
    }

    /** The value as the stack gives it (undefined when unset), for messages. */
    given(key: ConfigKeyName): string | undefined {
        return this.raw[key];
    }

    /** A problem of `key`; its value is not shown when the key is secret, or when `hide` says so. */
    problem(key: ConfigKeyName, value: unknown, expected: string, hide = false): void {
        this.problems.push({
            key: this.fullKey(key),
            value,
            expected,
            ...((this.isSecret(key) || hide) && value !== undefined ? { hidden: true } : {}),
        });
    }

    private rawOrDefault(key: ConfigKeyName): { value: ConfigKey["default"]; given: boolean } {
        const given = this.raw[key];
        if (given !== undefined) return { value: given, given: true };
        return { value: (CONFIG_KEYS[key] as ConfigKey).default, given: false };
    }

    optionalString(key: ConfigKeyName): string | undefined {
        const { value } = this.rawOrDefault(key);
        if (value === undefined || value === "") return undefined;
        return Array.isArray(value) ? JSON.stringify(value) : String(value);
    }

    /** A required string, checked by `check`; an empty value counts as missing and is shown as `""`. */
    string(key: ConfigKeyName, check?: (s: string) => boolean, rule?: string): string {
        const { value } = this.rawOrDefault(key);
        if (value === undefined || value === "") {
            this.problem(key, value, rule ?? "a value is required");
            return "";
        }
        const text = String(value);
        if (check && !check(text)) this.problem(key, text, rule ?? "invalid value");
        return text;
    }

    /** The value, or undefined (with a problem recorded) when it is not an integer in [min, max]. */
    integer(key: ConfigKeyName, min: number, max = INT32_MAX, why = ""): number | undefined {
        const { value } = this.rawOrDefault(key);
        const text = Array.isArray(value) ? "" : String(value);
        const rule = `an integer from ${min} to ${max.toLocaleString("en-US")}${why}`;
        // BigInt: 99999999999999999999 is no Number, and must not round to one.
        if (!/^-?\d+$/.test(text) || BigInt(text) < BigInt(min) || BigInt(text) > BigInt(max)) {
            this.problem(key, value, rule);
            return undefined;
        }
        return Number(text);
    }

    boolean(key: ConfigKeyName): boolean {
        const { value } = this.rawOrDefault(key);
        if (value === true || value === "true") return true;
        if (value === false || value === "false") return false;
        this.problem(key, value, "true or false");
        return false;
    }

    oneOf<T extends string>(key: ConfigKeyName, values: readonly T[]): T {
        return this.string(key, (s) => (values as readonly string[]).includes(s), `one of ${values.join(", ")}`) as T;
    }

    stringArray(key: ConfigKeyName): string[] {
        const { value, given } = this.rawOrDefault(key);
        if (!given) return value as string[];
        let parsed: unknown;
        try {
            parsed = JSON.parse(String(value));
        } catch {
            parsed = undefined;
        }
        if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === "string")) {
            this.problem(key, value, "a list of strings");
            return [];
        }
        return parsed;
    }

    /** A Kubernetes quantity of `kind`, within sensible bounds (a key may raise the minimum). */
    quantity(key: ConfigKeyName, kind: QuantityKind, min: number = QUANTITY_BOUNDS[kind].min): string {
        const b = QUANTITY_BOUNDS[kind];
        const bounds =
            kind === "cpu"
                ? `from ${min * 1000}m to ${b.max} cores`
                : `from ${humanBytes(min)} to ${humanBytes(b.max)}`;
        const rule = `a ${kind === "cpu" ? "CPU" : kind} quantity such as ${b.example}, ${bounds}`;
        return this.string(
            key,
            (s) => {
                const v = parseQuantity(s);
                if (v === undefined || v < min || v > b.max) return false;
                // CPU is counted in cores or millicores; bytes have no millis.
                return kind === "cpu" ? /^(\d+(\.\d+)?|\.\d+)m?$/.test(s) : !s.endsWith("m");
            },
            rule,
        );
    }

    /** Requests and limits of one workload (`<prefix>CpuRequest` ...), each problem on its own key. */
    resources(prefix: "garage" | "postgres" | "hiveMetastore" | "trinoCoordinator" | "trinoWorker"): Resources {
        const key = (suffix: string) => `${prefix}${suffix}` as ConfigKeyName;
        const before = this.problems.length;
        const r: Resources = {
            requests: {
                cpu: this.quantity(key("CpuRequest"), "cpu"),
                memory: this.quantity(key("MemoryRequest"), "memory"),
            },
            limits: { cpu: this.quantity(key("CpuLimit"), "cpu"), memory: this.quantity(key("MemoryLimit"), "memory") },
        };
        for (const [resource, req, lim] of [
            ["Cpu", r.requests.cpu, r.limits.cpu],
            ["Memory", r.requests.memory, r.limits.memory],
        ] as const) {
            // Compared only when both are valid: a bad request is that key's problem, not the limit's.
            if (
                this.problems
                    .slice(before)
                    .some(
                        (p) =>
                            p.key === this.fullKey(key(`${resource}Request`)) ||
                            p.key === this.fullKey(key(`${resource}Limit`)),
                    )
            )
                continue;
            if ((parseQuantity(lim) ?? 0) < (parseQuantity(req) ?? 0)) {
                this.problem(
                    key(`${resource}Limit`),
                    lim,
                    `at least the request ${this.fullKey(key(`${resource}Request`))} = ${JSON.stringify(req)}`,
                );
            }
        }
        return r;
    }

    /** A JVM heap (`1536M`, `8G`) of at least 512M that fits in the workload's memory limit with room to spare. */
    heap(key: ConfigKeyName, memoryLimitKey: ConfigKeyName, memoryLimit: string): string {
        const heap = this.string(
            key,
            (s) => (jvmBytes(s) ?? 0) >= MIN_TRINO_HEAP && /^\d+[MG]$/.test(s),
            "a JVM heap size of at least 512M, such as 1536M or 8G",
        );
        const heapBytes = jvmBytes(heap);
        const limitBytes = parseQuantity(memoryLimit);
        if (
            heapBytes !== undefined &&
            heapBytes >= MIN_TRINO_HEAP &&
            limitBytes !== undefined &&
            heapBytes > 0.85 * limitBytes
        ) {
            this.problem(
                key,
                heap,
                `at most 85% of ${this.fullKey(memoryLimitKey)} = ${JSON.stringify(memoryLimit)}: the JVM needs memory beyond its heap`,
            );
        }
        return heap;
    }

    chartVersion(key: ConfigKeyName): string {
        return this.string(key, isExactVersion, "an exact chart version such as 1.42.2 (no range, no 'latest')");
    }

    /** A chart's source (`<chart>Chart`) at its pinned version (`<chart>ChartVersion`). */
    chart(name: ChartName): ChartSpec {
        const versionKey = `${name}ChartVersion` as ConfigKeyName;
        const sourceKey = `${name}Chart` as ConfigKeyName;
        const before = this.problems.length;
        const version = this.chartVersion(versionKey);
        const value = this.string(sourceKey);
        const parsed = parseChartSource(value);
        if ("problem" in parsed) {
            if (value !== "") this.problem(sourceKey, value, parsed.problem);
            return { name, version, source: { kind: "local", path: value, archive: false } };
        }
        // A local chart is checked against the version only when the version itself is valid.
        if (parsed.kind === "local" && this.problems.length === before) {
            const problem = localChartProblem(parsed, name, version, this.cwd);
            if (problem) this.problem(sourceKey, value, problem);
        }
        // The platform's values are checked against the value paths of the version they go to; a
        // version without recorded paths would take them unchecked (the pack's chart-values-known
        // says the same at preview).
        const recorded = recordedVersions(name);
        if (this.problems.length === before && !recorded.includes(version)) {
            const unpack =
                parsed.kind !== "local"
                    ? `\`helm pull ${name} --repo ${value} --version ${version} --untar\`, then `
                    : parsed.archive
                      ? `\`tar -xzf ${value}\`, then `
                      : "";
            const dir = parsed.kind === "local" && !parsed.archive ? value : name;
            this.problem(
                versionKey,
                version,
                `a version whose value paths are recorded (${recorded.join(", ")}), so the platform's values are checked against what that version reads. To move to ${version}: ${unpack}\`npm run chart-keys -- ${dir}\`; review the plan and commit policies/chart-keys/${name}-${version}.json (docs/day-two.md, "Chart versions")`,
            );
        }
        return { name, version, source: parsed };
    }

    image(key: ConfigKeyName): string {
        return this.string(
            key,
            isPinnedImage,
            "an image reference pinned by tag or by a full sha256 digest, such as repository/name:1.2.3 (lower-case repository, not ':latest', not untagged)",
        );
    }
}

// ---- keys the program does not read ----

/** Keys of the Kubernetes provider's own config, and the project key that does their job here. */
const PROVIDER_KEYS: Record<string, ConfigKeyName> = {
    "kubernetes:context": "kubeContext",
    "kubernetes:kubeconfig": "kubeconfig",
};

/**
 * Problems with keys this program would not read: a misspelt key of the project, a key under a
 * misspelt project prefix, or the Kubernetes provider's own keys (which configure only default
 * providers, and every resource here goes through the stack's explicit provider). Values are
 * never shown: a mistyped key may well hold a secret.
 */
function unreadKeys(
    r: ConfigReader,
    project: string,
    raw: Record<string, string>,
    foreign: Record<string, string>,
): ConfigProblem[] {
    const out: ConfigProblem[] = [];
    for (const key of Object.keys(raw)) {
        if (key in CONFIG_KEYS) continue;
        const hint = closestName(key, Object.keys(CONFIG_KEYS));
        out.push({
            key: r.fullKey(key),
            value: raw[key],
            hidden: true,
            expected: `not a key of this project${hint ? `; did you mean ${r.fullKey(hint)}?` : ""} (Pulumi.yaml lists every key)`,
        });
    }
    for (const full of Object.keys(foreign)) {
        const at = full.indexOf(":");
        const [namespace, key] = at > 0 ? [full.slice(0, at), full.slice(at + 1)] : ["", full];
        if (namespace === "pulumi") continue;
        let expected: string;
        if (PROVIDER_KEYS[full]) {
            expected = `not read: every resource goes through the stack's explicit Kubernetes provider, built from ${r.fullKey(PROVIDER_KEYS[full])}; set that key instead (pulumi config rm ${full}; pulumi config set ${PROVIDER_KEYS[full]} ...)`;
        } else if (namespace === "kubernetes") {
            expected = `not read: the stack's explicit Kubernetes provider takes only ${r.fullKey("kubeContext")} or ${r.fullKey("kubeconfig")}; each component's namespace is ${r.fullKey("<component>Namespace")}`;
        } else if (namespace !== "" && editDistance(namespace, project) <= 3) {
            const hint = key in CONFIG_KEYS ? key : closestName(key, Object.keys(CONFIG_KEYS));
            expected = `"${namespace}" is not this project's name; did you mean ${r.fullKey(hint ?? key)}?`;
        } else {
            expected = `not read by this program, whose keys are ${r.fullKey("<key>")} (Pulumi.yaml lists them)`;
        }
        out.push({ key: full, value: foreign[full], hidden: true, expected });
    }
    return out;
}

// ---- one reader per section ----

/** `stack`, `project/stack` or `org/project/stack`, as `pulumi.StackReference` takes it. */
const STACK_NAME = /^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/;

function isSameStack(reference: string, project: string, stack: string): boolean {
    const parts = reference.split("/");
    return parts[parts.length - 1] === stack && (parts.length < 2 || parts[parts.length - 2] === project);
}

/** A list of component names: known, each once, in dependency order. */
function componentList(
    r: ConfigReader,
    key: "components" | "downstreamComponents",
): { listed: string[]; names: ComponentName[] } {
    const listed = r.stringArray(key);
    const out: ComponentName[] = [];
    for (const name of listed) {
        if (!(COMPONENTS as readonly string[]).includes(name)) {
            r.problem(
                key,
                listed,
                `unknown component ${JSON.stringify(name)}; valid components are ${COMPONENTS.join(", ")}`,
            );
        } else if (out.includes(name as ComponentName)) {
            r.problem(key, listed, `${name} is listed twice`);
        } else {
            out.push(name as ComponentName);
        }
    }
    return { listed, names: out.sort((a, b) => COMPONENTS.indexOf(a) - COMPONENTS.indexOf(b)) };
}

/** Where the stack deploys: its environment label, cluster domain and cluster. */
function readTarget(
    r: ConfigReader,
    stack: string,
): Pick<PlatformConfig, "environment" | "clusterDomain" | "kubernetes"> {
    const environment = r.optionalString("environment") ?? stack;
    if (!isDnsLabel(environment))
        r.problem(
            "environment",
            environment,
            `${DNS_LABEL_RULE} (it defaults to the stack name; set it when the stack name is not one)`,
        );
    const clusterDomain = r.string(
        "clusterDomain",
        isDnsSubdomain,
        "a DNS domain of lower-case labels separated by dots, such as cluster.local (no leading, trailing or double dot)",
    );
    const context = r.optionalString("kubeContext");
    const kubeconfig = r.optionalString("kubeconfig");
    if (context === undefined && kubeconfig === undefined) {
        r.problem(
            "kubeContext",
            // Both default to "", which reads as not set.
            r.given("kubeContext") || undefined,
            `set ${r.fullKey("kubeContext")} (or ${r.fullKey("kubeconfig")}) to the target cluster, so the stack never deploys to whatever context is current`,
        );
    }
    return {
        environment,
        clusterDomain,
        kubernetes: {
            context,
            kubeconfig,
            secret: { context: r.isSecret("kubeContext"), kubeconfig: r.isSecret("kubeconfig") },
        },
    };
}

/** What the stack deploys, and how it relates to the stacks it builds on or serves. */
function readTopology(
    r: ConfigReader,
    project: string,
    stack: string,
): Pick<PlatformConfig, "components" | "upstreamStacks" | "downstreamComponents"> {
    const { listed, names: components } = componentList(r, "components");
    if (listed.length === 0 && r.problems.every((p) => p.key !== r.fullKey("components")))
        r.problem("components", listed, `at least one of ${COMPONENTS.join(", ")}`);
    const upstreamStacks = r.stringArray("upstreamStacks");
    for (const name of upstreamStacks) {
        if (!STACK_NAME.test(name))
            r.problem(
                "upstreamStacks",
                upstreamStacks,
                `${JSON.stringify(name)} is not a stack name; use <org>/<project>/<stack> (letters, digits, '-', '_', '.')`,
            );
        else if (isSameStack(name, project, stack))
            r.problem(
                "upstreamStacks",
                upstreamStacks,
                `${JSON.stringify(name)} is this stack; list the stacks that deploy the components this one needs`,
            );
    }
    if (new Set(upstreamStacks).size !== upstreamStacks.length)
        r.problem("upstreamStacks", upstreamStacks, "each stack once");
    for (const c of components) {
        const missing = COMPONENT_NEEDS[c].filter((n) => !components.includes(n));
        if (missing.length === 0 || upstreamStacks.length > 0) continue;
        const one = missing.length === 1;
        r.problem(
            "components",
            listed,
            `${c} needs ${missing.join(" and ")}: add ${one ? "it" : "them"} to the list, or set ${r.fullKey("upstreamStacks")} to the stack${one ? "" : "s"} that deploy${one ? "s" : ""} ${one ? "it" : "them"}`,
        );
    }
    const downstream = componentList(r, "downstreamComponents");
    for (const c of downstream.names) {
        if (components.includes(c))
            r.problem(
                "downstreamComponents",
                downstream.listed,
                `${c} is deployed by this stack; list only components other stacks deploy`,
            );
    }
    if (downstream.names.length > 0 && !components.includes("garage") && !components.includes("database")) {
        r.problem(
            "downstreamComponents",
            downstream.listed,
            "empty: only a stack that deploys garage or database issues credentials to other stacks",
        );
    }
    return { components, upstreamStacks, downstreamComponents: downstream.names };
}

const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/** A namespace of its own for each component, and the client namespaces of the NetworkPolicies. */
function readNamespaces(r: ConfigReader): Pick<PlatformConfig, "namespaces" | "network"> {
    const namespaces = {} as Record<ComponentName, string>;
    const owner = new Map<string, ComponentName>();
    for (const c of COMPONENTS) {
        const key = `${c}Namespace` as ConfigKeyName;
        const ns = r.string(key, isDnsLabel, DNS_LABEL_RULE);
        namespaces[c] = ns;
        const first = owner.get(ns);
        if (first !== undefined && ns !== "")
            r.problem(
                key,
                ns,
                `a namespace of its own: ${r.fullKey(`${first}Namespace`)} already uses ${JSON.stringify(ns)}`,
            );
        else owner.set(ns, c);
        if (SYSTEM_NAMESPACES.includes(ns))
            r.problem(key, ns, "a namespace of the platform's own, not a Kubernetes system namespace");
    }
    const clientNamespaces = r.stringArray("networkPolicyClientNamespaces");
    for (const ns of clientNamespaces) {
        if (!isDnsLabel(ns))
            r.problem(
                "networkPolicyClientNamespaces",
                clientNamespaces,
                `${JSON.stringify(ns)} is not a namespace name (${DNS_LABEL_RULE})`,
            );
        else if (owner.has(ns))
            r.problem(
                "networkPolicyClientNamespaces",
                clientNamespaces,
                `${ns} is ${owner.get(ns)}'s namespace; list only namespaces outside the platform (its own traffic follows the wiring)`,
            );
    }
    return { namespaces, network: { policies: r.boolean("networkPolicies"), clientNamespaces } };
}

/** Buckets, volumes' class, shared tool images and what keeps data. */
/** `host[:port][/path]`: where a registry mirror serves images (a Docker registry needs a host with a dot, a port or `localhost`). */
export function isMirror(s: string): boolean {
    const [host, ...rest] = s.split("/");
    const registryLike = host.includes(".") || host.includes(":") || host === "localhost";
    return registryLike && isHostPort(host) && rest.every((p) => /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/.test(p));
}

function readShared(
    r: ConfigReader,
): Pick<PlatformConfig, "storageClass" | "buckets" | "images" | "imageMirror" | "stateful"> {
    const storageClass = r.optionalString("storageClass");
    if (storageClass !== undefined && !isDnsSubdomain(storageClass))
        r.problem(
            "storageClass",
            storageClass,
            "the name of a StorageClass (a DNS subdomain), or unset for the cluster default",
        );
    const lakehouse = r.string("lakehouseBucket", isBucketName, BUCKET_RULE);
    const airbyte = r.string("airbyteBucket", isBucketName, BUCKET_RULE);
    if (lakehouse === airbyte && lakehouse !== "")
        r.problem(
            "airbyteBucket",
            airbyte,
            `a bucket of its own: Airbyte's state and logs must not mix with the warehouse in ${r.fullKey("lakehouseBucket")}`,
        );
    const imageMirror = r.optionalString("imageRegistryMirror")?.replace(/\/+$/, "");
    if (imageMirror !== undefined && !isMirror(imageMirror))
        r.problem(
            "imageRegistryMirror",
            imageMirror,
            "a registry host with an optional port and path, such as registry.example.com:5000 or harbor.example.com/proxy (no scheme, no tag)",
        );
    return {
        storageClass,
        buckets: { lakehouse, airbyte },
        images: { busybox: r.image("busyboxImage"), curl: r.image("curlImage") },
        imageMirror,
        stateful: {
            protect: r.boolean("protectStatefulResources"),
            retainOnDelete: r.boolean("retainStatefulResources"),
        },
    };
}

/**
 * Rotation requests: only credentials this stack issues (it deploys their issuer, and serves their
 * holder itself or for a downstream stack), each once.
 */
function readRotation(
    r: ConfigReader,
    topology: Pick<PlatformConfig, "components" | "downstreamComponents">,
): Generations {
    const entries = r.stringArray("credentialGenerations");
    const served = (c: ComponentName) => topology.components.includes(c) || topology.downstreamComponents.includes(c);
    const issued = CREDENTIALS.filter((c) => topology.components.includes(c.issuer) && served(c.holder)).map(
        (c) => c.name,
    );
    const { generations, problems } = parseGenerations(entries, issued);
    for (const p of problems) r.problem("credentialGenerations", entries, p);
    return generations;
}

/** The keys data changes may be allowed for: those the data guard watches (components/data-guard.ts). */
export const DATA_KEYS = [
    "environment",
    "components",
    "garageNamespace",
    "databaseNamespace",
    "garageDataSize",
    "garageMetadataSize",
    "postgresStorageSize",
    "storageClass",
    "lakehouseBucket",
    "airbyteBucket",
] as const;

function readAllowDataChanges(r: ConfigReader): string[] {
    const keys = r.stringArray("allowDataChanges");
    for (const k of keys)
        if (!(DATA_KEYS as readonly string[]).includes(k))
            r.problem(
                "allowDataChanges",
                keys,
                `${JSON.stringify(k)} is not a key whose change touches data; they are ${DATA_KEYS.join(", ")}`,
            );
    return keys;
}

function readGarage(r: ConfigReader): PlatformConfig["garage"] {
    const replicas = r.integer(
        "garageReplicas",
        1,
        100,
        " (a Garage cluster of more nodes is a deployment of its own)",
    );
    const replicationFactor = r.integer("garageReplicationFactor", 1, 7, " (Garage keeps at most 7 copies)");
    if (replicas !== undefined && replicationFactor !== undefined && replicationFactor > replicas) {
        r.problem(
            "garageReplicationFactor",
            replicationFactor,
            `at most ${r.fullKey("garageReplicas")} = ${replicas}: Garage cannot keep more copies than it has nodes`,
        );
    }
    return {
        image: r.image("garageImage"),
        replicas: replicas ?? 0,
        replicationFactor: replicationFactor ?? 0,
        dataSize: r.quantity("garageDataSize", "storage"),
        metadataSize: r.quantity("garageMetadataSize", "storage", 100 * 2 ** 20),
        resources: r.resources("garage"),
    };
}

function readDatabase(r: ConfigReader): PlatformConfig["database"] {
    const jdbcDriverUrl = r.optionalString("hiveMetastoreJdbcDriverUrl") ?? "";
    const jdbcDriverSha256 = r.optionalString("hiveMetastoreJdbcDriverSha256");
    if (jdbcDriverSha256 !== undefined && !/^[0-9a-f]{64}$/.test(jdbcDriverSha256))
        r.problem(
            "hiveMetastoreJdbcDriverSha256",
            jdbcDriverSha256,
            "64 lower-case hex characters (sha256sum of the jar)",
        );
    // Over plain HTTP (an artifact mirror inside the cluster) only a pinned checksum proves the jar;
    // over HTTPS the checksum published beside it will do.
    const pinned = jdbcDriverSha256 !== undefined;
    if (jdbcDriverUrl !== "" && !(pinned ? /^https?:\/\/[^\s]+\.jar$/ : /^https:\/\/[^\s]+\.jar$/).test(jdbcDriverUrl))
        r.problem(
            "hiveMetastoreJdbcDriverUrl",
            jdbcDriverUrl,
            `an https:// URL of a .jar (http:// too once ${r.fullKey("hiveMetastoreJdbcDriverSha256")} pins the jar), or empty when the image already has the driver`,
        );
    return {
        postgres: {
            image: r.image("postgresImage"),
            storageSize: r.quantity("postgresStorageSize", "storage"),
            maxConnections:
                r.integer("postgresMaxConnections", 20, 10_000, " (PostgreSQL reserves memory for each)") ?? 0,
            resources: r.resources("postgres"),
            tls: r.boolean("postgresTls"),
        },
        metastore: {
            image: r.image("hiveMetastoreImage"),
            replicas: r.integer("hiveMetastoreReplicas", 1, 20) ?? 0,
            resources: r.resources("hiveMetastore"),
            jdbcDriverUrl,
            jdbcDriverUrlSecret: r.isSecret("hiveMetastoreJdbcDriverUrl"),
            jdbcDriverSha256,
        },
    };
}

function readTrino(r: ConfigReader): PlatformConfig["trino"] {
    const chart = r.chart("trino");
    const coordinator = r.resources("trinoCoordinator");
    const worker = r.resources("trinoWorker");
    return {
        chartVersion: chart.version,
        chart,
        workers:
            r.integer(
                "trinoWorkers",
                1,
                500,
                " (a Trino cluster of more workers needs more than one coordinator can schedule)",
            ) ?? 0,
        catalogName: r.string(
            "trinoCatalogName",
            (s) => /^[a-z][a-z0-9_]{0,63}$/.test(s),
            "a Trino catalog name: lower-case letters, digits and '_', starting with a letter",
        ),
        keepDemoCatalogs: r.boolean("trinoKeepDemoCatalogs"),
        authentication: r.boolean("trinoAuthentication"),
        coordinator: {
            resources: coordinator,
            heap: r.heap("trinoCoordinatorHeap", "trinoCoordinatorMemoryLimit", coordinator.limits.memory),
        },
        worker: { resources: worker, heap: r.heap("trinoWorkerHeap", "trinoWorkerMemoryLimit", worker.limits.memory) },
    };
}

function readAirbyte(r: ConfigReader): PlatformConfig["airbyte"] {
    const chart = r.chart("airbyte");
    return { chartVersion: chart.version, chart, size: r.oneOf("airbyteSize", SIZE_PROFILES) };
}

function readDagster(r: ConfigReader): PlatformConfig["dagster"] {
    const chart = r.chart("dagster");
    const image = r.string(
        "dagsterUserCodeImage",
        (s) => {
            const ref = parseImageReference(s);
            return ref !== undefined && ref.tag === undefined && ref.digest === undefined;
        },
        "an image repository without tag (the tag is dagsterUserCodeTag), such as docker.io/team/pipelines",
    );
    return {
        chartVersion: chart.version,
        chart,
        size: r.oneOf("dagsterSize", SIZE_PROFILES),
        userCode: {
            image,
            tag: r.string(
                "dagsterUserCodeTag",
                (s) => /^[\w][\w.-]{0,127}$/.test(s) && s !== "latest",
                "an image tag other than 'latest', such as 1.9.4",
            ),
            module: r.string(
                "dagsterUserCodeModule",
                (s) => /^([A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*|\/?[\w./-]+\.py)$/.test(s),
                "a Python module (my_pipelines.definitions) or a .py file path",
            ),
        },
        dbtSchema: r.string(
            "dbtSchema",
            (s) => /^[a-z_][a-z0-9_]{0,62}$/.test(s),
            "a schema name: lower-case letters, digits and '_'",
        ),
        login: { enabled: r.boolean("dagsterLogin"), image: r.image("dagsterLoginImage") },
    };
}

export interface ParseOptions {
    /** Keys outside the project's namespace (fully qualified), as the CLI passes them too. */
    foreign?: Record<string, string>;
    /** The project keys (without prefix) whose values are secret. */
    secretKeys?: ReadonlySet<string>;
    /** Problems found before the program reads its config (the CLI's type checks, offline): reported with the rest. */
    earlier?: ConfigProblem[];
    /** Directory a local chart (`<chart>Chart`) is resolved from: the project's (where Pulumi runs the program). */
    cwd?: string;
}

/** A user name and its password (a secret of the stack's config; never shown). */
export interface Login {
    username: string;
    password: string;
}

/** A login to a registry: the host (`registry.corp:5000`) it is given to. */
export interface RegistryLogin extends Login {
    server: string;
}

/**
 * One login (`<prefix>Username`, `<prefix>Password`): both or neither, the password set as a
 * secret, the user name one Docker's and Helm's basic auth can carry (no colon, no space).
 */
function readLogin(r: ConfigReader, prefix: "imageRegistry" | "chartRepository"): Login | undefined {
    const userKey = `${prefix}Username` as ConfigKeyName;
    const passwordKey = `${prefix}Password` as ConfigKeyName;
    const username = r.optionalString(userKey);
    const password = r.optionalString(passwordKey);
    if (username === undefined && password === undefined) return undefined;
    if (username === undefined) {
        r.problem(userKey, undefined, `the user name that goes with ${r.fullKey(passwordKey)}`);
        return undefined;
    }
    if (/[:\s]/.test(username)) r.problem(userKey, username, "a user name without colons or spaces (basic auth's)");
    if (password === undefined) {
        r.problem(passwordKey, undefined, `the password of ${username}, set with \`pulumi config set --secret\``);
        return undefined;
    }
    // Not shown even so: a password in clear in a stack file is still a password.
    if (!r.isSecret(passwordKey))
        r.problem(
            passwordKey,
            password,
            `a secret: set it again with \`pulumi config set --secret ${passwordKey}\` (in clear in the stack file, it is a leaked one)`,
            true,
        );
    return { username, password };
}

/**
 * The registry login (for the mirror's host, the only registry the platform pulls from once it is
 * set) and the chart repositories' login (for the https:// sources; Helm's OCI login is the one the
 * Kubernetes provider's Release does not make: pulumi/pulumi-kubernetes#1914).
 */
function readLogins(
    r: ConfigReader,
    imageMirror: string | undefined,
    charts: ChartSpec[],
): { registryLogin?: RegistryLogin; chartLogin?: Login } {
    const registry = readLogin(r, "imageRegistry");
    if (registry && imageMirror === undefined)
        r.problem(
            "imageRegistryUsername",
            registry.username,
            `a login to ${r.fullKey("imageRegistryMirror")}, which is not set: set the mirror the login is for`,
        );
    const chart = readLogin(r, "chartRepository");
    if (chart) {
        const remote = charts.filter((c) => c.source.kind !== "local");
        const oci = remote.filter((c) => c.source.kind === "oci");
        if (remote.length === 0)
            r.problem(
                "chartRepositoryUsername",
                chart.username,
                "a login to the charts' repositories, but every chart comes from disk: unset it",
            );
        else if (oci.length > 0)
            r.problem(
                "chartRepositoryUsername",
                chart.username,
                `a login to https:// chart repositories; ${oci.map((c) => `${c.name}Chart`).join(", ")} is an OCI reference, and the Kubernetes provider's Helm Release does not log in to OCI registries (pulumi/pulumi-kubernetes#1914): run \`helm registry login\` where pulumi runs, or serve the charts from an https:// repository`,
            );
    }
    return {
        registryLogin:
            registry && imageMirror !== undefined ? { ...registry, server: imageMirror.split("/")[0] } : undefined,
        chartLogin: chart,
    };
}

/**
 * Validates raw stack configuration (the project's keys without the `<project>:` prefix, values
 * as the Pulumi CLI passes them: strings, arrays as JSON) and returns the typed configuration.
 * Throws one ConfigError listing every problem.
 */
export function parsePlatformConfig(
    raw: Record<string, string>,
    project: string,
    stack: string,
    options: ParseOptions = {},
): PlatformConfig {
    const r = new ConfigReader(project, raw, options.secretKeys ?? new Set(), options.cwd ?? process.cwd());
    const unread = unreadKeys(r, project, raw, options.foreign ?? {});
    // Placeholders (`?? 0`, "") stand only where a problem was recorded, and then nothing is returned.
    const target = readTarget(r, stack);
    const topology = readTopology(r, project, stack);
    const shared = readShared(r);
    const [trino, airbyte, dagster] = [readTrino(r), readAirbyte(r), readDagster(r)];
    const { registryLogin, chartLogin } = readLogins(r, shared.imageMirror, [
        trino.chart,
        airbyte.chart,
        dagster.chart,
    ]);
    // The chart repositories' login on every chart fetched from one (readLogins refused any other source).
    // dbt's Trino login and the CA reach Dagster's namespace within one stack; across split stacks
    // they would not (not built yet): refused here rather than pods that never start there.
    if (trino.authentication && topology.components.includes("trino") !== topology.components.includes("dagster"))
        r.problem(
            "trinoAuthentication",
            true,
            `deploy Trino and Dagster in the same stack (this one deploys ${topology.components.includes("trino") ? "Trino without Dagster" : "Dagster without Trino"}): across split stacks dbt's login and the platform's CA do not reach Dagster yet; leave it false here`,
        );
    // The CA reaches PostgreSQL's clients within one stack only, as dbt's Trino login does.
    const database = readDatabase(r);
    if (database.postgres.tls && topology.components.includes("database") !== topology.components.includes("dagster"))
        r.problem(
            "postgresTls",
            true,
            `deploy the database and Dagster in the same stack (this one deploys ${topology.components.includes("database") ? "the database without Dagster" : "Dagster without the database"}): across split stacks the platform's CA does not reach PostgreSQL's clients yet; leave it false here`,
        );
    const withLogin = (chart: ChartSpec): ChartSpec =>
        chartLogin && chart.source.kind === "repository" ? { ...chart, login: chartLogin } : chart;
    const config: PlatformConfig = {
        project,
        stack,
        ...target,
        ...topology,
        ...readNamespaces(r),
        ...shared,
        registryLogin,
        credentialGenerations: readRotation(r, topology),
        allowDataChanges: readAllowDataChanges(r),
        verifyWiring: r.boolean("verifyWiring"),
        wiringChecksSkip: readWiringChecksSkip(r),
        garage: readGarage(r),
        database,
        trino: { ...trino, chart: withLogin(trino.chart) },
        airbyte: { ...airbyte, chart: withLogin(airbyte.chart) },
        dagster: { ...dagster, chart: withLogin(dagster.chart) },
    };
    const problems = [...(options.earlier ?? []), ...unread, ...r.problems];
    if (problems.length > 0) throw new ConfigError(stack, problems);
    return onMirror(config);
}

/**
 * Every image the stack names, pulled through `imageRegistryMirror` when one is set: the
 * platform's own workloads and Jobs read these, and the charts get the mirror in their values.
 */
function onMirror(cfg: PlatformConfig): PlatformConfig {
    const m = (ref: string) => mirrorImage(ref, cfg.imageMirror);
    if (cfg.imageMirror === undefined) return cfg;
    return {
        ...cfg,
        images: { busybox: m(cfg.images.busybox), curl: m(cfg.images.curl) },
        garage: { ...cfg.garage, image: m(cfg.garage.image) },
        database: {
            postgres: { ...cfg.database.postgres, image: m(cfg.database.postgres.image) },
            metastore: { ...cfg.database.metastore, image: m(cfg.database.metastore.image) },
        },
        dagster: {
            ...cfg.dagster,
            userCode: { ...cfg.dagster.userCode, image: m(cfg.dagster.userCode.image) },
            login: { ...cfg.dagster.login, image: m(cfg.dagster.login.image) },
        },
    };
}

/** The project's own keys of a full config map (`<project>:<key>` → `<key>`), and the rest. */
export function splitKeys(
    all: Record<string, string>,
    project: string,
): { raw: Record<string, string>; foreign: Record<string, string> } {
    const prefix = `${project}:`;
    const raw: Record<string, string> = {};
    const foreign: Record<string, string> = {};
    for (const [key, value] of Object.entries(all)) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
        else foreign[key] = value;
    }
    return { raw, foreign };
}

/** The project's own keys of a full config map (`<project>:<key>` → `<key>`). */
export function projectKeys(all: Record<string, string>, project: string): Record<string, string> {
    return splitKeys(all, project).raw;
}

/** Which config keys the CLI marked secret (PULUMI_CONFIG_SECRET_KEYS, which the SDK keeps). */
export function secretConfigKeys(keys: string[]): Set<string> {
    const sdk = sdkConfig as unknown as { isConfigSecret?: (key: string) => boolean };
    if (sdk.isConfigSecret) return new Set(keys.filter((k) => sdk.isConfigSecret!(k)));
    const env = process.env.PULUMI_CONFIG_SECRET_KEYS;
    const list = env ? (JSON.parse(env) as unknown) : [];
    return new Set(
        Array.isArray(list) ? list.filter((k): k is string => typeof k === "string" && keys.includes(k)) : [],
    );
}

/** Loads the running stack's configuration; throws ConfigError before any resource is created. */
export function loadPlatformConfig(): PlatformConfig {
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    const all = pulumi.runtime.allConfig();
    const { raw, foreign } = splitKeys(all, project);
    const prefix = `${project}:`;
    const secretKeys = new Set(
        [...secretConfigKeys(Object.keys(all))].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
    );
    return parsePlatformConfig(raw, project, stack, { foreign, secretKeys });
}
