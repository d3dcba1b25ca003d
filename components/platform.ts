import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddressEntry, addressTable, ServiceId, WiringEdge } from "./addresses";
import { Airbyte } from "./airbyte";
import { Dagster } from "./dagster";
import { ComponentName, PlatformConfig } from "./config";
import { Garage, GarageConsumer } from "./garage";
import { HiveMetastore } from "./hive-metastore";
import { Namespaces } from "./namespaces";
import { DatabaseConsumer, MetadataDatabase } from "./postgres";
import { Trino } from "./trino";

export interface LakehousePlatformArgs {
    /** The validated stack configuration. */
    config: PlatformConfig;
}

/** Who gets a Garage key, from which component, and on which buckets. */
export function garageConsumers(cfg: PlatformConfig): GarageConsumer[] {
    const { lakehouse, airbyte } = cfg.buckets;
    const all: GarageConsumer[] = [
        // The metastore creates database and table directories in the warehouse.
        { component: "database", name: "hive-metastore", namespace: cfg.namespaces.database, readWrite: [lakehouse] },
        { component: "trino", name: "trino", namespace: cfg.namespaces.trino, readWrite: [lakehouse] },
        // Airbyte keeps its state and logs in its own bucket and lands data in the lakehouse.
        { component: "airbyte", name: "airbyte", namespace: cfg.namespaces.airbyte, readWrite: [airbyte, lakehouse] },
        { component: "dagster", name: "dagster", namespace: cfg.namespaces.dagster, readWrite: [lakehouse] },
    ];
    return all.filter((c) => cfg.components.includes(c.component));
}

/** Who gets a PostgreSQL database and role, from which component. */
export function databaseConsumers(cfg: PlatformConfig): DatabaseConsumer[] {
    const all: DatabaseConsumer[] = [
        { component: "database", name: "hive-metastore", namespace: cfg.namespaces.database, database: "metastore", role: "metastore", passwordKey: "password" },
        // Temporal, which Airbyte runs, creates its own two databases with Airbyte's role.
        { component: "airbyte", name: "airbyte", namespace: cfg.namespaces.airbyte, database: "airbyte", role: "airbyte", passwordKey: "password", createDatabases: true },
        // The Dagster chart reads the password from the key `postgresql-password`.
        { component: "dagster", name: "dagster", namespace: cfg.namespaces.dagster, database: "dagster", role: "dagster", passwordKey: "postgresql-password" },
    ];
    return all.filter((c) => cfg.components.includes(c.component));
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
    public readonly metadataDatabase?: MetadataDatabase;
    public readonly hiveMetastore?: HiveMetastore;
    public readonly trino?: Trino;
    public readonly airbyte?: Airbyte;
    public readonly dagster?: Dagster;
    /** Who reaches whom, at which address, through which value: the platform's call graph. */
    public readonly wiring: WiringEdge[];

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

        if (cfg.components.includes("database") && this.garage) {
            const garage = this.garage;
            this.metadataDatabase = new MetadataDatabase(
                "postgres",
                {
                    namespace: cfg.namespaces.database,
                    clusterDomain: cfg.clusterDomain,
                    environment: cfg.environment,
                    image: cfg.database.postgres.image,
                    storageSize: cfg.database.postgres.storageSize,
                    storageClass: cfg.storageClass,
                    resources: cfg.database.postgres.resources,
                    maxConnections: cfg.database.postgres.maxConnections,
                    consumers: databaseConsumers(cfg),
                },
                childOpts([namespaces]),
            );
            const metastoreDb = this.metadataDatabase.credentials["hive-metastore"];
            this.hiveMetastore = new HiveMetastore(
                "hive-metastore",
                {
                    namespace: cfg.namespaces.database,
                    clusterDomain: cfg.clusterDomain,
                    environment: cfg.environment,
                    image: cfg.database.metastore.image,
                    replicas: cfg.database.metastore.replicas,
                    resources: cfg.database.metastore.resources,
                    s3: garage.s3,
                    s3Region: garage.region,
                    bucket: cfg.buckets.lakehouse,
                    s3CredentialsSecret: garage.credentialSecrets["hive-metastore"].name,
                    database: { service: this.metadataDatabase.postgresService, jdbcUrl: this.metadataDatabase.jdbcUrls["hive-metastore"], credentials: metastoreDb },
                    jdbcDriverUrl: cfg.database.metastore.jdbcDriverUrl,
                    jdbcDriverSha256: cfg.database.metastore.jdbcDriverSha256,
                    curlImage: cfg.images.curl,
                },
                // The metastore starts once its keys are in Garage and its database exists.
                childOpts([namespaces, garage, this.metadataDatabase]),
            );
        }

        if (cfg.components.includes("trino") && this.garage && this.hiveMetastore) {
            this.trino = new Trino(
                "trino",
                {
                    namespace: cfg.namespaces.trino,
                    clusterDomain: cfg.clusterDomain,
                    environment: cfg.environment,
                    chartVersion: cfg.trino.chartVersion,
                    workers: cfg.trino.workers,
                    coordinator: cfg.trino.coordinator,
                    worker: cfg.trino.worker,
                    catalogName: cfg.trino.catalogName,
                    keepDemoCatalogs: cfg.trino.keepDemoCatalogs,
                    metastore: { service: this.hiveMetastore.metastoreService, url: this.hiveMetastore.metastoreUri },
                    s3: this.garage.s3,
                    s3Region: this.garage.region,
                    s3CredentialsSecret: this.garage.credentialSecrets.trino.name,
                },
                childOpts([namespaces, this.garage, this.hiveMetastore]),
            );
        }

        if (cfg.components.includes("airbyte") && this.garage && this.metadataDatabase) {
            this.airbyte = new Airbyte(
                "airbyte",
                {
                    namespace: cfg.namespaces.airbyte,
                    clusterDomain: cfg.clusterDomain,
                    chartVersion: cfg.airbyte.chartVersion,
                    size: cfg.airbyte.size,
                    s3: this.garage.s3,
                    s3Region: this.garage.region,
                    storageBucket: cfg.buckets.airbyte,
                    lakehouseBucket: cfg.buckets.lakehouse,
                    s3CredentialsSecret: this.garage.credentialSecrets.airbyte.name,
                    database: { service: this.metadataDatabase.postgresService, credentials: this.metadataDatabase.credentials.airbyte },
                },
                childOpts([namespaces, this.garage, this.metadataDatabase]),
            );
        }

        if (cfg.components.includes("dagster") && this.garage && this.metadataDatabase && this.trino && this.airbyte) {
            this.dagster = new Dagster(
                "dagster",
                {
                    namespace: cfg.namespaces.dagster,
                    clusterDomain: cfg.clusterDomain,
                    environment: cfg.environment,
                    chartVersion: cfg.dagster.chartVersion,
                    chartPath: cfg.dagster.chartPath,
                    size: cfg.dagster.size,
                    userCode: cfg.dagster.userCode,
                    database: { service: this.metadataDatabase.postgresService, credentials: this.metadataDatabase.credentials.dagster },
                    trino: { service: this.trino.coordinatorService, catalog: this.trino.catalog },
                    dbtSchema: cfg.dagster.dbtSchema,
                    s3: this.garage.s3,
                    s3Region: this.garage.region,
                    lakehouseBucket: cfg.buckets.lakehouse,
                    s3CredentialsSecret: this.garage.credentialSecrets.dagster.name,
                    airbyte: { service: this.airbyte.serverService, apiUrl: this.airbyte.apiUrl },
                },
                // Trino and Airbyte are only addresses to Dagster: it need not wait for them to be up.
                childOpts([namespaces, this.garage, this.metadataDatabase]),
            );
        }

        this.wiring = [this.hiveMetastore, this.trino, this.airbyte, this.dagster].flatMap((c) => c?.wiring ?? []);
        this.namespaces = namespaces.names;
        this.addresses = addressTable(cfg.namespaces, cfg.clusterDomain, cfg.components);
        this.registerOutputs({ namespaces: this.namespaces, addresses: this.addresses, wiring: this.wiring });
    }
}
