// Finds every string a resource hands to the software it configures (Helm values, ConfigMap
// data, container env values, commands and arguments), including the strings inside configuration
// text embedded in them (properties, YAML, XML, TOML), each with the path that leads to it.
import { XMLParser } from "fast-xml-parser";
import { parse as parseProperties } from "dot-properties";
import { parse as parseToml } from "smol-toml";
import { CORE_SCHEMA, load as loadYaml } from "js-yaml";

export interface FoundString {
    /** Where the string is, e.g. `values.catalogs.lakehouse › hive.metastore.uri`. */
    path: string;
    /** The nearest key: a map key, a property or XML property name, or an env variable's name. */
    key: string;
    value: string;
    /** Inside configuration text embedded in a value (so it cannot be rewritten in place). */
    embedded: boolean;
    /** Configuration text that was parsed: its own strings are visited one by one after it. */
    expanded: boolean;
}

const MAX_DEPTH = 48;
const EMBED_SEPARATOR = " › ";

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function child(path: string, key: string | number): string {
    if (typeof key === "number") return `${path}[${key}]`;
    if (path === "") return key;
    return /^[A-Za-z_$][\w$-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true });

type Format = "xml" | "toml" | "yaml" | "properties";

/** The format of a configuration text, from its file name when it has one, else from its content. */
export function sniffFormat(key: string, text: string): Format | undefined {
    if (!text.includes("\n") && !/^\s*</.test(text)) return undefined;
    const name = key.toLowerCase();
    if (name.endsWith(".xml")) return "xml";
    if (name.endsWith(".toml")) return "toml";
    if (name.endsWith(".yaml") || name.endsWith(".yml")) return "yaml";
    if (name.endsWith(".properties")) return "properties";
    const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#") && !l.startsWith("!"));
    if (lines.length === 0) return undefined;
    if (lines[0].startsWith("<")) return "xml";
    if (lines.some((l) => /^\[[\w.-]+\]$/.test(l)) && lines.some((l) => /^[\w.-]+\s*=\s*["'[\d{tf]/.test(l))) return "toml";
    const props = lines.filter((l) => /^[\w.\-[\]]+\s*=/.test(l)).length;
    const yamlish = lines.filter((l) => /^-?\s*[\w.\-"']+\s*:(\s|$)/.test(l) || l.startsWith("- ")).length;
    if (props > 0 && props >= yamlish) return "properties";
    if (yamlish > 0) return "yaml";
    return undefined;
}

/** Hadoop-style `<configuration><property><name/><value/>` files become name → value. */
function xmlToTree(text: string): unknown {
    const doc = xml.parse(text) as unknown;
    if (isMap(doc) && isMap(doc.configuration)) {
        const props = doc.configuration.property;
        const list = Array.isArray(props) ? props : props === undefined ? [] : [props];
        const tree: Record<string, unknown> = {};
        for (const p of list) if (isMap(p) && typeof p.name === "string") tree[p.name] = p.value;
        return tree;
    }
    return doc;
}

function parseEmbedded(format: Format, text: string): unknown {
    switch (format) {
        case "xml":
            return xmlToTree(text);
        case "toml":
            return parseToml(text);
        case "yaml":
            return loadYaml(text, { schema: CORE_SCHEMA });
        case "properties":
            return parseProperties(text);
    }
}

/**
 * Calls `visit` for every string below `value`. Configuration text is parsed (when it parses) and
 * its own strings are visited too, with paths through it; the text itself is visited as well, so
 * nothing is missed when it does not parse.
 */
export function walkStrings(value: unknown, path: string, visit: (s: FoundString) => void, key = "", embedded = false, depth = 0, seen = new Set<unknown>()): void {
    if (depth > MAX_DEPTH) return;
    if (typeof value === "string") {
        const format = depth < MAX_DEPTH - 8 ? sniffFormat(key, value) : undefined;
        let tree: unknown;
        if (format !== undefined) {
            try {
                tree = parseEmbedded(format, value);
            } catch {
                tree = undefined;
            }
        }
        const expanded = typeof tree === "object" && tree !== null;
        visit({ path, key, value, embedded, expanded });
        if (expanded) walkStrings(tree, `${path}${EMBED_SEPARATOR}`, visit, key, true, depth + 1, seen);
        return;
    }
    if (typeof value !== "object" || value === null || seen.has(value)) return;
    seen.add(value);
    // Right after the separator of embedded text, keys are written as they are (`hive.metastore.uri`).
    const join = (k: string | number) => (path.endsWith(EMBED_SEPARATOR) ? `${path}${typeof k === "number" ? `[${k}]` : k}` : child(path, k));
    if (Array.isArray(value)) {
        value.forEach((v, i) => walkStrings(v, join(i), visit, key, embedded, depth + 1, seen));
    } else {
        for (const [k, v] of Object.entries(value)) walkStrings(v, join(k), visit, k, embedded, depth + 1, seen);
    }
    seen.delete(value);
}

/** Types whose props carry Helm values. */
export const HELM_TYPES = new Set(["kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Chart"]);
export const CONFIGMAP_TYPE = "kubernetes:core/v1:ConfigMap";

/** Workload types and where their pod spec is. */
const POD_SPEC_PATHS: Record<string, string[]> = {
    "kubernetes:apps/v1:Deployment": ["spec", "template", "spec"],
    "kubernetes:apps/v1:StatefulSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:DaemonSet": ["spec", "template", "spec"],
    "kubernetes:apps/v1:ReplicaSet": ["spec", "template", "spec"],
    "kubernetes:batch/v1:Job": ["spec", "template", "spec"],
    "kubernetes:batch/v1:CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
    "kubernetes:core/v1:Pod": ["spec"],
};

export function isWorkload(type: string): boolean {
    return type in POD_SPEC_PATHS;
}

function dig(value: unknown, keys: string[]): unknown {
    let v = value;
    for (const k of keys) {
        if (!isMap(v)) return undefined;
        v = v[k];
    }
    return v;
}

/** The pod spec of a workload (undefined for other types). */
export function podSpecOf(type: string, props: unknown): Record<string, unknown> | undefined {
    const keys = POD_SPEC_PATHS[type];
    if (!keys) return undefined;
    const spec = dig(props, keys);
    return isMap(spec) ? spec : undefined;
}

export interface ContainerRef {
    path: string;
    container: Record<string, unknown>;
}

/** Every container and init container of a workload, with its path in the props. */
export function containersOf(type: string, props: unknown): ContainerRef[] {
    const spec = podSpecOf(type, props);
    if (!spec) return [];
    const base = POD_SPEC_PATHS[type].join(".");
    const out: ContainerRef[] = [];
    for (const field of ["initContainers", "containers"]) {
        const list = spec[field];
        if (!Array.isArray(list)) continue;
        list.forEach((c, i) => {
            if (isMap(c)) out.push({ path: `${base}.${field}[${typeof c.name === "string" ? JSON.stringify(c.name) : i}]`, container: c });
        });
    }
    return out;
}

/**
 * The configuration a resource hands to software: Helm values, ConfigMap data, and each
 * container's env values, command and arguments. Other props (names, labels, specs) are not
 * configuration of the software and are not scanned.
 */
export function configStrings(type: string, props: unknown, visit: (s: FoundString) => void): void {
    if (!isMap(props)) return;
    for (const found of foundStrings(type, props)) visit(found);
}

// The resource policies judge one resource after another, each reading the same configuration:
// the last resource's strings are kept (CrossGuard hands every policy the same props object), so
// its embedded files are parsed once. One entry only: a stack of 100,000 resources stays small.
let last: { props: object; type: string; found: FoundString[] } | undefined;

function foundStrings(type: string, props: Record<string, unknown>): FoundString[] {
    if (last?.props === props && last.type === type) return last.found;
    const found: FoundString[] = [];
    collectConfigStrings(type, props, (s) => found.push(s));
    last = { props, type, found };
    return found;
}

function collectConfigStrings(type: string, props: Record<string, unknown>, visit: (s: FoundString) => void): void {
    if (HELM_TYPES.has(type)) {
        walkStrings(props.values, "values", visit);
    } else if (type === CONFIGMAP_TYPE) {
        walkStrings(props.data, "data", visit);
    } else if (isWorkload(type)) {
        for (const { path, container } of containersOf(type, props)) {
            if (Array.isArray(container.env)) {
                container.env.forEach((e, i) => {
                    if (isMap(e) && typeof e.value === "string") {
                        const name = typeof e.name === "string" ? e.name : String(i);
                        walkStrings(e.value, `${path}.env[${JSON.stringify(name)}]`, visit, name);
                    }
                });
            }
            for (const field of ["command", "args"]) walkStrings(container[field], `${path}.${field}`, visit, field);
        }
    }
}

/** The namespace a namespaced resource or Helm release is in, when it says. */
export function namespaceOf(type: string, props: unknown): string | undefined {
    if (!isMap(props)) return undefined;
    if (HELM_TYPES.has(type)) return typeof props.namespace === "string" ? props.namespace : undefined;
    const ns = dig(props, ["metadata", "namespace"]);
    return typeof ns === "string" ? ns : undefined;
}

export function labelsOf(props: unknown): Record<string, string> {
    const labels = dig(props, ["metadata", "labels"]);
    if (!isMap(labels)) return {};
    return Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === "string"));
}

export { isMap, dig };

function mapStrings(value: unknown, fn: (value: string, key: string) => string, key: string, depth = 0): unknown {
    if (depth > MAX_DEPTH) return value;
    if (typeof value === "string") return fn(value, key);
    if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn, key, depth + 1));
    if (isMap(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn, k, depth + 1)]));
    return value;
}

/**
 * A copy of the props with every configuration string (as `configStrings` finds them, but whole,
 * not inside embedded text) replaced by `fn(value, key)`.
 */
export function mapConfigStrings(type: string, props: unknown, fn: (value: string, key: string) => string): unknown {
    if (!isMap(props)) return props;
    if (HELM_TYPES.has(type)) return { ...props, values: mapStrings(props.values, fn, "values") };
    if (type === CONFIGMAP_TYPE) return { ...props, data: mapStrings(props.data, fn, "data") };
    const keys = POD_SPEC_PATHS[type];
    if (!keys) return props;
    const mapContainer = (c: unknown): unknown => {
        if (!isMap(c)) return c;
        const out: Record<string, unknown> = { ...c };
        const env: unknown = c.env;
        if (Array.isArray(env)) {
            out.env = env.map((e: unknown) => (isMap(e) && typeof e.value === "string" ? { ...e, value: fn(e.value, typeof e.name === "string" ? e.name : "") } : e));
        }
        for (const field of ["command", "args"]) if (Array.isArray(c[field])) out[field] = mapStrings(c[field], fn, field);
        return out;
    };
    const update = (node: unknown, rest: string[]): unknown => {
        if (!isMap(node)) return node;
        if (rest.length === 0) {
            const out: Record<string, unknown> = { ...node };
            for (const field of ["initContainers", "containers"]) {
                const list: unknown = node[field];
                if (Array.isArray(list)) out[field] = list.map(mapContainer);
            }
            return out;
        }
        return { ...node, [rest[0]]: update(node[rest[0]], rest.slice(1)) };
    };
    return update(props, keys);
}
