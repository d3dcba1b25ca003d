// Rules the program and the policy pack share, written once. Dependency-free and inside the pack's
// folder (the pack is self-contained and never imports the program): the program imports them
// from here, so a value the program accepts is one the pack accepts, and the other way round.

/** The platform's components, in dependency order. */
export const COMPONENTS = ["garage", "database", "trino", "airbyte", "dagster"] as const;
export type Component = (typeof COMPONENTS)[number];

export function isComponent(name: unknown): name is Component {
    return typeof name === "string" && (COMPONENTS as readonly string[]).includes(name);
}

// ---- labels every platform object carries ----

export const PART_OF = "lakehouse-platform";
export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const COMPONENT_LABEL = "lakehouse-platform/component";
export const ENVIRONMENT_LABEL = "lakehouse-platform/environment";
export const POD_SECURITY_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";
/** What a platform namespace must carry. */
export const NAMESPACE_LABELS = [
    PART_OF_LABEL,
    COMPONENT_LABEL,
    ENVIRONMENT_LABEL,
    POD_SECURITY_ENFORCE_LABEL,
] as const;

// ---- names ----

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label: what a namespace or Service name must be. */
export function isDnsLabel(s: string): boolean {
    return s.length <= 63 && DNS_LABEL.test(s);
}

/** A DNS-1123 subdomain without a trailing dot, such as `cluster.local`. */
export function isDnsSubdomain(s: string): boolean {
    return s.length > 0 && s.length <= 253 && s.split(".").every(isDnsLabel);
}

/**
 * Helm's conventional `<chart>.fullname`: the release name when it already contains the chart
 * name, else `<release>-<chart>`, cut to 63 characters (Trino's and Dagster's charts use it).
 */
export function helmFullname(release: string, chart: string): string {
    const name = release.includes(chart) ? release : `${release}-${chart}`;
    return name.slice(0, 63).replace(/-+$/, "");
}

// ---- versions and images ----

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** An exact chart version: a range, `latest` or an empty string would let the chart change under a stack. */
export function isExactVersion(s: string): boolean {
    return EXACT_VERSION.test(s);
}

export interface ImageReference {
    /** `registry.example.com:5000`, when the reference names one. */
    registry?: string;
    /** `library/busybox`, lower case. */
    repository: string;
    tag?: string;
    /** `sha256:` and 64 hex characters. */
    digest?: string;
}

// The grammar of distribution/reference (what Docker, containerd and Kubernetes accept).
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(
    `^(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);

/**
 * An image reference read by the grammar container runtimes use, or undefined when it is not one
 * (upper case in the repository, an empty tag, a space). A first component counts as a registry
 * only when it looks like a host (a dot, a port, or `localhost`), as the runtimes decide it.
 */
export function parseImageReference(ref: string): ImageReference | undefined {
    if (ref.length > 255 + 128 + 72) return undefined;
    const m = REFERENCE.exec(ref);
    if (!m) return undefined;
    let registry: string | undefined = m[1];
    let repository = m[2];
    const [, , , tag, digest] = m;
    if (registry !== undefined && !/[.:]/.test(registry) && registry !== "localhost") {
        // `library/busybox`: the first component is part of the repository.
        if (!new RegExp(`^${PATH_COMPONENT}$`).test(registry)) return undefined;
        repository = `${registry}/${repository}`;
        registry = undefined;
    }
    return { ...(registry ? { registry } : {}), repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Docker Hub's names for itself: an image without a registry, or with one of these, comes from it. */
const DOCKER_HUB = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/**
 * The repository path an image has on the registry it comes from, as a mirror serves it: Docker
 * Hub's official images under `library/` (`busybox` is `library/busybox`), every other path as it is.
 */
export function registryPath(ref: ImageReference): string {
    const hub = ref.registry === undefined || DOCKER_HUB.has(ref.registry);
    return hub && !ref.repository.includes("/") ? `library/${ref.repository}` : ref.repository;
}

/**
 * The image as pulled through a registry mirror (`host[:port][/path]`): the same repository path,
 * tag and digest on the mirror (`docker.io/library/busybox:1.37` becomes `<mirror>/library/busybox:1.37`).
 * An image already on the mirror, a reference that is not one, or no mirror: unchanged.
 */
export function mirrorImage(ref: string, mirror: string | undefined): string {
    if (mirror === undefined || mirror === "" || isOnMirror(ref, mirror)) return ref;
    const r = parseImageReference(ref);
    if (!r) return ref;
    return `${mirror}/${registryPath(r)}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** The image is pulled from the mirror (its reference starts with `<mirror>/`). */
export function isOnMirror(ref: string, mirror: string): boolean {
    return ref.startsWith(`${mirror.replace(/\/+$/, "")}/`);
}

/**
 * An image a redeploy cannot change: a tag other than `latest`, or a complete sha256 digest, in a
 * reference container runtimes accept.
 */
export function isPinnedImage(ref: string): boolean {
    const r = parseImageReference(ref);
    if (!r) return false;
    if (r.digest !== undefined) return /^sha256:[0-9a-f]{64}$/.test(r.digest);
    return r.tag !== undefined && r.tag !== "latest";
}

// ---- sizes ----

const JVM_SIZE = /^(\d+)([kKmMgG])$/;

/** Bytes of a JVM size (`-Xmx`): `512K`, `1536M`, `8G`; undefined when it is not one. */
export function jvmBytes(size: string): number | undefined {
    const m = JVM_SIZE.exec(size);
    if (!m) return undefined;
    return Number(m[1]) * { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[m[2].toLowerCase() as "k" | "m" | "g"];
}

// ---- where a credential is, said instead of the credential ----

const SECRET_KEY_NAME = /^[-._a-zA-Z0-9]{1,253}$/;
const SECRET_POINTER = /^see Secret ([a-z0-9]([-a-z0-9.]*[a-z0-9])?) key ([-._a-zA-Z0-9]{1,253})$/;

/**
 * The text a chart value holds when the chart insists on rendering a credential of its own (its
 * default otherwise) while every pod reads the credential from another Secret: it names that
 * Secret and key, authenticates nowhere, and a policy can tell it from a credential.
 */
export function secretPointer(secret: string, key: string): string {
    if (!isDnsSubdomain(secret) || !SECRET_KEY_NAME.test(key))
        throw new Error(`secretPointer: ${JSON.stringify(secret)}/${JSON.stringify(key)} is not a Secret name and key`);
    return `see Secret ${secret} key ${key}`;
}

/**
 * The text a chart value holds for a credential of a part that never runs (Airbyte's Keycloak
 * outside its enterprise edition), instead of the chart's well-known default (`airbyte123`):
 * it says why nothing is there, and a policy can tell it from a credential.
 */
export function unusedCredential(reason: string): string {
    return `unused: ${reason}`;
}

export function isUnusedCredential(value: string): boolean {
    return /^unused: \S.*$/.test(value);
}

export function isSecretPointer(value: string): boolean {
    const m = SECRET_POINTER.exec(value);
    return m !== null && isDnsSubdomain(m[1]);
}
