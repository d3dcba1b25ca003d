// "Did you mean ...?" for a mistyped name: the closest of the known names, when it is close enough
// to be the one meant. Used for config keys, policy names and policy settings.

/** Levenshtein distance, case-insensitive. */
export function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diagonal = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const above = row[j];
            row[j] = Math.min(
                row[j] + 1,
                row[j - 1] + 1,
                diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1),
            );
            diagonal = above;
        }
    }
    return row[b.length];
}

/** The known name closest to `name`, if within max(2, a quarter of its length) edits. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const k of known) {
        const d = editDistance(name, k);
        if (d < bestDistance) [best, bestDistance] = [k, d];
    }
    return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}
