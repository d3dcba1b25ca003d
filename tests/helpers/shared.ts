// What tests only read is made once per mocha process (one per worker) and shared.

/** `make()` once per key and process; a failure is not kept, so the next test sees its own error. */
export function shared<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
    let made = cache.get(key);
    if (made === undefined) {
        made = make();
        cache.set(key, made);
        made.catch(() => cache.delete(key));
    }
    return made;
}
