// The Pulumi program: read and validate the stack's config, build the platform, export the outputs.
// Exported as a function so the language host (and the offline harness) runs it inside the stack.
import { loadPlatformConfig } from "./components/config";
import { LakehousePlatform } from "./components/platform";

export = () => {
    const config = loadPlatformConfig();
    const platform = new LakehousePlatform("lakehouse", { config });
    return {
        environment: config.environment,
        clusterDomain: config.clusterDomain,
        namespaces: platform.namespaces,
        addresses: platform.addresses,
        wiring: platform.wiring,
    };
};
