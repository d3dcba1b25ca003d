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
        // The contract (docs/outputs.md): what this stack deploys, for people and for other stacks,
        // in its short form, because `pulumi up` prints every output. The views (every address, the
        // namespaces, the call graph and its checks) are the platform component's outputs in the
        // state, and the plan's.
        contractVersion: platform.published.contractVersion,
        environment: platform.published.environment,
        clusterDomain: platform.published.clusterDomain,
        components: platform.published.components,
        // What the data lives on (namespaces, volume sizes and class, buckets): the next run compares.
        dataSettings: dataSettingsOf(config),
        // Airbyte's instance admin's password (also in its Secret, docs/outputs.md): a secret output,
        // shown only by `pulumi stack output --show-secrets airbyteAdminPassword`.
        ...(platform.airbyte ? { airbyteAdminPassword: platform.airbyte.instanceAdmin.password } : {}),
        // With dagsterLogin, the password of Dagster's admin (user `admin`) at the webserver's login, the same way.
        ...(platform.dagster?.login ? { dagsterAdminPassword: platform.dagster.login.adminPassword } : {}),
    };
};
