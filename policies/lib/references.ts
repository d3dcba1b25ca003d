// The service references in a resource's configuration, classified: the raw material of the
// address policies.
import { PlatformPolicyConfig, isAllowedHost } from "./config";
import { findHostRefs, HostRef } from "./hosts";
import { HostForm, hostForm } from "./platform";
import { configStrings, FoundString } from "./strings";

export interface Reference {
    found: FoundString;
    ref: HostRef;
    form: HostForm;
}

// Found once per props object, type and allowed-host list: a stack policy reads a resource's
// references more than once. (CrossGuard hands every policy freshly deserialised props, so
// nothing is shared between policies.)
const CACHE = new WeakMap<object, { type: string; allowedHosts: string[]; refs: Reference[] }>();

/** Every host reference in the resource's configuration that is not an allowed host. */
export function references(type: string, props: unknown, config: PlatformPolicyConfig): Reference[] {
    if (typeof props !== "object" || props === null) return [];
    const cached = CACHE.get(props);
    if (
        cached &&
        cached.type === type &&
        (cached.allowedHosts === config.allowedHosts ||
            cached.allowedHosts.join("\n") === config.allowedHosts.join("\n"))
    )
        return cached.refs;
    const refs = findReferences(type, props, config);
    CACHE.set(props, { type, allowedHosts: config.allowedHosts, refs });
    return refs;
}

function findReferences(type: string, props: unknown, config: PlatformPolicyConfig): Reference[] {
    const out: Reference[] = [];
    configStrings(type, props, (found) => {
        // Parsed configuration text is judged through its own values, which carry better paths.
        if (found.expanded) return;
        for (const ref of findHostRefs(found.value, found.key)) {
            if (isAllowedHost(ref.host, config)) continue;
            out.push({ found, ref, form: hostForm(ref.host) });
        }
    });
    return out;
}

/** `path = "value"`, with long values cut around the offending part. */
export function where(found: FoundString, ref?: HostRef): string {
    let text = found.value;
    if (text.length > 160) {
        const at = ref ? Math.max(0, ref.start - 60) : 0;
        text = `${at > 0 ? "…" : ""}${text.slice(at, at + 150)}…`;
    }
    return `${found.path} = ${JSON.stringify(text)}`;
}
