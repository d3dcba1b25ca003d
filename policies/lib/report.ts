/** How a message names a resource: `kubernetes:core/v1:ConfigMap "hive-metastore-conf"`. */
export function resourceLabel(type: string, name: string): string {
    return `${type} "${name}"`;
}

/** Any value as a short text for a message; never throws (a value may be of any shape). */
export function show(value: unknown): string {
    if (typeof value === "string") return JSON.stringify(value);
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return "(unprintable)";
    }
}
