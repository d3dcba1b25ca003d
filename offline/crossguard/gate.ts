// The one path to a policy verdict, for the offline plan, `npm run check` and the tests: the pack
// as shipped, started as the Pulumi CLI starts it, configured as the CLI configures it, and asked
// over the CLI's protocol. One pack process serves a whole command (or a whole test run).
import { EngineResource } from "./engine-view";
import { judge, Judgement } from "./judge";
import { GivenPolicyConfig, PackConfig, parsePackConfig, reconcilePackConfig } from "./pack-config";
import { AnalyzerInfo, PACK_DIR, PackHost, StackIdentity } from "./pack-host";

let shared: Promise<{ pack: PackHost; info: AnalyzerInfo }> | undefined;

/**
 * The process's pack: started on first use, stopped when the process exits. Each use configures
 * it afresh (ConfigureStack, Configure), as the CLI does for each stack.
 */
export function sharedPack(identity: StackIdentity): Promise<{ pack: PackHost; info: AnalyzerInfo }> {
    if (!shared) {
        shared = (async () => {
            const pack = await PackHost.start(identity, PACK_DIR);
            process.once("exit", () => pack.kill());
            const info = await pack.analyzerInfo();
            await pack.pluginVersion();
            return { pack, info };
        })();
        shared.catch(() => (shared = undefined));
        return shared;
    }
    return shared.then(async (s) => {
        await s.pack.configureStack(identity);
        return s;
    });
}

/** Stops the process's pack (tests call it at the end; commands exit anyway). */
export async function stopSharedPack(): Promise<void> {
    const s = shared;
    shared = undefined;
    if (s) await (await s).pack.close();
}

/** A configuration layer: a `--policy-pack-config` document, and where it came from (for messages). */
export interface ConfigLayer {
    doc: unknown;
    source: string;
}

/**
 * The pack configuration the layers give, over the policies' declared levels and schema defaults
 * and the pack's initial config, each layer merged over the last (per policy, property by
 * property) and validated as the CLI validates it. Throws PackConfigError.
 */
export function packConfigOf(info: AnalyzerInfo, layers: readonly ConfigLayer[]): PackConfig {
    let config = reconcilePackConfig(info.policies, {}, info.initialConfig);
    for (const layer of layers) {
        const given: Record<string, GivenPolicyConfig> = parsePackConfig(layer.doc, layer.source, info.policies);
        config = reconcilePackConfig(
            info.policies,
            given,
            Object.fromEntries(
                Object.entries(config).map(([k, v]) => [
                    k,
                    { enforcementLevel: v.enforcementLevel, properties: v.properties },
                ]),
            ),
            layer.source,
        );
    }
    return config;
}

/** A reconciled configuration as a `--policy-pack-config` file says it. */
export function asConfigFile(config: PackConfig): Record<string, Record<string, unknown>> {
    return Object.fromEntries(
        Object.entries(config).map(([name, c]) => [name, { enforcementLevel: c.enforcementLevel, ...c.properties }]),
    );
}

export interface GateRun extends Judgement {
    pack: { name: string; version: string; startMs: number };
}

/** Judges `resources` with the pack configured from `layers`. */
export async function runGate(
    resources: readonly EngineResource[],
    identity: StackIdentity,
    layers: readonly ConfigLayer[],
): Promise<GateRun> {
    const { pack, info } = await sharedPack(identity);
    const config = packConfigOf(info, layers);
    const judgement = await judge(pack, resources, config);
    return { ...judgement, pack: { name: info.name, version: info.version, startMs: pack.startMs } };
}
