// The Pulumi program: read and validate the stack's config, read the stacks it builds on (split
// stacks), build the platform, export the outputs. Exported as a function so the language host (and
// the offline harness) runs it inside the stack.
import { loadPlatformConfig } from "./components/config";
import { dataSettingsOf, deployedDataSettings, guardData } from "./components/data-guard";
import { LakehousePlatform } from "./components/platform";
import { loadUpstream } from "./components/upstream";

export = async () => {
    const config = loadPlatformConfig();
    // What this stack's data lives on, as last deployed: a change that would lose it is refused here.
    guardData(config, await deployedDataSettings());
    const upstream = await loadUpstream(config);
    const platform = new LakehousePlatform("lakehouse", { config, upstream });
    return {
        // The contract (docs/outputs.md): what this stack deploys, for people and for other stacks.
        contractVersion: platform.contract.contractVersion,
        environment: platform.contract.environment,
        clusterDomain: platform.contract.clusterDomain,
        components: platform.contract.components,
        // Views of the same, for reading: every service's address, the namespaces, the call graph.
        addresses: platform.addresses,
        namespaces: platform.namespaces,
        wiring: platform.wiring,
        // The checks `verifyWiring` runs after the components are ready, one per edge.
        wiringChecks: platform.wiringCheckEntries,
        // What the data lives on (namespaces, volume sizes and class, buckets): the next run compares.
        dataSettings: dataSettingsOf(config),
    };
};
