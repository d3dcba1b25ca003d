import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddressEntry, addressTable, Endpoint, ServiceId, WiringEdge } from "./addresses";
import { Airbyte } from "./airbyte";
import { ComponentName, PlatformConfig } from "./config";
import { ComponentContracts, CONTRACT_VERSION, DatabaseCredentialsRef, GarageCredentialsRef, PlatformOutputs, upstreamCredentials } from "./contract";
import { Dagster } from "./dagster";
import { ACCESS_KEY_ID, Garage, GarageConsumer, SECRET_ACCESS_KEY } from "./garage";
import { copySecret } from "./handoff";
import { HiveMetastore } from "./hive-metastore";
import { credentialLabels } from "./labels";
import { Namespaces } from "./namespaces";
import { NetworkPolicies, OutsideEgress, outsideEgress } from "./network-policies";
import { DatabaseConsumer, MetadataDatabase } from "./postgres";
import { Trino } from "./trino";
import { NO_UPSTREAM, Upstream } from "./upstream";

export interface LakehousePlatformArgs {
    /** The validated stack configuration. */
    config: PlatformConfig;
    /** Split stacks: the components other stacks deploy, read from their outputs (`loadUpstream`). */
    upstream?: Upstream;
}

/** Components that get Garage keys or PostgreSQL logins from this stack: its own and its downstream ones. */
function served(cfg: PlatformConfig, component: ComponentName): "local" | "handoff" | undefined {
    if (cfg.components.includes(component)) return "local";
    return cfg.downstreamComponents.includes(component) ? "handoff" : undefined;
}

/** Who gets a Garage key, from which component, and on which buckets. */
export function garageConsumers(cfg: PlatformConfig): GarageConsumer[] {
    const { lakehouse, airbyte } = cfg.buckets;
    const all: Omit<GarageConsumer, "namespace">[] = [
        // The metastore creates database and table directories in the warehouse.
        { component: "database", name: "hive-metastore", readWrite: [lakehouse] },
        { component: "trino", name: "trino", readWrite: [lakehouse] },
        // Airbyte keeps its state and logs in its own bucket and lands data in the lakehouse.
        { component: "airbyte", name: "airbyte", readWrite: [airbyte, lakehouse] },
        { component: "dagster", name: "dagster", readWrite: [lakehouse] },
    ];
    return all.flatMap((c) => {
        const mode = served(cfg, c.component);
        if (mode === undefined) return [];
        return [{ ...c, namespace: mode === "local" ? cfg.namespaces[c.component] : cfg.namespaces.garage, handoff: mode === "handoff" }];
    });
}

/** Who gets a PostgreSQL database and role, from which component. */
export function databaseConsumers(cfg: PlatformConfig): DatabaseConsumer[] {
    const all: Omit<DatabaseConsumer, "namespace">[] = [
        { component: "database", name: "hive-metastore", database: "metastore", role: "metastore", passwordKey: "password" },
        // Temporal, which Airbyte runs, creates its own two databases with Airbyte's role.
        { component: "airbyte", name: "airbyte", database: "airbyte", role: "airbyte", passwordKey: "password", createDatabases: true },
        // The Dagster chart reads the password from the key `postgresql-password`.
        { component: "dagster", name: "dagster", database: "dagster", role: "dagster", passwordKey: "postgresql-password" },
    ];
    return all.flatMap((c) => {
        const mode = served(cfg, c.component);
        if (mode === undefined) return [];
        return [{ ...c, namespace: mode === "local" ? cfg.namespaces[c.component] : cfg.namespaces.database, handoff: mode === "handoff" }];
    });
}

/** A service as the contract publishes it: its endpoint, the component it belongs to and its URL. */
function published(component: ComponentName, service: Endpoint, url: string): AddressEntry {
    return { ...service, component, url };
}

/** The Endpoint part of a published address entry. */
function endpointOf(entry: AddressEntry): Endpoint {
    const { service, namespace, port, clusterDomain, host, hostPort } = entry;
    return { service, namespace, port, clusterDomain, host, hostPort };
}

/** A credential a consumer reads from a Secret in its own namespace, and what must exist first. */
interface Delivered<T> {
    ref: T;
    dependsOn: pulumi.Resource[];
}

/**
 * The whole platform of one stack: the Kubernetes provider built from the stack's config, the
 * namespaces, and the components, composed in dependency order. Every component is wired from the
 * contracts of the others (its own stack's, or another stack's in split mode), so both modes hand
 * the charts the same values.
 */
export class LakehousePlatform extends pulumi.ComponentResource {
    /** The provider every Kubernetes resource of the stack goes through. */
    public readonly provider: k8s.Provider;
    /** Namespace of each deployed component. */
    public readonly namespaces: Partial<Record<ComponentName, pulumi.Output<string>>>;
    /** Address of every service the stack deploys. */
    public readonly addresses: Partial<Record<ServiceId, AddressEntry>>;
    /** The output contract: what this stack deploys, for people and for stacks that build on it. */
    public readonly contract: PlatformOutputs;
    public readonly garage?: Garage;
    public readonly metadataDatabase?: MetadataDatabase;
    public readonly hiveMetastore?: HiveMetastore;
    public readonly trino?: Trino;
    public readonly airbyte?: Airbyte;
    public readonly dagster?: Dagster;
    /** Who reaches whom, at which address, through which value: the platform's call graph. */
    public readonly wiring: WiringEdge[];
    /** The NetworkPolicies derived from the wiring (when `networkPolicies` is on). */
    public readonly networkPolicies?: NetworkPolicies;

    constructor(name: string, args: LakehousePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:platform:LakehousePlatform", name, {}, opts);
        const cfg = args.config;
        const upstream = args.upstream ?? NO_UPSTREAM;
        const deploys = (c: ComponentName) => cfg.components.includes(c);

        // The kubeconfig (a path or the file itself) is a credential whether or not the stack set it
        // with --secret; the context is secret when the stack says so.
        const access = cfg.kubernetes;
        this.provider = new k8s.Provider(
            "kubernetes",
            {
                context: access.context !== undefined && access.secret.context ? pulumi.secret(access.context) : access.context,
                kubeconfig: access.kubeconfig !== undefined ? pulumi.secret(access.kubeconfig) : undefined,
                enableServerSideApply: true,
            },
            { parent: this },
        );
        const childOpts = (dependsOn: pulumi.Resource[] = []): pulumi.ComponentResourceOptions => ({ parent: this, provider: this.provider, dependsOn });
        const keepData = { protect: cfg.stateful.protect, retainOnDelete: cfg.stateful.retainOnDelete };

        const deployed: Partial<Record<ComponentName, string>> = {};
        for (const c of cfg.components) deployed[c] = cfg.namespaces[c];
        const namespaces = new Namespaces("namespaces", { namespaces: deployed, environment: cfg.environment, keepData: { garage: keepData, database: keepData } }, childOpts());

        // Contracts of every component this stack deploys or reads; local ones are added as they are built.
        const contracts: Partial<ComponentContracts> = { ...upstream.components };
        const own: Partial<ComponentContracts> = {};
        const publish = <C extends ComponentName>(component: C, contract: ComponentContracts[C]) => {
            contracts[component] = contract;
            own[component] = contract;
        };

        // A consumer's credentials from the issuer in this stack, or copied from another stack's handoff.
        const deliver = <T extends { namespace: string; secretName: string }>(
            issuer: "garage" | "database",
            consumer: string,
            component: ComponentName,
            local: pulumi.Resource | undefined,
        ): Delivered<T> => {
            const issued = contracts[issuer]!.credentials as unknown as Record<string, T>;
            if (local !== undefined) return { ref: issued[consumer], dependsOn: [local] };
            const source = upstream.sources[issuer]!;
            const ref = upstreamCredentials(source, issuer, issued, consumer, component, cfg.project);
            const home = cfg.namespaces[component];
            if (ref.namespace === home) return { ref, dependsOn: [] };
            const copy = copySecret(
                `${consumer}-${issuer === "garage" ? "garage" : "postgres"}-credentials`,
                { namespace: ref.namespace, name: ref.secretName },
                { namespace: home, name: ref.secretName },
                credentialLabels(issuer, component, cfg.environment),
                { parent: this, provider: this.provider, dependsOn: [namespaces] },
            );
            return { ref: { ...ref, namespace: home }, dependsOn: [copy] };
        };
        const garageKey = (consumer: string, component: ComponentName) => deliver<GarageCredentialsRef>("garage", consumer, component, this.garage);
        const databaseLogin = (consumer: string, component: ComponentName) => deliver<DatabaseCredentialsRef>("database", consumer, component, this.metadataDatabase);
        const s3 = () => {
            const entry = contracts.garage!.services.s3;
            return { service: endpointOf(entry), url: entry.url };
        };

        if (deploys("garage")) {
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
                    keepData,
                },
                // Consumer Secrets go into the other components' namespaces.
                childOpts([namespaces]),
            );
            const garage = this.garage;
            publish("garage", {
                namespace: cfg.namespaces.garage,
                services: { s3: published("garage", garage.s3Service, garage.s3Endpoint) },
                region: garage.region,
                buckets: { ...cfg.buckets },
                credentials: Object.fromEntries(
                    Object.entries(garage.credentialSecrets).map(([consumer, s]) => [
                        consumer,
                        { namespace: s.namespace, secretName: s.name, accessKeyIdKey: ACCESS_KEY_ID, secretAccessKeyKey: SECRET_ACCESS_KEY, buckets: s.buckets },
                    ]),
                ),
            });
        }

        if (deploys("database")) {
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
                    keepData,
                },
                childOpts([namespaces]),
            );
            const metastoreDb = this.metadataDatabase.credentials["hive-metastore"];
            const metastoreKey = garageKey("hive-metastore", "database");
            this.hiveMetastore = new HiveMetastore(
                "hive-metastore",
                {
                    namespace: cfg.namespaces.database,
                    clusterDomain: cfg.clusterDomain,
                    environment: cfg.environment,
                    image: cfg.database.metastore.image,
                    replicas: cfg.database.metastore.replicas,
                    resources: cfg.database.metastore.resources,
                    s3: s3(),
                    s3Region: contracts.garage!.region,
                    bucket: cfg.buckets.lakehouse,
                    s3CredentialsSecret: metastoreKey.ref.secretName,
                    database: { service: this.metadataDatabase.postgresService, jdbcUrl: this.metadataDatabase.jdbcUrls["hive-metastore"], credentials: metastoreDb },
                    jdbcDriverUrl: cfg.database.metastore.jdbcDriverUrl,
                    jdbcDriverUrlSecret: cfg.database.metastore.jdbcDriverUrlSecret,
                    jdbcDriverSha256: cfg.database.metastore.jdbcDriverSha256,
                    curlImage: cfg.images.curl,
                },
                // The metastore starts once its keys are in Garage and its database exists.
                childOpts([namespaces, ...metastoreKey.dependsOn, this.metadataDatabase]),
            );
            const db = this.metadataDatabase;
            publish("database", {
                namespace: cfg.namespaces.database,
                services: {
                    postgres: published("database", db.postgresService, db.postgresEndpoint),
                    hiveMetastore: published("database", this.hiveMetastore.metastoreService, this.hiveMetastore.metastoreUri),
                },
                warehouse: this.hiveMetastore.warehouse,
                credentials: Object.fromEntries(Object.entries(db.credentials).map(([consumer, c]) => [consumer, { ...c }])),
            });
        }

        if (deploys("trino")) {
            const metastore = contracts.database!.services.hiveMetastore;
            const key = garageKey("trino", "trino");
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
                    metastore: { service: endpointOf(metastore), url: metastore.url },
                    s3: s3(),
                    s3Region: contracts.garage!.region,
                    s3CredentialsSecret: key.ref.secretName,
                },
                childOpts([namespaces, ...key.dependsOn, ...(this.hiveMetastore ? [this.hiveMetastore] : [])]),
            );
            publish("trino", {
                namespace: cfg.namespaces.trino,
                services: { coordinator: published("trino", this.trino.coordinatorService, this.trino.coordinatorUrl) },
                catalog: this.trino.catalog,
            });
        }

        if (deploys("airbyte")) {
            const key = garageKey("airbyte", "airbyte");
            const login = databaseLogin("airbyte", "airbyte");
            this.airbyte = new Airbyte(
                "airbyte",
                {
                    namespace: cfg.namespaces.airbyte,
                    clusterDomain: cfg.clusterDomain,
                    chartVersion: cfg.airbyte.chartVersion,
                    size: cfg.airbyte.size,
                    s3: s3(),
                    s3Region: contracts.garage!.region,
                    storageBucket: cfg.buckets.airbyte,
                    lakehouseBucket: cfg.buckets.lakehouse,
                    s3CredentialsSecret: key.ref.secretName,
                    database: { service: endpointOf(contracts.database!.services.postgres), credentials: login.ref },
                },
                childOpts([namespaces, ...key.dependsOn, ...login.dependsOn]),
            );
            publish("airbyte", {
                namespace: cfg.namespaces.airbyte,
                services: { server: published("airbyte", this.airbyte.serverService, this.airbyte.serverUrl) },
                apiUrl: this.airbyte.apiUrl,
            });
        }

        if (deploys("dagster")) {
            const key = garageKey("dagster", "dagster");
            const login = databaseLogin("dagster", "dagster");
            const trino = contracts.trino!;
            const airbyte = contracts.airbyte!;
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
                    database: { service: endpointOf(contracts.database!.services.postgres), credentials: login.ref },
                    trino: { service: endpointOf(trino.services.coordinator), catalog: trino.catalog },
                    dbtSchema: cfg.dagster.dbtSchema,
                    s3: s3(),
                    s3Region: contracts.garage!.region,
                    lakehouseBucket: cfg.buckets.lakehouse,
                    s3CredentialsSecret: key.ref.secretName,
                    airbyte: { service: endpointOf(airbyte.services.server), apiUrl: airbyte.apiUrl },
                },
                // Trino and Airbyte are only addresses to Dagster: it need not wait for them to be up.
                childOpts([namespaces, ...key.dependsOn, ...login.dependsOn]),
            );
            publish("dagster", {
                namespace: cfg.namespaces.dagster,
                services: { webserver: published("dagster", this.dagster.webserverService, this.dagster.webserverUrl) },
            });
        }

        this.wiring = [this.hiveMetastore, this.trino, this.airbyte, this.dagster].flatMap((c) => c?.wiring ?? []);
        if (cfg.network.policies) {
            const egress: Partial<Record<ComponentName, OutsideEgress>> = {};
            for (const c of cfg.components) egress[c] = outsideEgress(c, { jdbcDriverDownload: cfg.database.metastore.jdbcDriverUrl !== "" });
            this.networkPolicies = new NetworkPolicies(
                "network-policies",
                { environment: cfg.environment, namespaces: cfg.namespaces, components: cfg.components, wiring: this.wiring, egress, clientNamespaces: cfg.network.clientNamespaces },
                childOpts([namespaces]),
            );
        }
        this.namespaces = namespaces.names;
        this.addresses = addressTable(cfg.namespaces, cfg.clusterDomain, cfg.components);
        this.contract = { contractVersion: CONTRACT_VERSION, environment: cfg.environment, clusterDomain: cfg.clusterDomain, components: own };
        this.registerOutputs({ namespaces: this.namespaces, addresses: this.addresses, wiring: this.wiring, contract: this.contract });
    }
}
