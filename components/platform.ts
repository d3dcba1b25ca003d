import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddressEntry, addressTable, ServiceId } from "./addresses";
import { ComponentName, PlatformConfig } from "./config";
import { Garage, GarageConsumer } from "./garage";
import { Namespaces } from "./namespaces";

export interface LakehousePlatformArgs {
    /** The validated stack configuration. */
    config: PlatformConfig;
}

/** Who gets a Garage key, from which component, and on which buckets. */
export function garageConsumers(cfg: PlatformConfig): GarageConsumer[] {
    const { lakehouse, airbyte } = cfg.buckets;
    const all: (GarageConsumer & { component: ComponentName })[] = [
        // The metastore creates database and table directories in the warehouse.
        { component: "database", name: "hive-metastore", namespace: cfg.namespaces.database, readWrite: [lakehouse] },
        { component: "trino", name: "trino", namespace: cfg.namespaces.trino, readWrite: [lakehouse] },
        // Airbyte keeps its state and logs in its own bucket and lands data in the lakehouse.
        { component: "airbyte", name: "airbyte", namespace: cfg.namespaces.airbyte, readWrite: [airbyte, lakehouse] },
        { component: "dagster", name: "dagster", namespace: cfg.namespaces.dagster, readWrite: [lakehouse] },
    ];
    return all.filter((c) => cfg.components.includes(c.component)).map(({ component: _component, ...c }) => c);
}

/**
 * The whole platform of one stack: the Kubernetes provider built from the stack's config, the
 * namespaces, and the components, composed in dependency order.
 */
export class LakehousePlatform extends pulumi.ComponentResource {
    /** The provider every Kubernetes resource of the stack goes through. */
    public readonly provider: k8s.Provider;
    /** Namespace of each deployed component. */
    public readonly namespaces: Partial<Record<ComponentName, pulumi.Output<string>>>;
    /** Address of every service the stack deploys. */
    public readonly addresses: Partial<Record<ServiceId, AddressEntry>>;
    public readonly garage?: Garage;

    constructor(name: string, args: LakehousePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:platform:LakehousePlatform", name, {}, opts);
        const cfg = args.config;

        this.provider = new k8s.Provider(
            "kubernetes",
            {
                context: cfg.kubernetes.context,
                kubeconfig: cfg.kubernetes.kubeconfig,
                enableServerSideApply: true,
            },
            { parent: this },
        );
        const childOpts = (dependsOn: pulumi.Resource[] = []): pulumi.ComponentResourceOptions => ({ parent: this, provider: this.provider, dependsOn });

        const deployed: Partial<Record<ComponentName, string>> = {};
        for (const c of cfg.components) deployed[c] = cfg.namespaces[c];
        const namespaces = new Namespaces("namespaces", { namespaces: deployed, environment: cfg.environment }, childOpts());

        if (cfg.components.includes("garage")) {
            this.garage = new Garage(
                "garage",
                {
                    namespace: cfg.namespaces.garage,
                    clusterDomain: cfg.clusterDomain,
                    environment: cfg.environment,
                    image: cfg.garage.image,
                    toolsImage: cfg.images.busybox,
                    replicas: cfg.garage.replicas,
                    replicationFactor: cfg.garage.replicationFactor,
                    dataSize: cfg.garage.dataSize,
                    metadataSize: cfg.garage.metadataSize,
                    storageClass: cfg.storageClass,
                    resources: cfg.garage.resources,
                    buckets: [cfg.buckets.lakehouse, cfg.buckets.airbyte],
                    consumers: garageConsumers(cfg),
                },
                // Consumer Secrets go into the other components' namespaces.
                childOpts([namespaces]),
            );
        }

        this.namespaces = namespaces.names;
        this.addresses = addressTable(cfg.namespaces, cfg.clusterDomain, cfg.components);
        this.registerOutputs({ namespaces: this.namespaces, addresses: this.addresses });
    }
}
