// Airbyte (chart v2), keeping its state, logs and workload output on Garage and its database on the
// platform's PostgreSQL, so nothing it needs lives only inside its namespace.
//
// Deployed with `helm.v3.Release`: the chart puts its secrets, its env ConfigMap and its bootloader
// behind Helm hooks, which `helm.v4.Chart` drops.
// Imported from its module: `k8s.helm` would also load the deprecated helm.v3.Chart and its YAML machinery.
import { Release as HelmRelease } from "@pulumi/kubernetes/helm/v3/release";
import { Secret } from "@pulumi/kubernetes/core/v1";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { airbyteImages, airbyteImageValues, ChartImage } from "./chart-images";
import { ChartSpec, releaseChart } from "./charts";
import { Address, Endpoint, RELEASES, serviceEndpoint, urlOf, wire, WiringEdge } from "./addresses";
import type { SizeProfile } from "./config";
import { PodSize, scaleSizes } from "./sizing";
import { DatabaseCredentials } from "./postgres";
import { childOptions, CREDENTIALS_REVISION, restrictedContainerSecurity } from "./k8s";
import { generationKeepers } from "./credentials";
import { credentialLabels } from "./labels";
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY } from "./garage";
import { secretPointer, unusedCredential } from "../policies/lib/rules";

/** Where the suggested S3 destination lands data in the lakehouse bucket. */
export const LANDING_PATH = "raw/airbyte";

/**
 * The chart's pods that run by default in chart 2.2.0, and the connector pods Airbyte launches
 * (`global.workloads.resources.*`; the chart's `global.jobs.resources` is in its defaults but no
 * template reads it).
 */
const SMALL = {
    server: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
    worker: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } },
    workloadLauncher: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
    workloadApiServer: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
    cron: { requests: { cpu: "50m", memory: "512Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
    airbyteBootloader: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    temporal: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    manifestServer: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
    replication: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "2Gi" } },
    check: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
    discover: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
    sidecar: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
} satisfies Record<string, PodSize>;

const AIRBYTE_UID = 1000;
const KEYCLOAK_UNUSED =
    "Keycloak runs only in Airbyte's enterprise edition; this platform deploys the community edition";

/** Pods the chart runs, sized through `<pod>.resources`. */
export const AIRBYTE_PODS = [
    "server",
    "worker",
    "workloadLauncher",
    "workloadApiServer",
    "cron",
    "airbyteBootloader",
    "temporal",
    "manifestServer",
] as const;
/** Connector pods, sized through `global.workloads.resources.<kind>.<cpu|memory>.<request|limit>`. */
export const CONNECTOR_PODS = ["replication", "check", "discover", "sidecar"] as const;

/** Requests and limits of each Airbyte pod for a size profile. */
export function airbyteSizing(size: SizeProfile): Record<keyof typeof SMALL, PodSize> {
    return scaleSizes(SMALL, size);
}

/**
 * Airbyte's instance admin, generated here (auth on, the chart's default, kept on): its bootloader
 * reads this Secret (`global.auth.secretName`) and keeps what it finds, so the login is the
 * platform's, stable across updates, and rotated by its generation (`airbyte-admin`).
 */
export const AIRBYTE_ADMIN_SECRET = "airbyte-instance-admin";
/** The keys the chart's bootloader reads from that Secret (the chart's defaults). */
export const AIRBYTE_ADMIN_KEYS = {
    password: "AB_INSTANCE_ADMIN_PASSWORD",
    clientId: "AB_INSTANCE_ADMIN_CLIENT_ID",
    clientSecret: "AB_INSTANCE_ADMIN_CLIENT_SECRET",
    jwtSignature: "AB_JWT_SIGNATURE_SECRET",
} as const;

/** Where the instance admin's password is, and the password itself (a secret output). */
export interface AirbyteInstanceAdmin {
    namespace: string;
    secretName: string;
    passwordKey: string;
    password: pulumi.Output<string>;
}

export interface AirbyteArgs {
    namespace: string;
    environment: string;
    clusterDomain: string;
    /** Where the chart comes from, and its pinned version (`airbyteChart`, `airbyteChartVersion`). */
    chart: ChartSpec;
    size: SizeProfile;
    /** Garage's S3 API. */
    s3: Address;
    s3Region: string;
    /** Bucket for Airbyte's own state, logs and workload output. */
    storageBucket: string;
    /** Bucket Airbyte lands data in (the lakehouse). */
    lakehouseBucket: string;
    /** Airbyte's Garage Secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) in Airbyte's namespace. */
    s3CredentialsSecret: string;
    /** The platform PostgreSQL: its Service (FQDN host and port) and Airbyte's credentials. */
    database: { service: Endpoint; credentials: DatabaseCredentials };
    /** One-way checksum of the key and login in those Secrets: on the pods, so rotated credentials roll them. */
    credentialsRevision?: pulumi.Input<string>;
    /** Registry mirror every image of the chart (and every connector) is pulled through (`imageRegistryMirror`). */
    imageMirror?: string;
    /** The namespace's registry Secret every pod of the chart and every connector pulls with (`imageRegistryUsername`). */
    registrySecret?: string;
    /** Generation of the instance admin's credentials (`credentialGenerations`, `airbyte-admin`). */
    adminGeneration: number;
}

/**
 * The S3 destination a user creates in Airbyte to land data in the lakehouse: Airbyte's "S3"
 * destination on Garage. The key pair is the one in `credentials` (a Secret's name, not its value).
 */
export interface S3Destination {
    destinationType: "s3";
    s3_endpoint: string;
    s3_bucket_name: string;
    s3_bucket_path: string;
    s3_bucket_region: string;
    /** Garage serves buckets path-style; Airbyte's S3 destination uses path-style whenever an endpoint is set. */
    pathStyleAccess: true;
    credentials: { secretNamespace: string; secretName: string; accessKeyIdKey: string; secretAccessKeyKey: string };
}

/** Values for the airbyte-v2/airbyte chart: every key is one the pinned chart version reads. */
export function airbyteValues(args: AirbyteArgs): Record<string, unknown> {
    const sizing = airbyteSizing(args.size);
    const { service: endpoint, credentials } = args.database;
    const connector = (pod: (typeof CONNECTOR_PODS)[number]) => ({
        cpu: { request: sizing[pod].requests.cpu, limit: sizing[pod].limits.cpu },
        memory: { request: sizing[pod].requests.memory, limit: sizing[pod].limits.memory },
    });
    return {
        global: {
            edition: "community",
            ...airbyteImageValues(args.imageMirror),
            // The chart's pods, and the connectors' pods its workload launcher starts later.
            ...(args.registrySecret
                ? {
                      imagePullSecrets: [{ name: args.registrySecret }],
                      jobs: { kube: { mainContainerImagePullSecret: args.registrySecret } },
                  }
                : {}),
            storage: {
                // Garage through the chart's S3-compatible mode: `s3` has no endpoint setting (AWS only).
                type: "minio",
                secretName: args.s3CredentialsSecret,
                minio: {
                    endpoint: args.s3.url,
                    s3PathStyleAccess: true,
                    // The chart writes these into its own Secret whatever the pods read, defaulting
                    // to minio/minio123: it gets where the key is instead, never a credential.
                    accessKeyId: secretPointer(args.s3CredentialsSecret, ACCESS_KEY_ID),
                    secretAccessKey: secretPointer(args.s3CredentialsSecret, SECRET_ACCESS_KEY),
                },
                bucket: {
                    log: args.storageBucket,
                    state: args.storageBucket,
                    workloadOutput: args.storageBucket,
                    activityPayload: args.storageBucket,
                    auditLogging: args.storageBucket,
                },
            },
            database: {
                // The chart reads `type` only to force TLS on Temporal's connection when it is
                // `external`; the platform PostgreSQL serves plain connections inside the cluster,
                // so it stays `internal` and every connection setting is given here.
                type: "internal",
                host: endpoint.host,
                port: endpoint.port,
                name: credentials.database,
                secretName: credentials.secretName,
                userSecretKey: credentials.usernameKey,
                passwordSecretKey: credentials.passwordKey,
                // Likewise for its Secret's DATABASE_USER / DATABASE_PASSWORD (default airbyte/airbyte);
                // the pods read both from the Secret above.
                user: credentials.role,
                password: secretPointer(credentials.secretName, credentials.passwordKey),
                // The replica settings default to keys our Secret does not have.
                replica: { userSecretKey: credentials.usernameKey, passwordSecretKey: credentials.passwordKey },
            },
            workloads: { resources: Object.fromEntries(CONNECTOR_PODS.map((pod) => [pod, connector(pod)])) },
            // No usage tracking sent to Segment (api.segment.io): nothing an air-gapped cluster reaches.
            tracking: { enabled: false, strategy: "logging" },
            // Every request to the server logs in (the chart's default, stated so no one flips it
            // unseen); the instance admin's credentials are the platform's, from its Secret.
            auth: { enabled: true, secretName: AIRBYTE_ADMIN_SECRET },
        },
        postgresql: { enabled: false },
        minio: { enabled: false },
        // Keycloak runs only in the enterprise edition, but the chart writes its admin and database
        // passwords into its own Secret whatever the edition, defaulting to airbyte123 and airbyte:
        // a known password in a cluster Secret is what a scanner flags first.
        keycloak: {
            auth: { adminPassword: unusedCredential(KEYCLOAK_UNUSED) },
            database: { password: unusedCredential(KEYCLOAK_UNUSED) },
        },
        ...Object.fromEntries(
            AIRBYTE_PODS.map((pod) => [
                pod,
                {
                    resources: sizing[pod],
                    podSecurityContext: POD_SECURITY,
                    containerSecurityContext: CONTAINER_SECURITY,
                    ...(args.credentialsRevision !== undefined
                        ? { podAnnotations: { [CREDENTIALS_REVISION]: args.credentialsRevision } }
                        : {}),
                },
            ]),
        ),
    };
}

/**
 * Every pod the chart runs, stated rather than left to each pod's defaults (two of which set
 * none): Airbyte's user 1000, no privilege escalation, no capability, the runtime's seccomp
 * profile. The images write to their own file systems, so the root stays writable. The connector
 * pods Airbyte launches are its own, which is why the namespace enforces `baseline`.
 */
const POD_SECURITY = {
    runAsNonRoot: true,
    runAsUser: AIRBYTE_UID,
    runAsGroup: AIRBYTE_UID,
    fsGroup: AIRBYTE_UID,
    seccompProfile: { type: "RuntimeDefault" },
};
const CONTAINER_SECURITY = { ...restrictedContainerSecurity(false), runAsUser: AIRBYTE_UID, runAsGroup: AIRBYTE_UID };

export class Airbyte extends pulumi.ComponentResource {
    /** The server Service the chart creates: `airbyte-airbyte-server-svc.<ns>.svc.<domain>:8001`. */
    public readonly serverService: Endpoint;
    /** `http://airbyte-airbyte-server-svc.<ns>.svc.<domain>:8001` (UI and API). */
    public readonly serverUrl: string;
    /** Airbyte's public API. */
    public readonly apiUrl: string;
    /** What to configure in Airbyte to land data in the lakehouse bucket. */
    public readonly s3Destination: S3Destination;
    public readonly release: HelmRelease;
    /** The connections Airbyte makes to other components. */
    public readonly wiring: WiringEdge[];
    /** The images the chart runs and launches, as the cluster pulls them. */
    public readonly images: ChartImage[];
    /** The instance admin the platform generated: where its password is, and the password (secret). */
    public readonly instanceAdmin: AirbyteInstanceAdmin;

    constructor(name: string, args: AirbyteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:ingestion:Airbyte", name, {}, opts);
        this.serverService = serviceEndpoint("airbyteServer", args.namespace, args.clusterDomain);
        this.serverUrl = urlOf(this.serverService, "http");
        this.images = airbyteImages(args.chart.version, args.imageMirror);
        this.apiUrl = urlOf(this.serverService, "http", "api/public/v1");
        const values = (path: string) => ({ type: "kubernetes:helm.sh/v3:Release", name, path: `values.${path}` });
        this.wiring = [
            wire("airbyte", "garageS3", args.s3.service, args.s3.url, values("global.storage.minio.endpoint")),
            wire(
                "airbyte",
                "postgres",
                args.database.service,
                args.database.service.host,
                values("global.database.host"),
            ),
        ];
        this.s3Destination = {
            destinationType: "s3",
            s3_endpoint: args.s3.url,
            s3_bucket_name: args.lakehouseBucket,
            s3_bucket_path: LANDING_PATH,
            s3_bucket_region: args.s3Region,
            pathStyleAccess: true,
            credentials: {
                secretNamespace: args.namespace,
                secretName: args.s3CredentialsSecret,
                accessKeyIdKey: ACCESS_KEY_ID,
                secretAccessKeyKey: SECRET_ACCESS_KEY,
            },
        };

        const admin = this.issueInstanceAdmin(name, args, opts);
        this.instanceAdmin = admin.ref;

        this.release = new HelmRelease(
            name,
            {
                // Named explicitly: without a name the release gets a random suffix, and every Service name with it.
                name: RELEASES.airbyte,
                ...releaseChart(args.chart),
                namespace: args.namespace,
                values: airbyteValues(args),
                // The bootloader runs the database migrations before anything else starts.
                timeout: 900,
                maxHistory: 10,
            },
            childOptions(this, opts, { dependsOn: [admin.secret] }),
        );

        this.registerOutputs({
            serverService: this.serverService,
            serverUrl: this.serverUrl,
            apiUrl: this.apiUrl,
            s3Destination: this.s3Destination,
            wiring: this.wiring,
            images: this.images,
            instanceAdmin: this.instanceAdmin,
        });
    }

    /**
     * The instance admin's password, its OAuth client and the JWT signature secret, each generated
     * (replaced with a new generation), in the Secret the chart's bootloader reads.
     */
    private issueInstanceAdmin(
        name: string,
        args: AirbyteArgs,
        opts?: pulumi.ComponentResourceOptions,
    ): { secret: Secret; ref: AirbyteInstanceAdmin } {
        const keepers = generationKeepers(args.adminGeneration);
        const secretOf = (suffix: string, length: number) =>
            new random.RandomPassword(`${name}-${suffix}`, { length, special: false, keepers }, { parent: this })
                .result;
        const password = secretOf("admin-password", 32);
        // A UUID, as Airbyte makes its own: 32 hex digits from a RandomPassword (digits, and a-f as
        // its "special" characters), whose result the state keeps secret (RandomUuid's it does not).
        const clientId = new random.RandomPassword(
            `${name}-admin-client-id`,
            {
                length: 32,
                upper: false,
                lower: false,
                numeric: true,
                special: true,
                overrideSpecial: "abcdef",
                keepers,
            },
            { parent: this },
        ).result.apply(
            (h) => `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`,
        );
        const secret = new Secret(
            `${name}-instance-admin`,
            {
                metadata: {
                    name: AIRBYTE_ADMIN_SECRET,
                    namespace: args.namespace,
                    labels: credentialLabels("airbyte", "airbyte", args.environment),
                },
                type: "Opaque",
                stringData: {
                    [AIRBYTE_ADMIN_KEYS.password]: password,
                    [AIRBYTE_ADMIN_KEYS.clientId]: clientId,
                    [AIRBYTE_ADMIN_KEYS.clientSecret]: secretOf("admin-client-secret", 32),
                    [AIRBYTE_ADMIN_KEYS.jwtSignature]: secretOf("jwt-signature", 64),
                },
            },
            childOptions(this, opts),
        );
        return {
            secret,
            ref: {
                namespace: args.namespace,
                secretName: AIRBYTE_ADMIN_SECRET,
                passwordKey: AIRBYTE_ADMIN_KEYS.password,
                password: pulumi.secret(password),
            },
        };
    }
}
