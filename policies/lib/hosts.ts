// Finds the hosts a string refers to: inside URLs (`http://`, `thrift://`, `jdbc:postgresql://`,
// `s3://`), as `host:port`, or as the whole value of a host field (`host: trino`, `TRINO_HOST`).

export type RefKind = "url" | "host-port" | "host-field";

export interface HostRef {
    host: string;
    port?: number;
    scheme?: string;
    kind: RefKind;
    /** Position of the host in the string, for rewriting it. */
    start: number;
    end: number;
}

const URL_RE =
    /\b([a-z][a-z0-9+.-]*(?::[a-z][a-z0-9+.-]*)*):\/\/(?:[^@\s/?#]*@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_][A-Za-z0-9_.-]*)(?::(\d{1,5}))?/g;
// A host and a port not part of a URL, a path or an image reference (`repo/name:tag`).
const HOST_PORT_RE = /(?<![\w.:/@$-])(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_][A-Za-z0-9_.-]*):(\d{2,5})(?![\w.:-])/g;

/** Keys whose values are image references (`image`, `sidecarImage`, `SIDECAR_IMAGE`), where `name:tag` is not a host and a port. */
export function isImageKey(key: string): boolean {
    return (
        /^(image|images|repository|tag|digest)$/i.test(key) ||
        /[a-z0-9](Image|Repository)$/.test(key) ||
        /[._-](image|IMAGE|repository|REPOSITORY)$/.test(key)
    );
}

/** Fields that hold a bare host: `host`, `server`, `postgresqlHost`, `TRINO_HOST`, `db.hostname`. */
export function isHostField(key: string): boolean {
    return (
        /^(host|hostname|server|address|endpoint)$/i.test(key) ||
        /[a-z0-9](Host|Hostname)$/.test(key) ||
        /[._-](host|hostname|HOST|HOSTNAME)$/.test(key)
    );
}

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function isIpLiteral(host: string): boolean {
    const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
    return IPV4.test(h) || (h.includes(":") && /^[0-9A-Fa-f:.]+$/.test(h));
}

/** Addresses a server binds to, or the machine itself: not endpoints of another service. */
export function isLocalOrUnspecified(host: string): boolean {
    const h = host.replace(/^\[|\]$/g, "").toLowerCase();
    return h === "localhost" || h === "0.0.0.0" || h === "::" || h === "::1" || /^127\./.test(h);
}

/** A plausible host name: labels of letters, digits, '-' and '_', not only digits. */
function plausibleHost(host: string): boolean {
    if (host.startsWith("[")) return true;
    if (isIpLiteral(host)) return true;
    return /[A-Za-z]/.test(host) && host.split(".").every((l) => l.length > 0 && l.length <= 63);
}

function validPort(p: string | undefined): number | undefined | null {
    if (p === undefined) return undefined;
    const n = Number(p);
    return n >= 1 && n <= 65535 ? n : null;
}

/** Every host the string refers to. `key` is the field it sits in (host fields hold a bare host). */
export function findHostRefs(text: string, key = ""): HostRef[] {
    // Without a ':' only a host field can hold a host: most configuration values end here.
    if (!text.includes(":") && !isHostField(key)) return [];
    if (isImageKey(key) || text.length > 100_000) return [];
    const refs: HostRef[] = [];
    const covered: [number, number][] = [];
    for (const m of text.matchAll(URL_RE)) {
        const port = validPort(m[3]);
        const host = m[2];
        if (port === null || !plausibleHost(host)) continue;
        const start = (m.index ?? 0) + m[0].length - (m[3] ? m[3].length + 1 : 0) - host.length;
        refs.push({ host, port, scheme: m[1].toLowerCase(), kind: "url", start, end: start + host.length });
        covered.push([m.index ?? 0, (m.index ?? 0) + m[0].length]);
    }
    for (const m of text.matchAll(HOST_PORT_RE)) {
        const at = m.index ?? 0;
        if (covered.some(([a, b]) => at >= a && at < b)) continue;
        const port = validPort(m[2]);
        if (port === null || port === undefined || !plausibleHost(m[1])) continue;
        refs.push({ host: m[1], port, kind: "host-port", start: at, end: at + m[1].length });
    }
    if (refs.length === 0 && isHostField(key)) {
        const trimmed = text.trim();
        if (/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(trimmed) && plausibleHost(trimmed)) {
            const start = text.indexOf(trimmed);
            refs.push({ host: trimmed, kind: "host-field", start, end: start + trimmed.length });
        }
    }
    return refs;
}

/** The port a URL scheme implies when it gives none. */
export function defaultPort(scheme: string | undefined): number | undefined {
    switch (scheme) {
        case "http":
            return 80;
        case "https":
            return 443;
        default:
            return undefined;
    }
}
