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

/**
 * How deep values (and configuration text inside them) are read, and how long a string may be.
 * Beyond either, nothing is judged, and `configuration-readable` reports it as a mandatory
 * violation: a value no policy reads must not pass unseen. A string this long exceeds what a
 * ConfigMap or a Helm release can hold anyway (1 MiB).
 */
export const MAX_DEPTH = 64;
export const MAX_STRING = 1_048_576;
const EMBED_SEPARATOR = " › ";

/** A value the policies cannot read, and why. */
export interface Unreadable {
    path: string;
    reason: string;
}

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
    // A script is read as text, every line of it: a shell assignment is not a properties entry.
    if (name.endsWith(".sh") || text.startsWith("#!")) return undefined;
    if (name.endsWith(".xml")) return "xml";
    if (name.endsWith(".toml")) return "toml";
    if (name.endsWith(".yaml") || name.endsWith(".yml")) return "yaml";
    if (name.endsWith(".properties")) return "properties";
    const lines = text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#") && !l.startsWith("!"));
    if (lines.length === 0) return undefined;
    if (lines[0].startsWith("<")) return "xml";
    if (lines.some((l) => /^\[[\w.-]+\]$/.test(l)) && lines.some((l) => /^[\w.-]+\s*=\s*["'[\d{tf]/.test(l)))
        return "toml";
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

// Every policy call gets freshly deserialised props (CrossGuard shares nothing between policies),
// but the configuration text in them is the same string for each policy that reads the resource:
// the trees parsed from the last texts are kept, so a resource's files are parsed once, not once
// per policy. Bounded, so a stack of any size stays small; the trees are only ever read.
const PARSED = new Map<string, unknown>();
const PARSED_ENTRIES = 256;
const PARSED_MIN_LENGTH = 64;

function parseEmbedded(format: Format, text: string): unknown {
    if (text.length < PARSED_MIN_LENGTH) return parseText(format, text);
    const key = `${format}\0${text}`;
    if (PARSED.has(key)) {
        const tree = PARSED.get(key);
        // Refresh its place: the map's order is the order of last use.
        PARSED.delete(key);
        PARSED.set(key, tree);
        return tree;
    }
    let tree: unknown;
    try {
        tree = parseText(format, text);
    } catch {
        tree = undefined;
    }
    PARSED.set(key, tree);
    if (PARSED.size > PARSED_ENTRIES) PARSED.delete(PARSED.keys().next().value as string);
    return tree;
}

function parseText(format: Format, text: string): unknown {
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
 * nothing is missed when it does not parse. What lies beyond the depth or length limits goes to
 * `unreadable` instead.
 */
export function walkStrings(
    value: unknown,
    path: string,
    visit: (s: FoundString) => void,
    key = "",
    embedded = false,
    depth = 0,
    unreadable: (u: Unreadable) => void = () => undefined,
): void {
    if (typeof value === "string") {
        if (value.length > MAX_STRING) {
            unreadable({
                path,
                reason: `a string of ${value.length.toLocaleString("en-US")} characters (the policies read at most ${MAX_STRING.toLocaleString("en-US")})`,
            });
            return;
        }
        const format = sniffFormat(key, value);
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
        if (expanded) walkStrings(tree, `${path}${EMBED_SEPARATOR}`, visit, key, true, depth + 1, unreadable);
        return;
    }
    if (typeof value !== "object" || value === null) return;
    if (depth >= MAX_DEPTH) {
        unreadable({ path, reason: `values nested deeper than ${MAX_DEPTH} levels` });
        return;
    }
    // Right after the separator of embedded text, keys are written as they are (`hive.metastore.uri`).
    const join = (k: string | number) =>
        path.endsWith(EMBED_SEPARATOR) ? `${path}${typeof k === "number" ? `[${k}]` : k}` : child(path, k);
    // Index loops and Object.keys only: the policy SDK's secret proxy throws on Array.prototype methods.
    if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++)
            walkStrings(value[i], join(i), visit, key, embedded, depth + 1, unreadable);
    } else {
        const map = value as Record<string, unknown>;
        for (const k of Object.keys(map)) walkStrings(map[k], join(k), visit, k, embedded, depth + 1, unreadable);
    }
}

/** Types whose props carry Helm values. */
export const HELM_TYPES = new Set([
    "kubernetes:helm.sh/v3:Release",
    "kubernetes:helm.sh/v4:Chart",
    "kubernetes:helm.sh/v3:Chart",
]);
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
        for (let i = 0; i < list.length; i++) {
            const c: unknown = list[i];
            if (isMap(c))
                out.push({
                    path: `${base}.${field}[${typeof c.name === "string" ? JSON.stringify(c.name) : i}]`,
                    container: c,
                });
        }
    }
    return out;
}

/**
 * The configuration a resource hands to software: Helm values, ConfigMap data, and each
 * container's env values, command and arguments. Other props (names, labels, specs) are not
 * configuration of the software and are not scanned. Values beyond the limits go to `unreadable`.
 */
export function configStrings(
    type: string,
    props: unknown,
    visit: (s: FoundString) => void,
    unreadable?: (u: Unreadable) => void,
): void {
    if (!isMap(props)) return;
    forEachConfigValue(type, props, (value, path, key) => walkStrings(value, path, visit, key, false, 0, unreadable));
}

/**
 * Calls `fn` for each configuration value of a resource, with its holder, so a remediation can
 * write a new value in place (through the policy SDK's proxy, which keeps a secret secret).
 */
function forEachConfigValue(
    type: string,
    props: Record<string, unknown>,
    fn: (
        value: unknown,
        path: string,
        key: string,
        holder: Record<string, unknown> | unknown[],
        slot: string | number,
    ) => void,
): void {
    if (HELM_TYPES.has(type)) {
        fn(props.values, "values", "values", props, "values");
    } else if (type === CONFIGMAP_TYPE) {
        fn(props.data, "data", "data", props, "data");
    } else if (isWorkload(type)) {
        for (const { path, container } of containersOf(type, props)) {
            const env: unknown = container.env;
            if (Array.isArray(env)) {
                for (let i = 0; i < env.length; i++) {
                    const e: unknown = env[i];
                    if (isMap(e) && typeof e.value === "string") {
                        const name = typeof e.name === "string" ? e.name : String(i);
                        fn(e.value, `${path}.env[${JSON.stringify(name)}]`, name, e, "value");
                    }
                }
            }
            for (const field of ["command", "args"]) fn(container[field], `${path}.${field}`, field, container, field);
        }
    }
}

/**
 * Rewrites, in place, every configuration string of a resource for which `fn` returns another
 * value (as `configStrings` finds them, but whole, not inside embedded text). Returns whether
 * anything changed. Writes go through the props object given, so the policy SDK's proxy keeps the
 * secrecy of what it replaces.
 */
export function rewriteConfigStrings(
    type: string,
    props: unknown,
    fn: (value: string, key: string) => string,
): boolean {
    if (!isMap(props)) return false;
    let changed = false;
    const visit = (
        value: unknown,
        key: string,
        holder: Record<string, unknown> | unknown[],
        slot: string | number,
        depth: number,
    ): void => {
        if (typeof value === "string") {
            if (value.length > MAX_STRING) return;
            const fixed = fn(value, key);
            if (fixed !== value) {
                (holder as Record<string | number, unknown>)[slot] = fixed;
                changed = true;
            }
            return;
        }
        if (typeof value !== "object" || value === null || depth >= MAX_DEPTH) return;
        if (Array.isArray(value)) {
            for (let i = 0; i < value.length; i++) visit(value[i], key, value, i, depth + 1);
        } else {
            const map = value as Record<string, unknown>;
            for (const k of Object.keys(map)) visit(map[k], k, map, k, depth + 1);
        }
    };
    forEachConfigValue(type, props, (value, _path, key, holder, slot) => visit(value, key, holder, slot, 0));
    return changed;
}

/**
 * A multi-language component the engine shows with no inputs (a `helm.v4.Chart`, built by the
 * Kubernetes provider): what it deploys is judged through its children, the objects it renders.
 */
export function isRemoteComponent(type: string, props: unknown): boolean {
    return type === "kubernetes:helm.sh/v4:Chart" && (!isMap(props) || Object.keys(props).length === 0);
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
