// Dagster, orchestrating the platform's pipelines; dbt inside it transforms data through Trino.
// The chart's bundled PostgreSQL pulls Bitnami images that are no longer published, so Dagster
// keeps its runs, events and schedules in the platform's PostgreSQL.
//
// Deployed with `helm.v3.Release`, so Helm keeps the release's history and `helm rollback` works.
//
// Database migrations: the chart's `migrate.enabled` renders a plain Job (no Helm hook) that its
// documentation enables for one upgrade at a time; left on, the next upgrade that changes its pod
// template (a new Dagster version) fails on the Job's immutable template. So this component runs
// `dagster instance migrate` in a Job of its own, named per Dagster version, before the Release
// upgrades: Pulumi replaces it when the version changes, and it runs exactly once per version.
import * as k8s from "@pulumi/kubernetes";
// Imported from its module: `k8s.helm` would also load the deprecated helm.v3.Chart and its YAML machinery.
import { Release as HelmRelease } from "@pulumi/kubernetes/helm/v3/release";
import * as pulumi from "@pulumi/pulumi";
import { dump } from "js-yaml";
import { ChartImage, dagsterImage, dagsterImages, dagsterImageValues } from "./chart-images";
import { ChartSpec, releaseChart } from "./charts";

export { dagsterImage };
import { Address, Endpoint, RELEASES, serviceEndpoint, urlOf, wire, WiringEdge } from "./addresses";
import type { SizeProfile } from "./config";
import {
    checksum,
    childOptions,
    CREDENTIALS_REVISION,
    envFromSecret,
    REPLACE_DELETE_FIRST,
    restrictedContainerSecurity,
    restrictedPodSecurity,
    RUN_CHECKSUM,
} from "./k8s";
import { platformLabels } from "./labels";
import { LOGIN_KEYS } from "./trino-security";
import { CA_DIR, caMount } from "./certificates";
import { DatabaseCredentials, PostgresClientTls, tlsParams } from "./postgres";
import { PodSize, scaleSizes } from "./sizing";
import { DagsterLogin } from "./dagster-login";

/** Where dbt finds `profiles.yml` in the code location and every run pod. */
export const DBT_PROFILES_DIR = "/opt/dagster/dbt";
/** The dbt profile name a dbt project's `dbt_project.yml` refers to. */
export const DBT_PROFILE = "lakehouse";
const CODE_LOCATION_PORT = 3030;

const SMALL = {
    webserver: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    daemon: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    codeLocation: { requests: { cpu: "100m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    run: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "2Gi" } },
    // The chart's init containers that wait for PostgreSQL.
    init: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
} satisfies Record<string, PodSize>;

export function dagsterSizing(size: SizeProfile): Record<keyof typeof SMALL, PodSize> {
    return scaleSizes(SMALL, size);
}

export interface UserCode {
    /** Image repository, e.g. `docker.io/dagster/user-code-example`. */
    image: string;
    tag: string;
    /** Python module to load (`--module-name`), or a file when it ends in `.py` (`--python-file`). */
    module: string;
}

/** Trino as dbt reaches it. */
export interface DagsterTrino {
    service: Endpoint;
    catalog: string;
    /**
     * With `trinoAuthentication`: dbt's login (its name, its Secret with `username` and `token`) and
     * the ConfigMap holding the CA that signed Trino's certificate, both in Dagster's namespace; dbt
     * connects over HTTPS and verifies the certificate. Undefined: plain HTTP, no login.
     */
    login?: { user: string; secretName: string; caConfigMap: string };
}

/** dbt reads its Trino token from this variable (profiles.yml's env_var). */
export const TRINO_TOKEN_ENV = "TRINO_TOKEN";
/** ... and the CA file it verifies Trino's certificate with. */
export const TRINO_CA_FILE_ENV = "TRINO_CA_FILE";

export interface DagsterArgs {
    namespace: string;
    clusterDomain: string;
    environment: string;
    /** Where the chart comes from, and its pinned version (`dagsterChart`, `dagsterChartVersion`). */
    chart: ChartSpec;
    size: SizeProfile;
    userCode: UserCode;
    /** Dagster's storage; with `tls` (postgresTls), every connection verifies the server with the CA its pods mount. */
    database: DagsterDatabase;
    trino: DagsterTrino;
    /** Schema dbt builds its models in. */
    dbtSchema: string;
    s3: Address;
    s3Region: string;
    lakehouseBucket: string;
    /** Dagster's Garage Secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) in Dagster's namespace. */
    s3CredentialsSecret: string;
    airbyte: { service: Endpoint; apiUrl: string };
    /** One-way checksum of the key and login Dagster reads: on its pods, so rotated credentials roll them. */
    credentialsRevision?: pulumi.Input<string>;
    /** Registry mirror the chart's own images are pulled through (`imageRegistryMirror`). */
    imageMirror?: string;
    /** The namespace's registry Secret every pod of the chart and every run pulls with (`imageRegistryUsername`). */
    registrySecret?: string;
    /**
     * The webserver behind a login (`dagsterLogin`): the proxy's image and the generation of its
     * secrets (`dagster-login`). Undefined: clients reach the webserver itself.
     */
    login?: { image: string; generation: number };
}

/** Dagster's PostgreSQL: its Service, its login, and with `postgresTls` how its clients verify the server. */
export interface DagsterDatabase {
    service: Endpoint;
    credentials: DatabaseCredentials;
    tls?: PostgresClientTls;
}

/** The CA's ConfigMap Dagster's pods mount at CA_DIR (one file, whoever it verifies): for dbt's Trino, for PostgreSQL. */
function caConfigMapOf(args: Pick<DagsterArgs, "database" | "trino">): string | undefined {
    return args.trino.login?.caConfigMap ?? args.database.tls?.caConfigMap;
}

/** Where the migration Job's dagster.yaml lives, and the uid it runs as (the image's user is root). */
const DAGSTER_HOME = "/opt/dagster/dagster_home";
const MIGRATE_UID = 1001;

/**
 * The instance configuration `dagster instance migrate` needs: the storage the chart configures
 * (from the same values: host, port, database, user, and the password from the environment), and
 * no telemetry (the Job's root file system is read-only).
 */
export function migrationInstanceYaml(database: DagsterDatabase): string {
    const params = tlsParams(database.tls);
    return dump(
        {
            storage: {
                postgres: {
                    postgres_db: {
                        username: database.credentials.role,
                        password: { env: "DAGSTER_PG_PASSWORD" },
                        hostname: database.service.host,
                        db_name: database.credentials.database,
                        port: database.service.port,
                        ...(Object.keys(params).length > 0 ? { params } : {}),
                    },
                },
            },
            telemetry: { enabled: false },
        },
        { lineWidth: -1, noRefs: true },
    );
}

/**
 * dbt's `profiles.yml`: one target, named after the environment, on Trino's FQDN and port; with a
 * login, over HTTPS with its token from the environment and the platform's CA verified.
 */
export function dbtProfiles(args: { environment: string; trino: DagsterTrino; schema: string }): string {
    const login = args.trino.login
        ? {
              // dbt-trino's jwt method is HTTPS only; the token is dbt's login.
              method: "jwt",
              user: args.trino.login.user,
              jwt_token: `{{ env_var('${TRINO_TOKEN_ENV}') }}`,
              // The CA's file, where the pod mounts it: dbt verifies Trino's certificate against it.
              cert: `{{ env_var('${TRINO_CA_FILE_ENV}') }}`,
          }
        : { method: "none", user: "dbt", http_scheme: "http" };
    return dump(
        {
            [DBT_PROFILE]: {
                target: args.environment,
                outputs: {
                    [args.environment]: {
                        type: "trino",
                        host: args.trino.service.host,
                        port: args.trino.service.port,
                        ...login,
                        database: args.trino.catalog,
                        schema: args.schema,
                        threads: 4,
                    },
                },
            },
        },
        { lineWidth: -1, noRefs: true },
    );
}

export function grpcArgs(module: string): string[] {
    return module.endsWith(".py") ? ["--python-file", module] : ["--module-name", module];
}

/** The platform's addresses, in the code location and (through includeConfigInLaunchedRuns) every run. */
export function userCodeEnv(args: DagsterArgs): { name: string; value: string }[] {
    return [
        { name: "TRINO_HOST", value: args.trino.service.host },
        { name: "TRINO_PORT", value: String(args.trino.service.port) },
        { name: "TRINO_CATALOG", value: args.trino.catalog },
        { name: "LAKEHOUSE_BUCKET", value: args.lakehouseBucket },
        { name: "LAKEHOUSE_S3_ENDPOINT", value: args.s3.url },
        // boto3 and the AWS CLI read the endpoint of S3 from this variable.
        { name: "AWS_ENDPOINT_URL_S3", value: args.s3.url },
        { name: "AWS_REGION", value: args.s3Region },
        { name: "AIRBYTE_API_URL", value: args.airbyte.apiUrl },
        { name: "AIRBYTE_HOST", value: args.airbyte.service.host },
        { name: "AIRBYTE_PORT", value: String(args.airbyte.service.port) },
        { name: "DBT_PROFILES_DIR", value: DBT_PROFILES_DIR },
        { name: "DBT_TARGET", value: args.environment },
    ];
}

/** dbt's Trino token, from its login Secret (no value in the values or the plan). */
function trinoLoginEnv(trino: DagsterTrino): Record<string, unknown>[] {
    if (!trino.login) return [];
    return [
        {
            name: TRINO_TOKEN_ENV,
            valueFrom: { secretKeyRef: { name: trino.login.secretName, key: LOGIN_KEYS.token } },
        },
        { name: TRINO_CA_FILE_ENV, value: `${CA_DIR}/ca.crt` },
    ];
}

/**
 * Where Dagster keeps the compute logs (every step's stdout and stderr): Garage, in the lakehouse
 * bucket under this prefix, written by the run workers and read by the webserver with Dagster's key.
 */
export const COMPUTE_LOG_PREFIX = "dagster/compute-logs";

/** The S3 compute log manager's settings: Garage's endpoint (path-style, plain HTTP inside the cluster). */
export function computeLogManager(args: Pick<DagsterArgs, "s3" | "lakehouseBucket">): Record<string, unknown> {
    return {
        type: "S3ComputeLogManager",
        config: {
            s3ComputeLogManager: {
                bucket: args.lakehouseBucket,
                prefix: COMPUTE_LOG_PREFIX,
                endpointUrl: args.s3.url,
                useSsl: false,
                uploadInterval: 30,
            },
        },
    };
}

/** The profile ConfigMap the code location mounts at DBT_PROFILES_DIR. */
export const DBT_PROFILES_CONFIGMAP = "dagster-dbt-profiles";

const POD_SECURITY = { seccompProfile: { type: "RuntimeDefault" } };
const CONTAINER_SECURITY = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

/** Values for the dagster/dagster chart: every key is one the pinned chart version reads. */
export function dagsterValues(args: DagsterArgs): Record<string, unknown> {
    const sizing = dagsterSizing(args.size);
    const { service: endpoint, credentials } = args.database;
    const image = { ...dagsterImage(args.chart.version, args.imageMirror), pullPolicy: "IfNotPresent" };
    const ca = caMount(caConfigMapOf(args));
    // The webserver and the daemon verify PostgreSQL (postgresTls); they reach no other TLS server.
    const storageCa = args.database.tls ? ca : { volumes: [], volumeMounts: [] };
    const annotations =
        args.credentialsRevision !== undefined
            ? { annotations: { [CREDENTIALS_REVISION]: args.credentialsRevision } }
            : {};
    const mirrored = dagsterImageValues(args.userCode, args.imageMirror) as {
        busybox?: unknown;
        postgresql?: { image: unknown };
        pipelineRun?: unknown;
    };
    // The chart's pods and the run launcher's runs (its image_pull_secrets), and the code location's.
    const pullSecrets = args.registrySecret ? { imagePullSecrets: [{ name: args.registrySecret }] } : {};
    return {
        global: { postgresqlSecretName: credentials.secretName },
        ...pullSecrets,
        ...(mirrored.busybox ? { busybox: mirrored.busybox, pipelineRun: mirrored.pipelineRun } : {}),
        postgresql: {
            ...(mirrored.postgresql ?? {}),
            enabled: false,
            postgresqlHost: endpoint.host,
            postgresqlUsername: credentials.role,
            postgresqlDatabase: credentials.database,
            service: { port: endpoint.port },
            // Every pod with the instance (webserver, daemon, runs) connects with these.
            ...(args.database.tls ? { postgresqlParams: tlsParams(args.database.tls) } : {}),
        },
        // The password is in the platform's Secret (key `postgresql-password`); the chart must not make its own.
        generatePostgresqlPasswordSecret: false,
        // Compute logs in Garage: the webserver reads them, the daemon and the runs write them, each
        // with Dagster's key (its Secret) and Garage's region.
        computeLogManager: computeLogManager(args),
        // No call home from the cluster (telemetry.dagster.io): nothing an air-gapped cluster reaches.
        telemetry: { enabled: false },
        dagsterWebserver: {
            image,
            ...annotations,
            envSecrets: [{ name: args.s3CredentialsSecret }],
            env: [{ name: "AWS_REGION", value: args.s3Region }],
            resources: sizing.webserver,
            initContainerResources: sizing.init,
            ...(storageCa.volumes.length > 0 ? storageCa : {}),
            podSecurityContext: POD_SECURITY,
            securityContext: CONTAINER_SECURITY,
        },
        dagsterDaemon: {
            image,
            ...annotations,
            envSecrets: [{ name: args.s3CredentialsSecret }],
            env: [{ name: "AWS_REGION", value: args.s3Region }],
            resources: sizing.daemon,
            initContainerResources: sizing.init,
            ...(storageCa.volumes.length > 0 ? storageCa : {}),
            podSecurityContext: POD_SECURITY,
            securityContext: CONTAINER_SECURITY,
        },
        runLauncher: {
            type: "K8sRunLauncher",
            config: { k8sRunLauncher: { imagePullPolicy: "IfNotPresent", resources: sizing.run } },
        },
        "dagster-user-deployments": {
            enabled: true,
            enableSubchart: true,
            ...pullSecrets,
            deployments: [
                {
                    name: "lakehouse",
                    image: { repository: args.userCode.image, tag: args.userCode.tag, pullPolicy: "IfNotPresent" },
                    ...annotations,
                    dagsterApiGrpcArgs: grpcArgs(args.userCode.module),
                    port: CODE_LOCATION_PORT,
                    // Run pods inherit the env, Secrets and volumes below.
                    includeConfigInLaunchedRuns: { enabled: true },
                    env: [...userCodeEnv(args), ...trinoLoginEnv(args.trino)],
                    envSecrets: [{ name: args.s3CredentialsSecret }],
                    volumes: [{ name: "dbt-profiles", configMap: { name: DBT_PROFILES_CONFIGMAP } }, ...ca.volumes],
                    volumeMounts: [
                        { name: "dbt-profiles", mountPath: DBT_PROFILES_DIR, readOnly: true },
                        ...ca.volumeMounts,
                    ],
                    resources: sizing.codeLocation,
                    podSecurityContext: POD_SECURITY,
                    securityContext: CONTAINER_SECURITY,
                },
            ],
        },
    };
}

export class Dagster extends pulumi.ComponentResource {
    /**
     * Where clients reach the webserver: the Service the chart creates
     * (`dagster-dagster-webserver.<ns>.svc.<domain>:80`), or with a login its proxy's
     * (`dagster-login.<ns>.svc.<domain>:4180`).
     */
    public readonly webserverService: Endpoint;
    /** `http://` and that address. */
    public readonly webserverUrl: string;
    /** The webserver's login proxy, with `dagsterLogin`. */
    public readonly login?: DagsterLogin;
    /** The connections Dagster (its code location and runs) makes to other components. */
    public readonly wiring: WiringEdge[];
    /** The dbt `profiles.yml` every run uses. */
    public readonly dbtProfiles: string;
    /** Every image the chart and the migration Job run or launch, as the cluster pulls them. */
    public readonly images: ChartImage[];
    public readonly release: HelmRelease;

    constructor(name: string, args: DagsterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:orchestration:Dagster", name, {}, opts);
        const webserver = serviceEndpoint("dagsterWebserver", args.namespace, args.clusterDomain);
        const release = (path: string) => ({ type: "kubernetes:helm.sh/v3:Release", name, path: `values.${path}` });
        const env = userCodeEnv(args);
        const codeEnv = (variable: string) =>
            release(`dagster-user-deployments.deployments[0].env[${env.findIndex((e) => e.name === variable)}].value`);
        this.wiring = [
            wire(
                "dagster",
                "postgres",
                args.database.service,
                args.database.service.host,
                release("postgresql.postgresqlHost"),
            ),
            wire("dagster", "trino", args.trino.service, args.trino.service.host, codeEnv("TRINO_HOST")),
            wire("dagster", "trino", args.trino.service, args.trino.service.host, {
                type: "kubernetes:core/v1:ConfigMap",
                name: `${name}-dbt-profiles`,
                path: `data["profiles.yml"] › ${DBT_PROFILE}.outputs.${args.environment}.host`,
            }),
            wire("dagster", "garageS3", args.s3.service, args.s3.url, codeEnv("LAKEHOUSE_S3_ENDPOINT")),
            wire(
                "dagster",
                "garageS3",
                args.s3.service,
                args.s3.url,
                release("computeLogManager.config.s3ComputeLogManager.endpointUrl"),
            ),
            wire("dagster", "airbyteServer", args.airbyte.service, args.airbyte.apiUrl, codeEnv("AIRBYTE_API_URL")),
        ];
        this.dbtProfiles = dbtProfiles({ environment: args.environment, trino: args.trino, schema: args.dbtSchema });
        this.images = [
            ...dagsterImages(args.chart.version, args.userCode, args.imageMirror),
            ...(args.login ? [{ where: "the webserver's login (oauth2-proxy)", image: args.login.image }] : []),
        ];

        const profiles = new k8s.core.v1.ConfigMap(
            `${name}-dbt-profiles`,
            {
                metadata: {
                    name: DBT_PROFILES_CONFIGMAP,
                    namespace: args.namespace,
                    labels: platformLabels("dagster", args.environment),
                },
                data: { "profiles.yml": this.dbtProfiles },
            },
            childOptions(this, opts),
        );

        const migration = this.migrationJob(name, args, opts);

        this.release = new HelmRelease(
            name,
            {
                name: RELEASES.dagster,
                ...releaseChart(args.chart),
                namespace: args.namespace,
                values: dagsterValues(args),
                timeout: 600,
                maxHistory: 10,
            },
            childOptions(this, opts, { dependsOn: [profiles, migration] }),
        );
        this.login = args.login
            ? new DagsterLogin(
                  `${name}-login`,
                  {
                      namespace: args.namespace,
                      environment: args.environment,
                      clusterDomain: args.clusterDomain,
                      image: args.login.image,
                      size: args.size,
                      upstream: webserver,
                      generation: args.login.generation,
                      registrySecret: args.registrySecret,
                  },
                  { parent: this, dependsOn: opts?.dependsOn },
              )
            : undefined;
        this.webserverService = this.login?.service ?? webserver;
        this.webserverUrl = this.login?.url ?? urlOf(webserver, "http");

        this.registerOutputs({
            webserverService: this.webserverService,
            webserverUrl: this.webserverUrl,
            dbtProfiles: this.dbtProfiles,
            wiring: this.wiring,
            images: this.images,
        });
    }

    /**
     * `dagster instance migrate` at the chart's Dagster version, before the Release installs or
     * upgrades it: on an empty database it creates the schema, on an older one it upgrades it, on
     * a current one it changes nothing. The Job is named by version, so a new version replaces it.
     */
    private migrationJob(name: string, args: DagsterArgs, opts?: pulumi.ComponentResourceOptions): k8s.batch.v1.Job {
        const labels = platformLabels("dagster", args.environment);
        const instance = migrationInstanceYaml(args.database);
        const migrationCa = caMount(args.database.tls?.caConfigMap);
        const map = new k8s.core.v1.ConfigMap(
            `${name}-migrate-instance`,
            {
                metadata: { name: "dagster-migrate-instance", namespace: args.namespace, labels },
                data: { "dagster.yaml": instance },
            },
            childOptions(this, opts),
        );
        const image = dagsterImage(args.chart.version, args.imageMirror);
        const { credentials } = args.database;
        return new k8s.batch.v1.Job(
            `${name}-migrate`,
            {
                metadata: {
                    name: `dagster-instance-migrate-${image.tag.replace(/[^a-z0-9-]/g, "-")}`,
                    namespace: args.namespace,
                    labels,
                },
                spec: {
                    backoffLimit: 4,
                    activeDeadlineSeconds: 1200,
                    template: {
                        metadata: {
                            labels: { ...labels, "app.kubernetes.io/name": "dagster-instance-migrate" },
                            annotations: { [RUN_CHECKSUM]: checksum(instance) },
                        },
                        spec: {
                            restartPolicy: "Never",
                            securityContext: restrictedPodSecurity(MIGRATE_UID),
                            containers: [
                                {
                                    name: "migrate",
                                    image: `${image.repository}:${image.tag}`,
                                    command: ["dagster", "instance", "migrate"],
                                    env: [
                                        { name: "DAGSTER_HOME", value: DAGSTER_HOME },
                                        { name: "HOME", value: "/tmp" },
                                        envFromSecret(
                                            "DAGSTER_PG_PASSWORD",
                                            credentials.secretName,
                                            credentials.passwordKey,
                                        ),
                                    ],
                                    // Fixed, not by dagsterSize: any change to a Job's template replaces it, and runs it again.
                                    resources: SMALL.webserver,
                                    securityContext: restrictedContainerSecurity(),
                                    volumeMounts: [
                                        { name: "home", mountPath: DAGSTER_HOME },
                                        {
                                            name: "instance",
                                            mountPath: `${DAGSTER_HOME}/dagster.yaml`,
                                            subPath: "dagster.yaml",
                                            readOnly: true,
                                        },
                                        { name: "tmp", mountPath: "/tmp" },
                                        ...migrationCa.volumeMounts,
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "home", emptyDir: { sizeLimit: "16Mi" } },
                                { name: "instance", configMap: { name: map.metadata.name } },
                                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
                                ...migrationCa.volumes,
                            ],
                        },
                    },
                },
            },
            childOptions(this, opts, REPLACE_DELETE_FIRST),
        );
    }
}
