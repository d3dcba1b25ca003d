// Loads and validates the whole platform configuration in one place. Every problem is collected
// and reported in one error (key, bad value, what would be valid) before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, ConfigKey, ConfigKeyName } from "./config-schema";
import { closestName } from "./suggest";

export const COMPONENTS = ["garage", "database", "trino", "airbyte", "dagster"] as const;
export type ComponentName = (typeof COMPONENTS)[number];

/** What each component reads from the others: deploying one without these cannot work. */
export const COMPONENT_NEEDS: Record<ComponentName, readonly ComponentName[]> = {
    garage: [],
    database: ["garage"],
    trino: ["garage", "database"],
    airbyte: ["garage", "database"],
    dagster: ["garage", "database", "trino", "airbyte"],
};

/** Size profiles of chart-managed pod fleets (see sizing.ts). */
export const SIZE_PROFILES = ["small", "medium", "large"] as const;
export type SizeProfile = (typeof SIZE_PROFILES)[number];

export interface Resources {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

export interface PlatformConfig {
    project: string;
    stack: string;
    /** Label value naming the environment; the stack name unless configured. */
    environment: string;
    clusterDomain: string;
    kubernetes: { context?: string; kubeconfig?: string };
    /** Components this stack deploys, in dependency order. */
    components: ComponentName[];
    /** Stacks whose outputs give the components this stack needs but does not deploy (split mode). */
    upstreamStacks: string[];
    /** Components other stacks deploy against this one: the credentials they need are issued here. */
    downstreamComponents: ComponentName[];
    /** Resource options of the resources that hold data (Garage, PostgreSQL). */
    stateful: { protect: boolean; retainOnDelete: boolean };
    /** NetworkPolicies from the wiring, and the namespaces admitted to the user-facing services. */
    network: { policies: boolean; clientNamespaces: string[] };
    namespaces: Record<ComponentName, string>;
    /** StorageClass of every persistent volume; the cluster default when undefined. */
    storageClass?: string;
    buckets: { lakehouse: string; airbyte: string };
    images: { busybox: string; curl: string };
    garage: {
        image: string;
        replicas: number;
        replicationFactor: number;
        dataSize: string;
        metadataSize: string;
        resources: Resources;
    };
    database: {
        postgres: { image: string; storageSize: string; maxConnections: number; resources: Resources };
        metastore: { image: string; replicas: number; resources: Resources; jdbcDriverUrl: string; jdbcDriverSha256?: string };
    };
    trino: {
        chartVersion: string;
        workers: number;
        catalogName: string;
        keepDemoCatalogs: boolean;
        coordinator: { resources: Resources; heap: string };
        worker: { resources: Resources; heap: string };
    };
    airbyte: { chartVersion: string; size: SizeProfile };
    dagster: {
        chartVersion: string;
        chartPath?: string;
        size: SizeProfile;
        userCode: { image: string; tag: string; module: string };
        dbtSchema: string;
    };
}

export interface ConfigProblem {
    /** Fully qualified key, e.g. `lakehouse-platform:trinoWorkers`. */
    key: string;
    /** The offending value as given (undefined when the key is missing). */
    value: unknown;
    /** What would be valid. */
    expected: string;
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

function formatProblems(stack: string, problems: ConfigProblem[]): string {
    const lines = problems.map((p) => {
        const shown = p.value === undefined ? "(not set)" : JSON.stringify(p.value);
        return `  - ${p.key} = ${shown}: ${p.expected}`;
    });
    const n = problems.length;
    return [`invalid configuration for stack "${stack}" (${n} problem${n === 1 ? "" : "s"}):`, ...lines, "No resource was registered."].join("\n");
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_LABEL_RULE = "a DNS-1123 label: at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit";
const BUCKET_RULE = "an S3 bucket name: 3 to 63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit";

/** S3 bucket naming rules (the subset Garage and every S3 client agree on). */
export function isBucketName(s: string): boolean {
    return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s) && !s.includes("..") && !/^\d+\.\d+\.\d+\.\d+$/.test(s);
}

export function isDnsLabel(s: string): boolean {
    return s.length <= 63 && DNS_LABEL.test(s);
}

/** A DNS-1123 subdomain without a trailing dot, such as `cluster.local`. */
export function isDnsSubdomain(s: string): boolean {
    return s.length > 0 && s.length <= 253 && s.split(".").every(isDnsLabel);
}

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** An exact chart version: a range, `latest` or an empty string would let the chart change under a stack. */
export function isExactVersion(s: string): boolean {
    return EXACT_VERSION.test(s);
}

/** An image reference pinned by a tag other than `latest`, or by digest. */
export function isPinnedImage(ref: string): boolean {
    if (/\s/.test(ref) || ref === "") return false;
    if (/@sha256:[0-9a-f]{64}$/.test(ref)) return true;
    const lastSlash = ref.lastIndexOf("/");
    const colon = ref.indexOf(":", lastSlash + 1);
    if (colon < 0) return false;
    const tag = ref.slice(colon + 1);
    return /^[\w][\w.-]{0,127}$/.test(tag) && tag !== "latest";
}

const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const SUFFIX: Record<string, number> = {
    "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a Kubernetes quantity in base units (cores or bytes), or undefined when malformed. */
export function parseQuantity(q: string): number | undefined {
    const m = QUANTITY.exec(q);
    if (!m) return undefined;
    return Number(m[1]) * SUFFIX[m[3] ?? ""];
}

/** Reads raw (string) config values, applies declared defaults, and collects problems. */
class ConfigReader {
    readonly problems: ConfigProblem[] = [];

    constructor(
        private readonly project: string,
        private readonly raw: Record<string, string>,
    ) {}

    fullKey(key: string): string {
        return `${this.project}:${key}`;
    }

    problem(key: ConfigKeyName, value: unknown, expected: string): void {
        this.problems.push({ key: this.fullKey(key), value, expected });
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

    string(key: ConfigKeyName, check?: (s: string) => boolean, rule?: string): string {
        const value = this.optionalString(key);
        if (value === undefined) {
            this.problem(key, undefined, rule ?? "a value is required");
            return "";
        }
        if (check && !check(value)) this.problem(key, value, rule ?? "invalid value");
        return value;
    }

    /** The value, or undefined (with a problem recorded) when it is not an integer of at least `min`. */
    integer(key: ConfigKeyName, min: number): number | undefined {
        const { value } = this.rawOrDefault(key);
        const text = Array.isArray(value) ? "" : String(value);
        if (!/^-?\d+$/.test(text) || Number(text) < min) {
            this.problem(key, value, `an integer of at least ${min}`);
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

    /** A JVM heap size (`1536M`, `8G`) that fits in the workload's memory limit with room to spare. */
    heap(key: ConfigKeyName, memoryLimitKey: ConfigKeyName, memoryLimit: string): string {
        const heap = this.string(key, (s) => /^\d+[MG]$/.test(s), "a JVM heap size such as 1536M or 8G");
        const heapBytes = /^\d+[MG]$/.test(heap) ? Number(heap.slice(0, -1)) * (heap.endsWith("G") ? 2 ** 30 : 2 ** 20) : undefined;
        const limitBytes = parseQuantity(memoryLimit);
        if (heapBytes !== undefined && limitBytes !== undefined && heapBytes > 0.85 * limitBytes) {
            this.problem(key, heap, `at most 85% of ${this.fullKey(memoryLimitKey)} = ${JSON.stringify(memoryLimit)}: the JVM needs memory beyond its heap`);
        }
        return heap;
    }

    sizeProfile(key: ConfigKeyName): SizeProfile {
        return this.string(key, (s) => (SIZE_PROFILES as readonly string[]).includes(s), `one of ${SIZE_PROFILES.join(", ")}`) as SizeProfile;
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

    quantity(key: ConfigKeyName, kind: "cpu" | "memory" | "storage"): string {
        const rule = kind === "cpu" ? "a CPU quantity such as 500m or 2" : `a ${kind} quantity such as 512Mi or 10Gi`;
        return this.string(key, (s) => {
            const v = parseQuantity(s);
            if (v === undefined || v <= 0) return false;
            return kind === "cpu" || !s.endsWith("m");
        }, rule);
    }

    resources(prefix: "garage" | "postgres" | "hiveMetastore" | "trinoCoordinator" | "trinoWorker"): Resources {
        const key = (suffix: string) => `${prefix}${suffix}` as ConfigKeyName;
        const r: Resources = {
            requests: { cpu: this.quantity(key("CpuRequest"), "cpu"), memory: this.quantity(key("MemoryRequest"), "memory") },
            limits: { cpu: this.quantity(key("CpuLimit"), "cpu"), memory: this.quantity(key("MemoryLimit"), "memory") },
        };
        for (const [resource, req, lim] of [["Cpu", r.requests.cpu, r.limits.cpu], ["Memory", r.requests.memory, r.limits.memory]] as const) {
            const a = parseQuantity(req);
            const b = parseQuantity(lim);
            if (a !== undefined && b !== undefined && b < a) {
                this.problem(key(`${resource}Limit`), lim, `at least the request ${this.fullKey(key(`${resource}Request`))} = ${JSON.stringify(req)}`);
            }
        }
        return r;
    }

    chartVersion(key: ConfigKeyName): string {
        return this.string(key, isExactVersion, "an exact chart version such as 1.42.2 (no range, no 'latest')");
    }

    image(key: ConfigKeyName): string {
        return this.string(key, isPinnedImage, "an image pinned by tag or digest, such as repository/name:1.2.3 (not ':latest', not untagged)");
    }
}

/** `stack`, `project/stack` or `org/project/stack`, as `pulumi.StackReference` takes it. */
const STACK_NAME = /^([A-Za-z0-9_.-]+\/){0,2}[A-Za-z0-9_.-]+$/;

function isSameStack(reference: string, project: string, stack: string): boolean {
    const parts = reference.split("/");
    return parts[parts.length - 1] === stack && (parts.length < 2 || parts[parts.length - 2] === project);
}

/** A list of component names: known, each once, in dependency order. */
function componentList(r: ConfigReader, key: "components" | "downstreamComponents"): { listed: string[]; names: ComponentName[] } {
    const listed = r.stringArray(key);
    const out: ComponentName[] = [];
    for (const name of listed) {
        if (!(COMPONENTS as readonly string[]).includes(name)) {
            r.problem(key, listed, `unknown component ${JSON.stringify(name)}; valid components are ${COMPONENTS.join(", ")}`);
        } else if (out.includes(name as ComponentName)) {
            r.problem(key, listed, `${name} is listed twice`);
        } else {
            out.push(name as ComponentName);
        }
    }
    return { listed, names: out.sort((a, b) => COMPONENTS.indexOf(a) - COMPONENTS.indexOf(b)) };
}

/**
 * Validates raw stack configuration (the project's keys without the `<project>:` prefix, values
 * as the Pulumi CLI passes them: strings, arrays as JSON) and returns the typed configuration.
 * Throws one ConfigError listing every problem.
 */
export function parsePlatformConfig(raw: Record<string, string>, project: string, stack: string): PlatformConfig {
    const r = new ConfigReader(project, raw);

    for (const key of Object.keys(raw)) {
        if (!(key in CONFIG_KEYS)) {
            const hint = closestName(key, Object.keys(CONFIG_KEYS));
            r.problems.push({
                key: r.fullKey(key),
                value: raw[key],
                expected: `not a key of this project${hint ? `; did you mean ${r.fullKey(hint)}?` : ""} (Pulumi.yaml lists every key)`,
            });
        }
    }

    const environment = r.optionalString("environment") ?? stack;
    if (!isDnsLabel(environment)) {
        r.problem("environment", environment, `${DNS_LABEL_RULE} (it defaults to the stack name; set it when the stack name is not one)`);
    }

    const clusterDomain = r.string("clusterDomain", isDnsSubdomain, "a DNS domain of lower-case labels separated by dots, such as cluster.local (no leading, trailing or double dot)");

    const context = r.optionalString("kubeContext");
    const kubeconfig = r.optionalString("kubeconfig");
    if (context === undefined && kubeconfig === undefined) {
        r.problem("kubeContext", undefined, `set ${r.fullKey("kubeContext")} (or ${r.fullKey("kubeconfig")}) to the target cluster, so the stack never deploys to whatever context is current`);
    }

    const { listed, names: components } = componentList(r, "components");
    if (listed.length === 0 && r.problems.every((p) => p.key !== r.fullKey("components"))) {
        r.problem("components", listed, `at least one of ${COMPONENTS.join(", ")}`);
    }
    const upstreamStacks = r.stringArray("upstreamStacks");
    for (const name of upstreamStacks) {
        if (!STACK_NAME.test(name)) {
            r.problem("upstreamStacks", upstreamStacks, `${JSON.stringify(name)} is not a stack name; use <org>/<project>/<stack> (letters, digits, '-', '_', '.')`);
        } else if (isSameStack(name, project, stack)) {
            r.problem("upstreamStacks", upstreamStacks, `${JSON.stringify(name)} is this stack; list the stacks that deploy the components this one needs`);
        }
    }
    if (new Set(upstreamStacks).size !== upstreamStacks.length) r.problem("upstreamStacks", upstreamStacks, "each stack once");
    for (const c of components) {
        const missing = COMPONENT_NEEDS[c].filter((n) => !components.includes(n));
        if (missing.length > 0 && upstreamStacks.length === 0) {
            r.problem(
                "components",
                listed,
                `${c} needs ${missing.join(" and ")}: add ${missing.length === 1 ? "it" : "them"} to the list, or set ${r.fullKey("upstreamStacks")} to the stack${missing.length === 1 ? "" : "s"} that deploy${missing.length === 1 ? "s" : ""} ${missing.length === 1 ? "it" : "them"}`,
            );
        }
    }
    const downstream = componentList(r, "downstreamComponents");
    const downstreamComponents = downstream.names;
    for (const c of downstreamComponents) {
        if (components.includes(c)) r.problem("downstreamComponents", downstream.listed, `${c} is deployed by this stack; list only components other stacks deploy`);
    }
    if (downstreamComponents.length > 0 && !components.includes("garage") && !components.includes("database")) {
        r.problem("downstreamComponents", downstream.listed, "empty: only a stack that deploys garage or database issues credentials to other stacks");
    }

    const namespaces = {} as Record<ComponentName, string>;
    const owner = new Map<string, ComponentName>();
    for (const c of COMPONENTS) {
        const key = `${c}Namespace` as ConfigKeyName;
        const ns = r.string(key, isDnsLabel, DNS_LABEL_RULE);
        namespaces[c] = ns;
        const first = owner.get(ns);
        if (first !== undefined && ns !== "") {
            r.problem(key, ns, `a namespace of its own: ${r.fullKey(`${first}Namespace`)} already uses ${JSON.stringify(ns)}`);
        } else {
            owner.set(ns, c);
        }
        if (["default", "kube-system", "kube-public", "kube-node-lease"].includes(ns)) {
            r.problem(key, ns, "a namespace of the platform's own, not a Kubernetes system namespace");
        }
    }

    const clientNamespaces = r.stringArray("networkPolicyClientNamespaces");
    for (const ns of clientNamespaces) {
        if (!isDnsLabel(ns)) r.problem("networkPolicyClientNamespaces", clientNamespaces, `${JSON.stringify(ns)} is not a namespace name (${DNS_LABEL_RULE})`);
        else if (owner.has(ns)) r.problem("networkPolicyClientNamespaces", clientNamespaces, `${ns} is ${owner.get(ns)}'s namespace; list only namespaces outside the platform (its own traffic follows the wiring)`);
    }

    const garageReplicas = r.integer("garageReplicas", 1);
    const replicationFactor = r.integer("garageReplicationFactor", 1);
    if (garageReplicas !== undefined && replicationFactor !== undefined && replicationFactor > garageReplicas) {
        r.problem("garageReplicationFactor", replicationFactor, `at most ${r.fullKey("garageReplicas")} = ${garageReplicas}: Garage cannot keep more copies than it has nodes`);
    }

    const storageClass = r.optionalString("storageClass");
    if (storageClass !== undefined && !isDnsSubdomain(storageClass)) {
        r.problem("storageClass", storageClass, "the name of a StorageClass (a DNS subdomain), or unset for the cluster default");
    }
    const lakehouseBucket = r.string("lakehouseBucket", isBucketName, BUCKET_RULE);
    const airbyteBucket = r.string("airbyteBucket", isBucketName, BUCKET_RULE);
    if (lakehouseBucket === airbyteBucket && lakehouseBucket !== "") {
        r.problem("airbyteBucket", airbyteBucket, `a bucket of its own: Airbyte's state and logs must not mix with the warehouse in ${r.fullKey("lakehouseBucket")}`);
    }

    const hiveMetastoreReplicas = r.integer("hiveMetastoreReplicas", 1);
    const postgresMaxConnections = r.integer("postgresMaxConnections", 20);
    const jdbcDriverUrl = r.optionalString("hiveMetastoreJdbcDriverUrl") ?? "";
    if (jdbcDriverUrl !== "" && !/^https:\/\/[^\s]+\.jar$/.test(jdbcDriverUrl)) {
        r.problem("hiveMetastoreJdbcDriverUrl", jdbcDriverUrl, "an https:// URL of a .jar, or empty when the image already has the driver");
    }
    const jdbcDriverSha256 = r.optionalString("hiveMetastoreJdbcDriverSha256");
    if (jdbcDriverSha256 !== undefined && !/^[0-9a-f]{64}$/.test(jdbcDriverSha256)) {
        r.problem("hiveMetastoreJdbcDriverSha256", jdbcDriverSha256, "64 lower-case hex characters (sha256sum of the jar)");
    }
    const trinoWorkers = r.integer("trinoWorkers", 1);
    const coordinatorResources = r.resources("trinoCoordinator");
    const workerResources = r.resources("trinoWorker");

    // Placeholders (`?? 0`, "") stand only where a problem was recorded, and then nothing is returned.
    const config: PlatformConfig = {
        project,
        stack,
        environment,
        clusterDomain,
        kubernetes: { context, kubeconfig },
        components,
        upstreamStacks,
        downstreamComponents,
        stateful: { protect: r.boolean("protectStatefulResources"), retainOnDelete: r.boolean("retainStatefulResources") },
        network: { policies: r.boolean("networkPolicies"), clientNamespaces },
        namespaces,
        storageClass,
        buckets: { lakehouse: lakehouseBucket, airbyte: airbyteBucket },
        images: { busybox: r.image("busyboxImage"), curl: r.image("curlImage") },
        garage: {
            image: r.image("garageImage"),
            replicas: garageReplicas ?? 0,
            replicationFactor: replicationFactor ?? 0,
            dataSize: r.quantity("garageDataSize", "storage"),
            metadataSize: r.quantity("garageMetadataSize", "storage"),
            resources: r.resources("garage"),
        },
        database: {
            postgres: {
                image: r.image("postgresImage"),
                storageSize: r.quantity("postgresStorageSize", "storage"),
                maxConnections: postgresMaxConnections ?? 0,
                resources: r.resources("postgres"),
            },
            metastore: {
                image: r.image("hiveMetastoreImage"),
                replicas: hiveMetastoreReplicas ?? 0,
                resources: r.resources("hiveMetastore"),
                jdbcDriverUrl,
                jdbcDriverSha256,
            },
        },
        trino: {
            chartVersion: r.chartVersion("trinoChartVersion"),
            workers: trinoWorkers ?? 0,
            catalogName: r.string("trinoCatalogName", (s) => /^[a-z][a-z0-9_]{0,63}$/.test(s), "a Trino catalog name: lower-case letters, digits and '_', starting with a letter"),
            keepDemoCatalogs: r.boolean("trinoKeepDemoCatalogs"),
            coordinator: { resources: coordinatorResources, heap: r.heap("trinoCoordinatorHeap", "trinoCoordinatorMemoryLimit", coordinatorResources.limits.memory) },
            worker: { resources: workerResources, heap: r.heap("trinoWorkerHeap", "trinoWorkerMemoryLimit", workerResources.limits.memory) },
        },
        airbyte: {
            chartVersion: r.chartVersion("airbyteChartVersion"),
            size: r.sizeProfile("airbyteSize"),
        },
        dagster: {
            chartVersion: r.chartVersion("dagsterChartVersion"),
            chartPath: r.optionalString("dagsterChartPath"),
            size: r.sizeProfile("dagsterSize"),
            userCode: {
                image: r.string("dagsterUserCodeImage", (s) => /^[a-z0-9][a-z0-9._/:-]*$/.test(s) && !/:[\w.-]+$/.test(s.split("/").pop() ?? ""), "an image repository without tag (the tag is dagsterUserCodeTag)"),
                tag: r.string("dagsterUserCodeTag", (s) => /^[\w][\w.-]{0,127}$/.test(s) && s !== "latest", "an image tag other than 'latest', such as 1.9.4"),
                module: r.string("dagsterUserCodeModule", (s) => /^([A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*|\/?[\w./-]+\.py)$/.test(s), "a Python module (my_pipelines.definitions) or a .py file path"),
            },
            dbtSchema: r.string("dbtSchema", (s) => /^[a-z_][a-z0-9_]{0,62}$/.test(s), "a schema name: lower-case letters, digits and '_'"),
        },
    };

    if (r.problems.length > 0) throw new ConfigError(stack, r.problems);
    return config;
}

/** The project's own keys of a full config map (`<project>:<key>` → `<key>`). */
export function projectKeys(all: Record<string, string>, project: string): Record<string, string> {
    const prefix = `${project}:`;
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(all)) {
        if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
    }
    return raw;
}

/** Loads the running stack's configuration; throws ConfigError before any resource is created. */
export function loadPlatformConfig(): PlatformConfig {
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    return parsePlatformConfig(projectKeys(pulumi.runtime.allConfig(), project), project, stack);
}
