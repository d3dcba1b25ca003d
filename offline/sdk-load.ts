// How the offline tools and the tests load the Pulumi SDK. @pulumi/pulumi 3.248 requires npm's
// Arborist when it loads (with pacote, sigstore and npm's registry client behind it: about 0.3 s,
// a third of loading the SDK), for `runtime.computeCodePaths`, which only closure serialization
// calls (`runtime.serializeFunction`, function callbacks); this program never does. These
// processes load Arborist when it is first used instead. The Pulumi CLI's own processes (the
// language host, the policy pack) are not touched.
import Module from "module";
import * as path from "path";

/** The file the SDK's `require("@npmcli/arborist")` resolves to, from the SDK's own folder. */
export function arboristFile(): string {
    const codePaths = require.resolve("@pulumi/pulumi/runtime/closure/codePaths");
    return require.resolve("@npmcli/arborist", { paths: [path.dirname(codePaths)] });
}

/**
 * Puts a stand-in for Arborist in the module cache, before the SDK is loaded: the SDK's import of
 * it (`__importStar`, which keeps a module that says `__esModule` as it is) gets the stand-in,
 * and the first property read of it loads the real module, which then replaces it in the cache.
 * Does nothing when Arborist is loaded already.
 */
export function deferArborist(): void {
    const file = arboristFile();
    if (require.cache[file]) return;
    let real: Record<PropertyKey, unknown> | undefined;
    const load = (): Record<PropertyKey, unknown> => {
        if (real === undefined) {
            delete require.cache[file];
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module the SDK asked for, by its file
            real = require(file) as Record<PropertyKey, unknown>;
        }
        return real;
    };
    const standIn = new Module(file);
    standIn.filename = file;
    standIn.loaded = true;
    standIn.exports = new Proxy(
        {},
        {
            get: (_, key) => (key === "__esModule" ? true : load()[key]),
            has: (_, key) => key in load(),
        },
    );
    require.cache[file] = standIn;
}
