import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    Address,
    AddressEntry,
    addressTable,
    Endpoint,
    schemeAt,
    serviceEndpoint,
    ServiceId,
    serviceNames,
    WiringEdge,
} from "./addresses";
import { Airbyte } from "./airbyte";
import { ComponentName, PlatformConfig } from "./config";
import {
    ComponentContracts,
    CONTRACT_VERSION,
    DatabaseCredentialsRef,
    GarageCredentialsRef,
    PlatformOutputs,
    publishContract,
    PublishedOutputs,
    upstreamCredentials,
} from "./contract";
import { PLATFORM_TYPE } from "../policies/lib/platform";
import { Dagster } from "./dagster";
import { ACCESS_KEY_ID, Garage, GarageConsumer, SECRET_ACCESS_KEY } from "./garage";
import {
    credentialName,
    DATABASE_LOGIN_CONSUMERS,
    GARAGE_KEY_CONSUMERS,
    generationOf,
    TlsServerName,
    TRINO_LOGIN_CONSUMERS,
    trinoLoginOf,
} from "./credentials";
import { copySecret } from "./handoff";
import { HiveMetastore } from "./hive-metastore";
import { credentialLabels } from "./labels";
import type { KeepData } from "./k8s";
import { Namespaces, REGISTRY_SECRET } from "./namespaces";
import { NetworkPolicies, OutsideEgress, outsideEgress } from "./network-policies";
import { DatabaseConsumer, MetadataDatabase, POSTGRES_TLS_SECRET, PostgresClientTls } from "./postgres";
import { Trino, TrinoAuthentication } from "./trino";
import { loginSecretName, TRINO_TLS_SECRET } from "./trino-security";
import { Certificates, TlsServer, TRUST_CONFIGMAP } from "./certificates";
import { NO_UPSTREAM, Upstream, UpstreamStacks } from "./upstream";
import { CheckSource, WIRING_CHECK_NAME, WiringCheckJobs } from "./wiring-check-jobs";
import { checksBySource, WiringCheck, wiringChecks } from "./wiring-checks";

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
    return GARAGE_KEY_CONSUMERS.flatMap((c) => {
        const mode = served(cfg, c.component);
        if (mode === undefined) return [];
        return [
            {
                name: c.name,
                component: c.component,
                readWrite: c.buckets.map((b) => cfg.buckets[b]),
                namespace: mode === "local" ? cfg.namespaces[c.component] : cfg.namespaces.garage,
                handoff: mode === "handoff",
                generation: generationOf(cfg.credentialGenerations, credentialName.garageKey(c.name)),
            },
        ];
    });
}

/** Who gets a PostgreSQL database and role, from which component. */
export function databaseConsumers(cfg: PlatformConfig): DatabaseConsumer[] {
    return DATABASE_LOGIN_CONSUMERS.flatMap((c) => {
        const mode = served(cfg, c.component);
        if (mode === undefined) return [];
        return [
            {
                ...c,
                namespace: mode === "local" ? cfg.namespaces[c.component] : cfg.namespaces.database,
                handoff: mode === "handoff",
                generation: generationOf(cfg.credentialGenerations, credentialName.databaseLogin(c.name)),
            },
        ];
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
    /** The credential and its generation (`garage-key/trino=2`), for the consumer's pod templates. */
    revision: string;
}

/** A component that starts connections: itself, and the credentials it reads (for its wiring checks). */
interface ConnectionSource {
    component: pulumi.Resource;
    garageKey?: GarageCredentialsRef;
    login?: DatabaseCredentialsRef;
    trinoLogin?: { user: string; secretName: string; caConfigMap: string };
    /** With `postgresTls`: how it verifies PostgreSQL. */
    databaseTls?: PostgresClientTls;
    revision: string;
}

/** One wiring check as the stack outputs list it: the edge, where its Job runs, what it checks. */
export interface WiringCheckEntry {
    id: string;
    from: ComponentName;
    to: ComponentName;
    address: string;
    /** `<namespace>/<Job>` that runs it. */
    job: string;
    checks: string[];
}

/** The Kubernetes kinds whose pod template the program writes (spec.template.spec). */
const POD_TEMPLATES = new Set([
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
]);

/**
 * Every pod the program itself runs pulls with the registry login: one rule for all of them,
 * present and future, applied to each workload as it is registered (the charts get the same
 * Secret in their values). A test checks every pod template of the plan.
 */
const withRegistryLogin: pulumi.ResourceTransformation = ({ type, props, opts }) => {
    if (!POD_TEMPLATES.has(type)) return undefined;
    const spec = (props as { spec?: { template?: { spec?: Record<string, unknown> } } }).spec?.template?.spec;
    if (spec === undefined) throw new Error(`internal error: a ${type} without spec.template.spec as a plain object`);
    spec.imagePullSecrets = [{ name: REGISTRY_SECRET }];
    return { props, opts };
};

/** What a consumer's pods carry so that a rotated credential rolls them: every credential it reads, with its generation. */
function revisionOf(...delivered: Delivered<unknown>[]): string {
    return delivered.map((d) => d.revision).join(",");
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
    /** The provider of the objects kept on delete, which takes them over on the next deploy (retainStatefulResources). */
    public readonly retainedProvider?: k8s.Provider;
    /** Namespace of each deployed component. */
    public readonly namespaces: Partial<Record<ComponentName, pulumi.Output<string>>>;
    /** Address of every service the stack deploys. */
    public readonly addresses: Partial<Record<ServiceId, AddressEntry>>;
    /** The output contract in its full form (every service's AddressEntry, every consumer's credentials). */
    public readonly contract: PlatformOutputs;
    /** The same as the stack publishes it (contract version 2, docs/outputs.md): short enough for one screen. */
    public readonly published: PublishedOutputs;
    /** The platform's CA and its TLS servers' certificates (with `trinoAuthentication` or `postgresTls`). */
    public readonly certificates?: Certificates;
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
    /** Deletes rotated Garage keys once their consumers run with the new ones (when a key was rotated). */
    public readonly keyRetirement?: k8s.batch.v1.Job;
    /** One check per edge of the wiring, run from the edge's source namespace (when `verifyWiring` is on). */
    public readonly wiringChecks: WiringCheck[];
    /** The checks as the stack outputs list them. */
    public readonly wiringCheckEntries: WiringCheckEntry[];
    /** The Jobs that run them, one per namespace that starts a connection. */
    public readonly wiringCheckJobs?: WiringCheckJobs;

    private readonly cfg: PlatformConfig;
    private readonly upstream: Upstream;
    private readonly namespaceSet: Namespaces;
    /** Contracts of every component this stack deploys or reads; local ones are added as they are built. */
    private readonly contracts: Partial<ComponentContracts>;
    /** Contracts of the components this stack deploys: its output. */
    private readonly own: Partial<ComponentContracts> = {};
    /** The components that start connections, as they are built. */
    private readonly sources: Partial<Record<ComponentName, ConnectionSource>> = {};

    constructor(name: string, args: LakehousePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            PLATFORM_TYPE,
            name,
            {},
            args.config.registryLogin ? pulumi.mergeOptions(opts, { transformations: [withRegistryLogin] }) : opts,
        );
        this.cfg = args.config;
        this.upstream = args.upstream ?? NO_UPSTREAM;
        this.contracts = { ...this.upstream.components };
        this.provider = this.kubernetesProvider();
        this.retainedProvider = this.retainedObjectsProvider();
        if (Object.keys(this.upstream.sources).length > 0)
            new UpstreamStacks("upstream", this.upstream, { parent: this });
        this.namespaceSet = this.deployNamespaces();
        this.certificates = this.issueCertificates();

        if (this.deploys("garage")) this.garage = this.deployGarage();
        if (this.deploys("database")) [this.metadataDatabase, this.hiveMetastore] = this.deployDatabase();
        if (this.deploys("trino")) this.trino = this.deployTrino();
        if (this.deploys("airbyte")) this.airbyte = this.deployAirbyte();
        if (this.deploys("dagster")) this.dagster = this.deployDagster();
        this.keyRetirement = this.retireRotatedKeys();

        this.wiring = [this.hiveMetastore, this.trino, this.airbyte, this.dagster].flatMap((c) => c?.wiring ?? []);
        this.networkPolicies = this.deployNetworkPolicies();
        this.wiringChecks = this.cfg.verifyWiring ? this.checksOfWiring() : [];
        this.wiringCheckJobs = this.verifyWiring();
        this.wiringCheckEntries = this.checkEntries();
        this.namespaces = this.namespaceSet.names;
        this.addresses = addressTable(
            this.cfg.namespaces,
            this.cfg.clusterDomain,
            this.cfg.components,
            this.tlsServices,
            this.loginServices,
        );
        this.contract = {
            contractVersion: CONTRACT_VERSION,
            environment: this.cfg.environment,
            clusterDomain: this.cfg.clusterDomain,
            components: this.own,
        };
        this.published = publishContract(this.contract, this.cfg.components);
        // The views and the full contract stay in the state (`pulumi stack export`), not on the
        // screen `pulumi up` prints: docs/outputs.md says where to read each.
        this.registerOutputs({
            namespaces: this.namespaces,
            addresses: this.addresses,
            wiring: this.wiring,
            wiringChecks: this.wiringCheckEntries,
            contract: this.contract,
        });
    }

    /** The services this stack serves over TLS: their clients use the TLS port and scheme. */
    private get tlsServices(): ServiceId[] {
        return this.deploys("trino") && this.cfg.trino.authentication ? ["trino"] : [];
    }

    /** The services this stack puts behind a login: clients reach its proxy (addresses.ts, `login`). */
    private get loginServices(): ServiceId[] {
        return this.deploys("dagster") && this.cfg.dagster.login.enabled ? ["dagsterWebserver"] : [];
    }

    /** The certificates, for what mounts them or the CA when `uses` (it starts after they are issued). */
    private issued(uses: boolean): pulumi.Resource[] {
        return uses && this.certificates ? [this.certificates] : [];
    }

    private deploys(c: ComponentName): boolean {
        return this.cfg.components.includes(c);
    }

    /** Options of a component: parented here, through the stack's provider, after `dependsOn`. */
    private childOpts(dependsOn: pulumi.Resource[] = []): pulumi.ComponentResourceOptions {
        return { parent: this, provider: this.provider, dependsOn };
    }

    /**
     * Options of what holds data, and of what a retained workload needs to start its pods again
     * (its account, Secrets, ConfigMaps, governing Service): `protect`, `retainOnDelete`, and, when
     * kept on delete, the provider that takes those objects over when the stack is deployed again.
     */
    private get keepData(): KeepData {
        return {
            protect: this.cfg.stateful.protect,
            retainOnDelete: this.cfg.stateful.retainOnDelete,
            ...(this.retainedProvider ? { provider: this.retainedProvider } : {}),
        };
    }

    /**
     * The contract of a component this stack deploys or reads. The config guarantees that every
     * component a deployed one needs is deployed here or given by an upstream stack (COMPONENT_NEEDS),
     * so a missing one is a bug of this program, not of the stack.
     */
    private contractOf<C extends ComponentName>(component: C): ComponentContracts[C] {
        const found = this.contracts[component];
        if (found === undefined)
            throw new Error(`internal error: no contract for ${component}, which the validated config promised`);
        return found;
    }

    private publish<C extends ComponentName>(component: C, contract: ComponentContracts[C]): void {
        this.contracts[component] = contract;
        this.own[component] = contract;
    }

    /**
     * The kubeconfig (a path or the file itself) is a credential whether or not the stack set it
     * with --secret; the context is secret when the stack says so.
     */
    private kubernetesProvider(): k8s.Provider {
        return new k8s.Provider("kubernetes", this.providerArgs(), { parent: this });
    }

    /**
     * The provider of the objects `retainStatefulResources` keeps. A stack destroyed with its data
     * kept leaves them in the cluster, and the next `pulumi up` creates them again: this provider
     * takes an existing object over (upsertExistingObjects, enablePatchForce) instead of failing
     * with "already exists". Only these objects: everything else keeps the main provider's refusal, which stops
     * a stack from silently taking over another's object of the same name. Same cluster, so moving
     * an object between the two providers updates it in place (the provider's DiffConfig).
     */
    private retainedObjectsProvider(): k8s.Provider | undefined {
        if (!this.cfg.stateful.retainOnDelete) return undefined;
        return new k8s.Provider(
            "kubernetes-retained",
            // The kept objects' fields belong to the field manager of the provider that made them,
            // which went with the destroyed stack: this one takes them over (enablePatchForce).
            { ...this.providerArgs(), upsertExistingObjects: true, enablePatchForce: true },
            { parent: this },
        );
    }

    /**
     * The stack's cluster; Secrets and ConfigMaps change in place (their names are fixed, so a
     * replacement would delete them first and leave their readers without them for a moment).
     */
    private providerArgs(): k8s.ProviderArgs {
        const access = this.cfg.kubernetes;
        return {
            context:
                access.context !== undefined && access.secret.context ? pulumi.secret(access.context) : access.context,
            kubeconfig: access.kubeconfig !== undefined ? pulumi.secret(access.kubeconfig) : undefined,
            enableServerSideApply: true,
            enableSecretMutable: true,
            enableConfigMapMutable: true,
        };
    }

    private deployNamespaces(): Namespaces {
        const deployed: Partial<Record<ComponentName, string>> = {};
        for (const c of this.cfg.components) deployed[c] = this.cfg.namespaces[c];
        const keepData = this.keepData;
        return new Namespaces(
            "namespaces",
            {
                namespaces: deployed,
                environment: this.cfg.environment,
                keepData: { garage: keepData, database: keepData },
                registryLogin: this.cfg.registryLogin,
            },
            this.childOpts(),
        );
    }

    /** A consumer's credentials from the issuer in this stack, or copied from another stack's handoff. */
    private deliver<T extends { namespace: string; secretName: string }>(
        issuer: "garage" | "database",
        consumer: string,
        component: ComponentName,
    ): Delivered<T> {
        const cfg = this.cfg;
        const issued = this.contractOf(issuer).credentials as unknown as Record<string, T>;
        const local = issuer === "garage" ? this.garage : this.metadataDatabase;
        if (local !== undefined)
            return { ref: issued[consumer], dependsOn: [local], revision: local.credentialRevisions[consumer] };
        const source = this.upstream.sources[issuer] ?? "";
        const ref = upstreamCredentials(source, issuer, issued, consumer, component, cfg.project);
        const generation = (ref as { generation?: number }).generation ?? 1;
        const revision = `${issuer === "garage" ? credentialName.garageKey(consumer) : credentialName.databaseLogin(consumer)}=${generation}`;
        const home = cfg.namespaces[component];
        if (ref.namespace === home) return { ref, dependsOn: [], revision };
        const copy = copySecret(
            `${consumer}-${issuer === "garage" ? "garage" : "postgres"}-credentials`,
            { namespace: ref.namespace, name: ref.secretName },
            { namespace: home, name: ref.secretName },
            credentialLabels(issuer, component, cfg.environment),
            { parent: this, provider: this.provider, dependsOn: [this.namespaceSet] },
        );
        return { ref: { ...ref, namespace: home }, dependsOn: [copy], revision };
    }

    private garageKey(consumer: string, component: ComponentName): Delivered<GarageCredentialsRef> {
        return this.deliver<GarageCredentialsRef>("garage", consumer, component);
    }

    private databaseLogin(consumer: string, component: ComponentName): Delivered<DatabaseCredentialsRef> {
        return this.deliver<DatabaseCredentialsRef>("database", consumer, component);
    }

    /** Garage's S3 API as the contract publishes it, its region, and the bucket names. */
    private s3(): { s3: Address; s3Region: string } {
        const garage = this.contractOf("garage");
        return {
            s3: { service: endpointOf(garage.services.s3), url: garage.services.s3.url },
            s3Region: garage.region,
        };
    }

    private deployGarage(): Garage {
        const cfg = this.cfg;
        const garage = new Garage(
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
                keepData: this.keepData,
                daemonGenerations: {
                    adminToken: generationOf(cfg.credentialGenerations, "garage-admin-token"),
                    rpcSecret: generationOf(cfg.credentialGenerations, "garage-rpc-secret"),
                },
            },
            // Consumer Secrets go into the other components' namespaces.
            this.childOpts([this.namespaceSet]),
        );
        this.publish("garage", {
            namespace: cfg.namespaces.garage,
            services: { s3: published("garage", garage.s3Service, garage.s3Endpoint) },
            region: garage.region,
            buckets: { ...cfg.buckets },
            credentials: Object.fromEntries(
                Object.entries(garage.credentialSecrets).map(([consumer, s]) => [
                    consumer,
                    {
                        namespace: s.namespace,
                        secretName: s.name,
                        accessKeyIdKey: ACCESS_KEY_ID,
                        secretAccessKeyKey: SECRET_ACCESS_KEY,
                        buckets: s.buckets,
                        generation: s.generation,
                    },
                ]),
            ),
        });
        return garage;
    }

    private deployDatabase(): [MetadataDatabase, HiveMetastore] {
        const cfg = this.cfg;
        const db = new MetadataDatabase(
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
                tls: cfg.database.postgres.tls
                    ? {
                          secretName: POSTGRES_TLS_SECRET,
                          caConfigMap: TRUST_CONFIGMAP,
                          generation: generationOf(cfg.credentialGenerations, credentialName.tls("postgres")),
                      }
                    : undefined,
                keepData: this.keepData,
            },
            this.childOpts([this.namespaceSet, ...this.issued(cfg.database.postgres.tls)]),
        );
        // The metastore's login is local by construction: it is deployed with the database.
        const login: Delivered<DatabaseCredentialsRef> = {
            ref: db.credentials["hive-metastore"],
            dependsOn: [db],
            revision: db.credentialRevisions["hive-metastore"],
        };
        const key = this.garageKey("hive-metastore", "database");
        const metastore = new HiveMetastore(
            "hive-metastore",
            {
                namespace: cfg.namespaces.database,
                clusterDomain: cfg.clusterDomain,
                environment: cfg.environment,
                image: cfg.database.metastore.image,
                replicas: cfg.database.metastore.replicas,
                resources: cfg.database.metastore.resources,
                ...this.s3(),
                bucket: cfg.buckets.lakehouse,
                s3CredentialsSecret: key.ref.secretName,
                database: {
                    service: db.postgresService,
                    jdbcUrl: db.jdbcUrls["hive-metastore"],
                    credentials: login.ref,
                    tls: db.clientTls,
                },
                jdbcDriverUrl: cfg.database.metastore.jdbcDriverUrl,
                jdbcDriverUrlSecret: cfg.database.metastore.jdbcDriverUrlSecret,
                jdbcDriverSha256: cfg.database.metastore.jdbcDriverSha256,
                curlImage: cfg.images.curl,
                credentialsRevision: revisionOf(key, login),
                // The server starts once its key is in Garage; its schema needs only the database.
                serverDependsOn: key.dependsOn,
            },
            this.childOpts([this.namespaceSet, db]),
        );
        // Its own database is in its namespace: the only connection it starts is to Garage.
        this.sources.database = { component: metastore, garageKey: key.ref, revision: revisionOf(key) };
        this.publish("database", {
            namespace: cfg.namespaces.database,
            services: {
                postgres: published("database", db.postgresService, db.postgresEndpoint),
                hiveMetastore: published("database", metastore.metastoreService, metastore.metastoreUri),
            },
            warehouse: metastore.warehouse,
            credentials: Object.fromEntries(
                Object.entries(db.credentials).map(([consumer, c]) => [consumer, { ...c }]),
            ),
        });
        return [db, metastore];
    }

    private deployTrino(): Trino {
        const cfg = this.cfg;
        const metastore = this.contractOf("database").services.hiveMetastore;
        const key = this.garageKey("trino", "trino");
        const trino = new Trino(
            "trino",
            {
                namespace: cfg.namespaces.trino,
                clusterDomain: cfg.clusterDomain,
                environment: cfg.environment,
                chart: cfg.trino.chart,
                imageMirror: cfg.imageMirror,
                registrySecret: cfg.registryLogin ? REGISTRY_SECRET : undefined,
                workers: cfg.trino.workers,
                coordinator: cfg.trino.coordinator,
                worker: cfg.trino.worker,
                catalogName: cfg.trino.catalogName,
                keepDemoCatalogs: cfg.trino.keepDemoCatalogs,
                metastore: { service: endpointOf(metastore), url: metastore.url },
                ...this.s3(),
                s3CredentialsSecret: key.ref.secretName,
                credentialsRevision: revisionOf(key),
                authentication: cfg.trino.authentication ? this.trinoAuthentication() : undefined,
            },
            this.childOpts([
                this.namespaceSet,
                ...key.dependsOn,
                ...(this.hiveMetastore ? [this.hiveMetastore] : []),
                ...this.issued(cfg.trino.authentication),
            ]),
        );
        this.sources.trino = { component: trino, garageKey: key.ref, revision: revisionOf(key) };
        this.publish("trino", {
            namespace: cfg.namespaces.trino,
            services: { coordinator: published("trino", trino.coordinatorService, trino.coordinatorUrl) },
            catalog: trino.catalog,
        });
        return trino;
    }

    /** Who logs in to Trino, where each login's Secret goes, and who verifies its certificate. */
    private trinoAuthentication(): TrinoAuthentication {
        const cfg = this.cfg;
        const holders = TRINO_LOGIN_CONSUMERS.filter((c) => this.deploys(c.component));
        return {
            dbtSchema: cfg.dagster.dbtSchema,
            loginNamespaces: Object.fromEntries(holders.map((c) => [c.name, cfg.namespaces[c.component]])),
            loginGenerations: Object.fromEntries(
                TRINO_LOGIN_CONSUMERS.map((c) => [
                    c.name,
                    generationOf(cfg.credentialGenerations, credentialName.trinoLogin(c.name)),
                ]),
            ),
        };
    }

    /**
     * One CA for the stack and a certificate per TLS server: Trino (`trinoAuthentication`) and
     * PostgreSQL (`postgresTls`); the CA's ConfigMap goes to every namespace whose clients verify
     * one. The release lives in Trino's namespace, where it was first issued, when the stack
     * deploys Trino (moving it would issue a new CA), otherwise in the database's.
     */
    private issueCertificates(): Certificates | undefined {
        const cfg = this.cfg;
        const servers: TlsServer[] = [];
        const trust: string[] = [];
        // A new generation (`credentialGenerations` tls/<server>=n) issues the server a new certificate.
        const tlsGeneration = (server: TlsServerName) =>
            generationOf(cfg.credentialGenerations, credentialName.tls(server));
        if (this.deploys("trino") && cfg.trino.authentication) {
            const ep = serviceEndpoint("trino", cfg.namespaces.trino, cfg.clusterDomain, { tls: true });
            servers.push({
                secretName: TRINO_TLS_SECRET,
                namespace: ep.namespace,
                dnsNames: serviceNames(ep),
                generation: tlsGeneration("trino"),
            });
            const holders = TRINO_LOGIN_CONSUMERS.filter((c) => this.deploys(c.component));
            trust.push(ep.namespace, ...holders.map((c) => cfg.namespaces[c.component]));
        }
        if (this.deploys("database") && cfg.database.postgres.tls) {
            const ep = serviceEndpoint("postgres", cfg.namespaces.database, cfg.clusterDomain);
            servers.push({
                secretName: POSTGRES_TLS_SECRET,
                namespace: ep.namespace,
                dnsNames: serviceNames(ep),
                generation: tlsGeneration("postgres"),
            });
            // The init Job and the metastore beside the server, and every client that verifies it.
            const verifying = databaseConsumers(cfg).filter((c) => c.verifiesTls);
            trust.push(ep.namespace, ...verifying.map((c) => c.namespace));
        }
        if (servers.length === 0) return undefined;
        return new Certificates(
            "certificates",
            {
                namespace: this.deploys("trino") ? cfg.namespaces.trino : cfg.namespaces.database,
                environment: cfg.environment,
                caGeneration: 1,
                servers,
                trustNamespaces: trust,
            },
            {
                ...this.childOpts([this.namespaceSet]),
                // Issued inside the Trino component before PostgreSQL had TLS: the same release.
                aliases: [
                    { name: "trino-certificates", parent: pulumi.createUrn("trino", "lakehouse:query:Trino", this) },
                ],
            },
        );
    }

    private deployAirbyte(): Airbyte {
        const cfg = this.cfg;
        const key = this.garageKey("airbyte", "airbyte");
        const login = this.databaseLogin("airbyte", "airbyte");
        // A rotated instance admin upgrades the release, so its bootloader copies the new values
        // into Airbyte's own Secret (a value it is given wins over the one it holds), and rolls the
        // server. Generation 1 adds nothing: stacks deployed before the admin existed do not roll.
        const adminGeneration = generationOf(cfg.credentialGenerations, credentialName.airbyteAdmin);
        const revision = [
            revisionOf(key, login),
            ...(adminGeneration > 1 ? [`${credentialName.airbyteAdmin}=${adminGeneration}`] : []),
        ].join(",");
        const airbyte = new Airbyte(
            "airbyte",
            {
                namespace: cfg.namespaces.airbyte,
                clusterDomain: cfg.clusterDomain,
                environment: cfg.environment,
                chart: cfg.airbyte.chart,
                imageMirror: cfg.imageMirror,
                registrySecret: cfg.registryLogin ? REGISTRY_SECRET : undefined,
                size: cfg.airbyte.size,
                ...this.s3(),
                storageBucket: cfg.buckets.airbyte,
                lakehouseBucket: cfg.buckets.lakehouse,
                s3CredentialsSecret: key.ref.secretName,
                database: {
                    service: endpointOf(this.contractOf("database").services.postgres),
                    credentials: login.ref,
                },
                credentialsRevision: revision,
                adminGeneration,
            },
            this.childOpts([this.namespaceSet, ...key.dependsOn, ...login.dependsOn]),
        );
        this.sources.airbyte = {
            component: airbyte,
            garageKey: key.ref,
            login: login.ref,
            revision: revisionOf(key, login),
        };
        this.publish("airbyte", {
            namespace: cfg.namespaces.airbyte,
            services: { server: published("airbyte", airbyte.serverService, airbyte.serverUrl) },
            apiUrl: airbyte.apiUrl,
        });
        return airbyte;
    }

    private deployDagster(): Dagster {
        const cfg = this.cfg;
        const key = this.garageKey("dagster", "dagster");
        const login = this.databaseLogin("dagster", "dagster");
        const trino = this.contractOf("trino");
        const airbyte = this.contractOf("airbyte");
        // Over HTTPS, dbt logs in with Dagster's Trino login and verifies the platform's CA.
        const user = trinoLoginOf("dagster");
        const trinoLogin =
            user !== undefined && schemeAt("trino", trino.services.coordinator.port) === "https"
                ? { user, secretName: loginSecretName(user), caConfigMap: TRUST_CONFIGMAP }
                : undefined;
        // A rotated Trino login rolls the pods that read its token at start, as a rotated key does.
        const generationEntry = (credential: string) =>
            `${credential}=${generationOf(cfg.credentialGenerations, credential)}`;
        const revision = [
            revisionOf(key, login),
            ...(trinoLogin ? [generationEntry(credentialName.trinoLogin(trinoLogin.user))] : []),
        ].join(",");
        const dagster = new Dagster(
            "dagster",
            {
                namespace: cfg.namespaces.dagster,
                clusterDomain: cfg.clusterDomain,
                environment: cfg.environment,
                chart: cfg.dagster.chart,
                imageMirror: cfg.imageMirror,
                registrySecret: cfg.registryLogin ? REGISTRY_SECRET : undefined,
                size: cfg.dagster.size,
                userCode: cfg.dagster.userCode,
                database: {
                    service: endpointOf(this.contractOf("database").services.postgres),
                    credentials: login.ref,
                    tls: this.metadataDatabase?.clientTls,
                },
                trino: { service: endpointOf(trino.services.coordinator), catalog: trino.catalog, login: trinoLogin },
                dbtSchema: cfg.dagster.dbtSchema,
                ...this.s3(),
                lakehouseBucket: cfg.buckets.lakehouse,
                s3CredentialsSecret: key.ref.secretName,
                airbyte: { service: endpointOf(airbyte.services.server), apiUrl: airbyte.apiUrl },
                credentialsRevision: revision,
                login: cfg.dagster.login.enabled
                    ? {
                          image: cfg.dagster.login.image,
                          generation: generationOf(cfg.credentialGenerations, credentialName.dagsterLogin),
                      }
                    : undefined,
            },
            // Trino and Airbyte are only addresses to Dagster: it need not wait for them to be up,
            // only for what its pods mount of Trino's (its login, the CA).
            this.childOpts([
                this.namespaceSet,
                ...key.dependsOn,
                ...login.dependsOn,
                ...(trinoLogin ? (this.trino?.clientCredentials ?? []) : []),
                // The CA's ConfigMap its pods mount.
                ...this.issued(trinoLogin !== undefined || cfg.database.postgres.tls),
            ]),
        );
        this.sources.dagster = {
            component: dagster,
            garageKey: key.ref,
            login: login.ref,
            trinoLogin,
            databaseTls: this.metadataDatabase?.clientTls,
            revision,
        };
        this.publish("dagster", {
            namespace: cfg.namespaces.dagster,
            services: { webserver: published("dagster", dagster.webserverService, dagster.webserverUrl) },
        });
        return dagster;
    }

    /** Rotated Garage keys are deleted after every consumer in this stack rolled onto its new key. */
    private retireRotatedKeys(): k8s.batch.v1.Job | undefined {
        const consumers = [this.hiveMetastore, this.trino, this.airbyte, this.dagster].filter(
            (c): c is NonNullable<typeof c> => c !== undefined,
        );
        return this.garage?.retireEarlierKeys(consumers, { parent: this, provider: this.provider });
    }

    private deployNetworkPolicies(): NetworkPolicies | undefined {
        const cfg = this.cfg;
        if (!cfg.network.policies) return undefined;
        const egress: Partial<Record<ComponentName, OutsideEgress>> = {};
        for (const c of cfg.components)
            egress[c] = outsideEgress(c, { jdbcDriverUrl: cfg.database.metastore.jdbcDriverUrl });
        return new NetworkPolicies(
            "network-policies",
            {
                environment: cfg.environment,
                namespaces: cfg.namespaces,
                components: cfg.components,
                wiring: this.wiring,
                egress,
                clientNamespaces: cfg.network.clientNamespaces,
                tls: this.tlsServices,
                login: this.loginServices,
            },
            this.childOpts([this.namespaceSet]),
        );
    }

    /** Every edge's check, with what the checks need from the contracts: Garage's region, Trino's catalog. */
    private checksOfWiring(): WiringCheck[] {
        const skipped = (c: WiringCheck) =>
            this.cfg.wiringChecksSkip.some((s) => s.from === c.edge.from && s.to === c.edge.to);
        // Numbered before the skipped ones leave: a check keeps its id whatever is skipped.
        return wiringChecks(this.wiring, {
            buckets: this.cfg.buckets,
            s3Region: this.contracts.garage?.region,
            trinoCatalog: this.contracts.trino?.catalog,
        }).filter((c) => !skipped(c));
    }

    /** The resource behind a service this stack deploys (a check waits for it); undefined when another stack deploys it. */
    private deployedService(service: ServiceId): pulumi.Resource | undefined {
        const owners: Record<ServiceId, pulumi.Resource | undefined> = {
            garageS3: this.garage,
            postgres: this.metadataDatabase,
            hiveMetastore: this.hiveMetastore,
            trino: this.trino,
            airbyteServer: this.airbyte,
            dagsterWebserver: this.dagster,
        };
        return owners[service];
    }

    /**
     * One Job per namespace that starts a connection, after its component, everything its edges
     * reach, the NetworkPolicies that govern it and the retirement of rotated keys.
     */
    private verifyWiring(): WiringCheckJobs | undefined {
        if (this.wiringChecks.length === 0) return undefined;
        const after = [this.networkPolicies, this.keyRetirement].filter(
            (r): r is NonNullable<typeof r> => r !== undefined,
        );
        const sources: Partial<Record<ComponentName, CheckSource>> = {};
        const bySource = checksBySource(this.wiringChecks);
        for (const [component, s] of Object.entries(this.sources) as [ComponentName, ConnectionSource][]) {
            const reached = (bySource.get(component) ?? []).map((c) => this.deployedService(c.edge.service));
            sources[component] = {
                garageKey: s.garageKey,
                login: s.login,
                trinoLogin: s.trinoLogin,
                databaseTls: s.databaseTls,
                revision: s.revision,
                dependsOn: [
                    ...new Set([
                        s.component,
                        ...reached.filter((r): r is pulumi.Resource => r !== undefined),
                        ...after,
                    ]),
                ],
            };
        }
        return new WiringCheckJobs(
            "wiring-checks",
            {
                environment: this.cfg.environment,
                namespaces: this.cfg.namespaces,
                checks: this.wiringChecks,
                sources,
                images: { curl: this.cfg.images.curl, psql: this.cfg.database.postgres.image },
            },
            this.childOpts([this.namespaceSet]),
        );
    }

    /** The checks as the stack outputs list them. */
    private checkEntries(): WiringCheckEntry[] {
        return this.wiringChecks.map((c) => ({
            id: c.id,
            from: c.edge.from,
            to: c.edge.to,
            address: c.edge.address,
            job: `${this.cfg.namespaces[c.edge.from]}/${WIRING_CHECK_NAME}`,
            checks: c.what,
        }));
    }
}
