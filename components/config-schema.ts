// The declared configuration of the project: every key, its type, default and description.
// `Pulumi.yaml`'s `config:` block is generated from this table (`npm run sync-config`) and a test
// keeps the two identical, so the CLI fills and type-checks exactly the defaults the program applies.
// The CLI allows only string, integer, boolean and array types (no object), hence flat keys, and it
// refuses to run a stack that lacks a key declared without a default ("Stack 'dev' is missing
// configuration values ..."), so every key has one: an optional setting's is empty ("" or []),
// which the program reads as unset.

import { CHART_SOURCES, chartSourceDescription } from "./charts";

export type ConfigKeyType = "string" | "integer" | "boolean" | "array";

export interface ConfigKey {
    type: ConfigKeyType;
    description: string;
    /** Every key has one (the CLI requires a key without it in every stack); "" means unset. */
    default: string | number | boolean | string[];
    /** Element type of an array key. */
    items?: { type: "string" };
}

interface ResourceDefaults {
    cpuRequest: string;
    memoryRequest: string;
    cpuLimit: string;
    memoryLimit: string;
}

type ResourceKeySuffix = "CpuRequest" | "MemoryRequest" | "CpuLimit" | "MemoryLimit";

/** The four requests/limits keys of one workload, named `<prefix>CpuRequest` and so on. */
function resourceKeys<P extends string>(
    prefix: P,
    workload: string,
    d: ResourceDefaults,
): Record<`${P}${ResourceKeySuffix}`, ConfigKey> {
    return {
        [`${prefix}CpuRequest`]: {
            type: "string",
            default: d.cpuRequest,
            description: `CPU request of ${workload} (Kubernetes quantity, e.g. 250m).`,
        },
        [`${prefix}MemoryRequest`]: {
            type: "string",
            default: d.memoryRequest,
            description: `Memory request of ${workload} (Kubernetes quantity, e.g. 512Mi).`,
        },
        [`${prefix}CpuLimit`]: {
            type: "string",
            default: d.cpuLimit,
            description: `CPU limit of ${workload}; at least the request.`,
        },
        [`${prefix}MemoryLimit`]: {
            type: "string",
            default: d.memoryLimit,
            description: `Memory limit of ${workload}; at least the request.`,
        },
    } as Record<`${P}${ResourceKeySuffix}`, ConfigKey>;
}

export const CONFIG_KEYS = {
    environment: {
        type: "string",
        default: "",
        description:
            "Environment name put on every namespace and used to tell stacks apart; defaults to the stack name (set it when several split stacks form one environment).",
    },
    kubeContext: {
        type: "string",
        default: "",
        description:
            "kubeconfig context of the target cluster. This or `kubeconfig` is required, so a stack never deploys to whatever context happens to be current.",
    },
    kubeconfig: {
        type: "string",
        default: "",
        description: "Path to, or contents of, the kubeconfig of the target cluster (alternative to `kubeContext`).",
    },
    clusterDomain: {
        type: "string",
        default: "cluster.local",
        description:
            "DNS domain of the cluster's Services; every cross-namespace address is <service>.<namespace>.svc.<clusterDomain>.",
    },
    components: {
        type: "array",
        items: { type: "string" },
        default: ["garage", "database", "trino", "airbyte", "dagster"],
        description: "Components this stack deploys: any of garage, database, trino, airbyte, dagster.",
    },
    upstreamStacks: {
        type: "array",
        items: { type: "string" },
        default: [],
        description:
            "Split stacks: fully qualified names (<org>/<project>/<stack>) of the stacks whose outputs give the components this stack needs but does not deploy.",
    },
    downstreamComponents: {
        type: "array",
        items: { type: "string" },
        default: [],
        description:
            "Split stacks: components other stacks deploy against this one; Garage and PostgreSQL issue their credentials here, for those stacks to copy.",
    },
    networkPolicies: {
        type: "boolean",
        default: true,
        description:
            "NetworkPolicies from the wiring: each platform namespace admits only the namespaces and ports that reach it, plus its own pods.",
    },
    verifyWiring: {
        type: "boolean",
        default: true,
        description:
            "After the components are ready, a Job in each namespace that starts a connection checks every edge of the wiring from there, with that component's credentials; a failed check fails the update, naming the edge.",
    },
    wiringChecksSkip: {
        type: "array",
        items: { type: "string" },
        default: [],
        description:
            "Edges of the wiring (`<from>/<to>`, e.g. `dagster/airbyte`) whose checks verifyWiring leaves out, for a component this cluster does not run yet (deployed later, or only simulated); the plan lists each as not checked. Every other edge is checked.",
    },
    networkPolicyClientNamespaces: {
        type: "array",
        items: { type: "string" },
        default: [],
        description:
            "Namespaces admitted to the user-facing services (Trino, the Airbyte server, the Dagster webserver), e.g. an ingress controller's.",
    },
    protectStatefulResources: {
        type: "boolean",
        default: false,
        description:
            "Protect the resources that hold data (Garage and PostgreSQL: their StatefulSets, namespaces and the superuser password) so Pulumi refuses to delete or replace them.",
    },
    retainStatefulResources: {
        type: "boolean",
        default: false,
        description:
            "Keep the resources that hold data in the cluster when Pulumi deletes them (retainOnDelete), so a destroyed stack leaves its volumes behind.",
    },
    allowDataChanges: {
        type: "array",
        items: { type: "string" },
        default: [],
        description:
            "Keys whose change touches what holds data (environment, garageNamespace, databaseNamespace, garageDataSize, garageMetadataSize, postgresStorageSize, storageClass, lakehouseBucket, airbyteBucket, components) that this stack may change although it keeps its data; each after its procedure in docs/day-two.md. Without it such a change is refused, naming the key.",
    },
    credentialGenerations: {
        type: "array",
        items: { type: "string" },
        default: [],
        description:
            "Rotation: the generation of each rotated credential, as <credential>=<n> (garage-key/<consumer>, database-login/<consumer>, garage-admin-token, garage-rpc-secret, trino-login/<login>, airbyte-admin, dagster-login, tls/<server>; unset means 1). Raising a number issues a new credential, moves its holders to it and retires the old one (docs/day-two.md, Rotating credentials).",
    },

    garageNamespace: { type: "string", default: "garage", description: "Namespace of Garage (S3 object store)." },
    databaseNamespace: {
        type: "string",
        default: "database",
        description: "Namespace of the metadata PostgreSQL and the Hive Metastore.",
    },
    trinoNamespace: { type: "string", default: "trino", description: "Namespace of Trino." },
    airbyteNamespace: { type: "string", default: "airbyte", description: "Namespace of Airbyte." },
    dagsterNamespace: { type: "string", default: "dagster", description: "Namespace of Dagster." },

    storageClass: {
        type: "string",
        default: "",
        description:
            "StorageClass of every persistent volume (Garage, PostgreSQL); the cluster's default class when unset.",
    },
    imageRegistryMirror: {
        type: "string",
        default: "",
        description:
            "Registry mirror every image is pulled from (host[:port][/path]): each image the platform deploys, its Jobs' and every image of the charts keep their repository path, tag and digest on it (docker.io/library/busybox:1.37 becomes <mirror>/library/busybox:1.37). Empty: each image from its own registry.",
    },
    imageRegistryUsername: {
        type: "string",
        default: "",
        description:
            "Login to imageRegistryMirror, for a mirror that requires one: with imageRegistryPassword, every namespace of the platform gets a registry Secret and every pod the platform runs or launches (its own, the charts', Airbyte's connectors, Dagster's runs) pulls with it. Empty: pulls are anonymous.",
    },
    imageRegistryPassword: {
        type: "string",
        default: "",
        description:
            "Password or token of imageRegistryUsername; set it with `pulumi config set --secret` (refused otherwise). Kept in each namespace's registry Secret, never printed.",
    },
    chartRepositoryUsername: {
        type: "string",
        default: "",
        description:
            "Login to the chart repositories (https:// sources of trinoChart, airbyteChart, dagsterChart) that require one; with chartRepositoryPassword. Empty: anonymous.",
    },
    chartRepositoryPassword: {
        type: "string",
        default: "",
        description:
            "Password or token of chartRepositoryUsername; set it with `pulumi config set --secret` (refused otherwise). Never printed.",
    },
    busyboxImage: {
        type: "string",
        default: "busybox:1.37.0-musl",
        description:
            "Static busybox image that lends its shell to jobs whose main image has none (Garage's bootstrap), pinned.",
    },

    lakehouseBucket: {
        type: "string",
        default: "lakehouse",
        description: "Bucket holding the Iceberg warehouse and the data Airbyte lands.",
    },
    airbyteBucket: {
        type: "string",
        default: "airbyte",
        description: "Bucket for Airbyte's own state, logs and workload output.",
    },

    garageImage: {
        type: "string",
        default: "dxflrs/garage:v2.3.0",
        description: "Garage image, pinned by tag or digest.",
    },
    garageReplicas: { type: "integer", default: 1, description: "Number of Garage nodes (StatefulSet replicas)." },
    garageReplicationFactor: {
        type: "integer",
        default: 1,
        description: "Copies Garage keeps of each object; at most the number of nodes.",
    },
    garageDataSize: { type: "string", default: "10Gi", description: "Size of each Garage node's data volume." },
    garageMetadataSize: { type: "string", default: "1Gi", description: "Size of each Garage node's metadata volume." },
    ...resourceKeys("garage", "each Garage node", {
        cpuRequest: "100m",
        memoryRequest: "256Mi",
        cpuLimit: "1",
        memoryLimit: "1Gi",
    }),

    postgresImage: {
        type: "string",
        default: "postgres:17.6",
        description: "PostgreSQL image for the metadata databases, pinned by tag or digest.",
    },
    postgresStorageSize: { type: "string", default: "5Gi", description: "Size of the PostgreSQL data volume." },
    ...resourceKeys("postgres", "PostgreSQL", {
        cpuRequest: "100m",
        memoryRequest: "256Mi",
        cpuLimit: "1",
        memoryLimit: "1Gi",
    }),

    postgresMaxConnections: {
        type: "integer",
        default: 200,
        description: "PostgreSQL max_connections, shared by the metastore, Airbyte (with Temporal) and Dagster.",
    },
    postgresTls: {
        type: "boolean",
        default: false,
        description:
            "PostgreSQL accepts connections over TLS only (hostssl, scram-sha-256), with a certificate from the platform's CA that every client verifies (sslmode=verify-full); Airbyte's role, whose chart cannot verify, is the one exception (docs/security.md). Off by default in this release.",
    },

    hiveMetastoreImage: {
        type: "string",
        default: "apache/hive:4.0.1",
        description: "Hive Metastore image (apache/hive 4.0.x), pinned by tag or digest.",
    },
    hiveMetastoreReplicas: { type: "integer", default: 1, description: "Hive Metastore replicas." },
    hiveMetastoreJdbcDriverUrl: {
        type: "string",
        default: "https://repo1.maven.org/maven2/org/postgresql/postgresql/42.7.4/postgresql-42.7.4.jar",
        description:
            "Where the metastore's init container downloads the PostgreSQL JDBC driver (needs egress): an https:// URL, or http:// (an artifact mirror inside the cluster) with hiveMetastoreJdbcDriverSha256 set; empty when hiveMetastoreImage already has it in /opt/hive/lib.",
    },
    hiveMetastoreJdbcDriverSha256: {
        type: "string",
        default: "",
        description:
            "SHA-256 the downloaded driver must have; when unset, only the checksum published beside it on the same server is checked.",
    },
    curlImage: {
        type: "string",
        default: "curlimages/curl:8.11.1",
        description: "Image with sh and curl for downloads in init containers, pinned.",
    },
    ...resourceKeys("hiveMetastore", "the Hive Metastore", {
        cpuRequest: "250m",
        memoryRequest: "1Gi",
        cpuLimit: "1",
        memoryLimit: "1Gi",
    }),

    trinoChartVersion: {
        type: "string",
        default: "1.42.2",
        description: "Version of the trino Helm chart (exact version).",
    },
    trinoChart: {
        type: "string",
        default: CHART_SOURCES.trino,
        description: chartSourceDescription("trino"),
    },
    trinoWorkers: { type: "integer", default: 1, description: "Number of Trino workers." },
    trinoCatalogName: {
        type: "string",
        default: "lakehouse",
        description: "Name of Trino's Iceberg catalog (on the Hive Metastore and Garage).",
    },
    trinoKeepDemoCatalogs: {
        type: "boolean",
        default: false,
        description: "Keep the chart's tpch and tpcds demo catalogs.",
    },
    trinoAuthentication: {
        type: "boolean",
        default: false,
        description:
            "Trino answers clients over HTTPS only (port 8443), with a certificate from the platform's CA, and runs a query only for a login: a generated token per consumer (admin, analyst, dbt) in a Secret of its namespace, access rules per login, and a generated secret for its internal communication (docs/security.md). Off by default in this release.",
    },
    trinoCoordinatorHeap: {
        type: "string",
        default: "1536M",
        description: "JVM heap of the Trino coordinator (e.g. 1536M, 6G); at most 85% of its memory limit.",
    },
    trinoWorkerHeap: {
        type: "string",
        default: "1536M",
        description: "JVM heap of each Trino worker (e.g. 1536M, 12G); at most 85% of its memory limit.",
    },
    ...resourceKeys("trinoCoordinator", "the Trino coordinator", {
        cpuRequest: "500m",
        memoryRequest: "2Gi",
        cpuLimit: "2",
        memoryLimit: "2Gi",
    }),
    ...resourceKeys("trinoWorker", "each Trino worker", {
        cpuRequest: "500m",
        memoryRequest: "2Gi",
        cpuLimit: "2",
        memoryLimit: "2Gi",
    }),

    airbyteChartVersion: {
        type: "string",
        default: "2.2.0",
        description: "Version of the airbyte Helm chart (v2; exact version).",
    },
    airbyteChart: {
        type: "string",
        default: CHART_SOURCES.airbyte,
        description: chartSourceDescription("airbyte"),
    },
    airbyteSize: {
        type: "string",
        default: "small",
        description:
            "Requests and limits of Airbyte's pods and connector jobs: small (a laptop), medium (twice small) or large (four times).",
    },

    dagsterChartVersion: {
        type: "string",
        default: "1.9.4",
        description: "Version of the dagster Helm chart (exact version).",
    },
    dagsterChart: {
        type: "string",
        default: CHART_SOURCES.dagster,
        description: `${chartSourceDescription("dagster")} The default is the 1.9.4 chart in this repository, whose values schema carries its own Kubernetes definitions (upstream's points at a site that is gone).`,
    },
    dagsterSize: {
        type: "string",
        default: "small",
        description:
            "Requests and limits of Dagster's webserver, daemon, code location and run pods: small, medium (twice small) or large (four times).",
    },
    dagsterUserCodeImage: {
        type: "string",
        default: "docker.io/dagster/user-code-example",
        description: "Image repository of the Dagster code location (the user code).",
    },
    dagsterUserCodeTag: {
        type: "string",
        default: "1.9.4",
        description: "Tag of the code location image; keep it at the Dagster version of the chart.",
    },
    dagsterUserCodeModule: {
        type: "string",
        default: "/example_project/example_repo/repo.py",
        description:
            "Python module the code location loads (--module-name), or a file ending in .py (--python-file); the default is the example image's repository.",
    },
    dagsterLogin: {
        type: "boolean",
        default: false,
        description:
            "Dagster's webserver behind a login: an authenticating proxy (oauth2-proxy) in Dagster's namespace, with a generated admin password (stack output dagsterAdminPassword, secret; rotated by credentialGenerations dagster-login=N) and cookie secret; clients (networkPolicyClientNamespaces) reach the proxy only. Off by default in this release (docs/security.md).",
    },
    dagsterLoginImage: {
        type: "string",
        default: "quay.io/oauth2-proxy/oauth2-proxy:v7.15.6",
        description: "Image of the login in front of Dagster's webserver (oauth2-proxy 7.x), pinned by tag or digest.",
    },
    dbtSchema: {
        type: "string",
        default: "analytics",
        description: "Schema of the Iceberg catalog that dbt builds its models in.",
    },
} satisfies Record<string, ConfigKey>;

export type ConfigKeyName = keyof typeof CONFIG_KEYS;
