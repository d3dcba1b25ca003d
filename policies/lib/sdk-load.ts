// How this project's processes load the Pulumi SDK. @pulumi/pulumi 3.248 requires npm's Arborist
// when it loads (with pacote, sigstore and npm's registry client behind it: about 0.4 s, a third
// of loading the SDK), for `runtime.computeCodePaths`, which only closure serialization calls
// (`runtime.serializeFunction`, function callbacks); neither the program nor the pack ever does.
// The program (program.js), the policy pack (lib/lean-start.ts), the offline tools and the tests
// load Arborist when it is first used instead: `pulumi preview --policy-pack` starts the pack and
// then the program one after the other, so each saves its 0.4 s on every preview.
import Module from "module";
import * as path from "path";

/** The file the SDK's import of @npmcli/arborist resolves to, from the SDK's own folder. */
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
