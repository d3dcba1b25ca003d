// The Hive Metastore that holds Trino's Iceberg catalog. There is no official chart; the official
// `apache/hive` 4.0.x image runs it. Its entrypoint would run `schematool -initOrUpgradeSchema` in
// every pod at start, so replicas starting together on an empty database would race to create the
// schema: a Job runs schematool once per change of image or configuration, and the pods skip it
// (`IS_RESUME=true`, which the entrypoint reads as "skip schema initialisation").
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { XMLBuilder } from "fast-xml-parser";
import { Address, Endpoint, serviceEndpoint, urlOf, wire, WiringEdge } from "./addresses";
import { parseQuantity, Resources } from "./config";
import { caMount } from "./certificates";
import { DatabaseCredentials, PostgresClientTls } from "./postgres";
import {
    checksum,
    CREDENTIALS_REVISION,
    envFromSecret,
    NamespacedComponent,
    REPLACE_DELETE_FIRST,
    resourceRequirements,
    restrictedContainerSecurity,
    restrictedPodSecurity,
    RUN_CHECKSUM,
} from "./k8s";

/** uid and gid of the `hive` user in the apache/hive image. */
const HIVE_UID = 1000;
const THRIFT_PORT = 9083;
const CONF_DIR = "/opt/hive-custom-conf";
/** Hadoop (3.x) expands `${env.NAME}` in configuration values: the password stays in the environment. */
const DB_PASSWORD_ENV = "METASTORE_DB_PASSWORD";

export interface HiveMetastoreArgs {
    namespace: string;
    clusterDomain: string;
    environment: string;
    image: string;
    replicas: number;
    resources: Resources;
    /** Garage's S3 API (`http://garage.<ns>.svc.<domain>:3900`). */
    s3: Address;
    s3Region: string;
    /** Bucket of the warehouse. */
    bucket: string;
    /** The metastore's Garage Secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) in this namespace. */
    s3CredentialsSecret: string;
    /**
     * The metastore database: PostgreSQL's Service, its JDBC URL and the credentials Secret; with
     * `tls`, the URL verifies the server with the CA file the pods mount from its ConfigMap.
     */
    database: { service: Endpoint; jdbcUrl: string; credentials: DatabaseCredentials; tls?: PostgresClientTls };
    /** Where the init container downloads the PostgreSQL JDBC driver from; empty when the image has it. */
    jdbcDriverUrl: string;
    /** The URL is a secret (a private repository's credentials in it): the init container reads it from a Secret. */
    jdbcDriverUrlSecret?: boolean;
    /** SHA-256 the driver must have; when empty, the checksum Maven Central publishes beside it is checked. */
    jdbcDriverSha256?: string;
    /** Image with sh and curl for the driver download. */
    curlImage: string;
    /** The credentials the metastore reads, with their generations: on its pods, so rotated credentials roll them. */
    credentialsRevision?: pulumi.Input<string>;
    /**
     * What the server waits for beyond its schema (its Garage key in Garage). The schema Job needs
     * only the database, so it runs while Garage is still bootstrapping.
     */
    serverDependsOn?: pulumi.Resource[];
}

export interface HadoopProperty {
    name: string;
    value: string;
}

/** A Hadoop-style configuration file (`core-site.xml`, `hive-site.xml`), written with an XML library. */
export function renderHadoopXml(properties: HadoopProperty[]): string {
    const builder = new XMLBuilder({ format: true, indentBy: "  ", ignoreAttributes: false, suppressEmptyNode: false });
    return builder.build({
        "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" },
        configuration: { property: properties.map((p) => ({ name: p.name, value: p.value })) },
    });
}

/** S3A on Garage: the FQDN endpoint, its region, path-style addressing, plain HTTP inside the cluster. */
export function coreSiteProperties(args: { s3Endpoint: string; s3Region: string }): HadoopProperty[] {
    return [
        { name: "fs.s3a.endpoint", value: args.s3Endpoint },
        { name: "fs.s3a.endpoint.region", value: args.s3Region },
        { name: "fs.s3a.path.style.access", value: "true" },
        { name: "fs.s3a.connection.ssl.enabled", value: "false" },
        // Trino writes `s3://` locations; let the metastore's Hadoop open them with S3A too.
        { name: "fs.s3.impl", value: "org.apache.hadoop.fs.s3a.S3AFileSystem" },
        // S3A keeps the empty-directory markers above what it writes: by default it deletes them
        // (DeleteObjects), Garage answers NoSuchKey for each marker that is not there, and S3A
        // retries that for minutes. Seen on the real node: one create_database's mkdirs took 2.5
        // min, Trino timed out and sent it again, the retry committed, and the first one's
        // rollback then deleted the schema Trino had written into (HIVE-29843, below).
        { name: "fs.s3a.directory.marker.retention", value: "keep" },
        // What the metastore itself deletes goes to the bucket's trash (`user/<user>/.Trash/`), kept
        // METASTORE_TRASH_MINUTES: Hive 4.0's rollback of a failed create_database deletes the
        // database's directory, data and all, when that call made it (HIVE-29843), even when a
        // concurrent call (a client's retry) committed the database and data went in since.
        // Nothing on S3 empties the trash (HDFS's NameNode would): docs/day-two.md says how to
        // restore or empty it.
        { name: "fs.trash.interval", value: String(METASTORE_TRASH_MINUTES) },
    ];
}

/** How long what the metastore deletes stays in the bucket's trash: a week, in minutes. */
export const METASTORE_TRASH_MINUTES = 7 * 24 * 60;

export function warehouseLocation(bucket: string): string {
    return `s3a://${bucket}/warehouse`;
}

/** The metastore's database connection and warehouse; the password is read from the environment. */
export function hiveSiteProperties(args: { jdbcUrl: string; user: string; bucket: string }): HadoopProperty[] {
    return [
        { name: "javax.jdo.option.ConnectionDriverName", value: "org.postgresql.Driver" },
        { name: "javax.jdo.option.ConnectionURL", value: args.jdbcUrl },
        { name: "javax.jdo.option.ConnectionUserName", value: args.user },
        { name: "javax.jdo.option.ConnectionPassword", value: `\${env.${DB_PASSWORD_ENV}}` },
        { name: "metastore.warehouse.dir", value: warehouseLocation(args.bucket) },
        { name: "hive.metastore.warehouse.dir", value: warehouseLocation(args.bucket) },
        { name: "metastore.thrift.port", value: String(THRIFT_PORT) },
        // The schema is schematool's (the schema Job): DataNucleus must never create tables itself,
        // and a metastore refuses to start on a schema of another version.
        { name: "datanucleus.schema.autoCreateAll", value: "false" },
        { name: "metastore.schema.verification", value: "true" },
    ];
}

/** The JVM heap: three quarters of the memory limit, the rest for metaspace, threads and buffers. */
export function metastoreHeapMb(memoryLimit: string): number {
    return Math.floor(((parseQuantity(memoryLimit) ?? 0) * 0.75) / 2 ** 20);
}

/** The files and the driver every metastore container (server or schematool) gets. */
interface MetastoreFiles {
    conf: k8s.core.v1.ConfigMap;
    /** Init containers that download the JDBC driver (none when the image has it). */
    initContainers: k8s.types.input.core.v1.Container[];
    volumes: k8s.types.input.core.v1.Volume[];
    /** Mounts of the two files and the driver. */
    mounts: k8s.types.input.core.v1.VolumeMount[];
    checksum: string;
}

const JAR_NAME = "postgresql-jdbc.jar";

export class HiveMetastore extends NamespacedComponent<HiveMetastoreArgs> {
    /** `hive-metastore.<ns>.svc.<domain>:9083` */
    public readonly metastoreService: Endpoint;
    /** `thrift://hive-metastore.<ns>.svc.<domain>:9083` */
    public readonly metastoreUri: string;
    /** `s3a://<bucket>/warehouse` */
    public readonly warehouse: string;
    /** The Job that creates or upgrades the schema, once per image and configuration. */
    public readonly schemaJob: k8s.batch.v1.Job;
    public readonly deployment: k8s.apps.v1.Deployment;
    /** The connections the metastore makes to other components. */
    public readonly wiring: WiringEdge[];

    private readonly selector: Record<string, string>;

    constructor(name: string, args: HiveMetastoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:database:HiveMetastore", name, args, opts, { component: "database", app: "hive-metastore" });
        this.selector = { "app.kubernetes.io/name": "hive-metastore", "app.kubernetes.io/instance": name };
        this.metastoreService = serviceEndpoint("hiveMetastore", args.namespace, args.clusterDomain);
        this.metastoreUri = urlOf(this.metastoreService, "thrift");
        this.warehouse = warehouseLocation(args.bucket);
        this.wiring = [
            wire("database", "garageS3", args.s3.service, args.s3.url, {
                type: "kubernetes:core/v1:ConfigMap",
                name: `${name}-conf`,
                path: 'data["core-site.xml"] › fs.s3a.endpoint',
            }),
        ];

        const files = this.files(name);
        const service = this.service(name);
        this.schemaJob = this.schemaInitJob(name, files);
        this.deployment = this.metastoreDeployment(name, files, [
            service,
            this.schemaJob,
            ...(args.serverDependsOn ?? []),
        ]);

        this.registerOutputs({
            metastoreService: this.metastoreService,
            metastoreUri: this.metastoreUri,
            warehouse: this.warehouse,
            wiring: this.wiring,
        });
    }

    /** The two configuration files, and the JDBC driver the image lacks, downloaded by an init container. */
    private files(name: string): MetastoreFiles {
        const args = this.args;
        const coreSite = renderHadoopXml(coreSiteProperties({ s3Endpoint: args.s3.url, s3Region: args.s3Region }));
        const hiveSite = renderHadoopXml(
            hiveSiteProperties({
                jdbcUrl: args.database.jdbcUrl,
                user: args.database.credentials.role,
                bucket: args.bucket,
            }),
        );
        const conf = new k8s.core.v1.ConfigMap(
            `${name}-conf`,
            {
                metadata: this.meta("hive-metastore-conf"),
                data: { "core-site.xml": coreSite, "hive-site.xml": hiveSite },
            },
            this.child(),
        );
        // Mounted file by file: the entrypoint links regular files only, and a ConfigMap volume presents symbolic links.
        const mounts: k8s.types.input.core.v1.VolumeMount[] = [
            { name: "conf", mountPath: `${CONF_DIR}/core-site.xml`, subPath: "core-site.xml", readOnly: true },
            { name: "conf", mountPath: `${CONF_DIR}/hive-site.xml`, subPath: "hive-site.xml", readOnly: true },
        ];
        const volumes: k8s.types.input.core.v1.Volume[] = [{ name: "conf", configMap: { name: conf.metadata.name } }];
        // The CA the JDBC URL's sslrootcert names (postgresTls), for the schema Job and the server alike.
        const ca = caMount(args.database.tls?.caConfigMap);
        volumes.push(...ca.volumes);
        mounts.push(...ca.volumeMounts);
        const sum = checksum(coreSite, hiveSite);
        if (args.jdbcDriverUrl === "") return { conf, initContainers: [], volumes, mounts, checksum: sum };
        return {
            conf,
            initContainers: [this.driverDownload(name)],
            volumes: [...volumes, { name: "jdbc", emptyDir: { sizeLimit: "16Mi" } }],
            mounts: [
                ...mounts,
                { name: "jdbc", mountPath: `/opt/hive/lib/${JAR_NAME}`, subPath: JAR_NAME, readOnly: true },
            ],
            checksum: sum,
        };
    }

    /** The image has no PostgreSQL JDBC driver: download it (this needs egress to the driver's URL) and check it. */
    private driverDownload(name: string): k8s.types.input.core.v1.Container {
        const args = this.args;
        const verify = args.jdbcDriverSha256
            ? `echo "${args.jdbcDriverSha256}  /jdbc/${JAR_NAME}" | sha256sum -c -`
            : `echo "$(curl -fsSL "$DRIVER_URL.sha1" | cut -c1-40)  /jdbc/${JAR_NAME}" | sha1sum -c -`;
        // A secret URL travels in a Secret of its own, never in the pod spec.
        const urlSecret = args.jdbcDriverUrlSecret
            ? new k8s.core.v1.Secret(
                  `${name}-jdbc-driver-url`,
                  {
                      metadata: this.meta("hive-metastore-jdbc-driver-url"),
                      type: "Opaque",
                      stringData: { url: pulumi.secret(args.jdbcDriverUrl) },
                  },
                  this.child(),
              )
            : undefined;
        return {
            name: "jdbc-driver",
            image: args.curlImage,
            command: ["sh", "-ec", `curl -fsSL --retry 5 -o /jdbc/${JAR_NAME} "$DRIVER_URL"; ${verify}`],
            env: [
                urlSecret
                    ? envFromSecret("DRIVER_URL", urlSecret.metadata.name, "url")
                    : { name: "DRIVER_URL", value: args.jdbcDriverUrl },
            ],
            resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
            securityContext: restrictedContainerSecurity(),
            volumeMounts: [{ name: "jdbc", mountPath: "/jdbc" }],
        };
    }

    private service(name: string): k8s.core.v1.Service {
        return new k8s.core.v1.Service(
            `${name}`,
            {
                metadata: this.meta(this.metastoreService.service),
                spec: {
                    type: "ClusterIP",
                    selector: this.selector,
                    ports: [{ name: "thrift", port: THRIFT_PORT, targetPort: "thrift", protocol: "TCP" }],
                },
            },
            this.child(),
        );
    }

    /** What the image's entrypoint and the metastore read: the database, the custom configuration, the heap. */
    private baseEnv(): k8s.types.input.core.v1.EnvVar[] {
        const { credentials } = this.args.database;
        return [
            { name: "DB_DRIVER", value: "postgres" },
            { name: "HIVE_CUSTOM_CONF_DIR", value: CONF_DIR },
            // The entrypoint traces its commands (set -x): only non-secret options go here.
            // Its log to the container's stderr (the image's default is a file under /tmp, lost with
            // the pod): `kubectl logs` then shows every call the metastore served (its audit lines).
            {
                name: "SERVICE_OPTS",
                value: `-Xmx${metastoreHeapMb(this.args.resources.limits.memory)}m -Dmetastore.root.logger=console -Dhive.root.logger=console`,
            },
            envFromSecret(DB_PASSWORD_ENV, credentials.secretName, credentials.passwordKey),
        ];
    }

    /**
     * `schematool -initOrUpgradeSchema`, as the entrypoint would run it, once: the Job is replaced
     * (and runs again) when the image or the configuration changes, before the pods roll. A second
     * run on a current schema changes nothing.
     */
    private schemaInitJob(name: string, files: MetastoreFiles): k8s.batch.v1.Job {
        const args = this.args;
        return new k8s.batch.v1.Job(
            `${name}-schema`,
            {
                metadata: this.meta("hive-metastore-schema"),
                spec: {
                    backoffLimit: 6,
                    activeDeadlineSeconds: 1200,
                    template: {
                        metadata: {
                            labels: { ...this.labels, "app.kubernetes.io/name": "hive-metastore-schema" },
                            annotations: { [RUN_CHECKSUM]: checksum(args.image, files.checksum) },
                        },
                        spec: {
                            restartPolicy: "Never",
                            securityContext: restrictedPodSecurity(HIVE_UID),
                            initContainers: files.initContainers,
                            containers: [
                                {
                                    name: "schematool",
                                    image: args.image,
                                    // The entrypoint's own steps: the custom files into the configuration directory, then schematool.
                                    command: ["/bin/bash", "-ec", SCHEMATOOL_SCRIPT],
                                    env: this.baseEnv(),
                                    resources: resourceRequirements(args.resources),
                                    securityContext: restrictedContainerSecurity(false),
                                    volumeMounts: files.mounts,
                                },
                            ],
                            volumes: files.volumes,
                        },
                    },
                },
            },
            this.child(REPLACE_DELETE_FIRST),
        );
    }

    private metastoreDeployment(
        name: string,
        files: MetastoreFiles,
        waitFor: pulumi.Resource[],
    ): k8s.apps.v1.Deployment {
        const args = this.args;
        const thrift = { tcpSocket: { port: "thrift" } };
        const annotations: Record<string, pulumi.Input<string>> = {
            "lakehouse-platform/config-checksum": files.checksum,
        };
        if (args.credentialsRevision !== undefined) annotations[CREDENTIALS_REVISION] = args.credentialsRevision;
        const container: k8s.types.input.core.v1.Container = {
            name: "metastore",
            image: args.image,
            env: [
                { name: "SERVICE_NAME", value: "metastore" },
                // The schema Job has created or upgraded the schema: every pod starts the server right away.
                { name: "IS_RESUME", value: "true" },
                ...this.baseEnv(),
                { name: "HADOOP_CLASSPATH", value: "/opt/hadoop/share/hadoop/tools/lib/*" },
            ],
            // S3A reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment.
            envFrom: [{ secretRef: { name: args.s3CredentialsSecret } }],
            ports: [{ name: "thrift", containerPort: THRIFT_PORT, protocol: "TCP" }],
            startupProbe: { ...thrift, periodSeconds: 10, failureThreshold: 30 },
            readinessProbe: { ...thrift, periodSeconds: 10 },
            livenessProbe: { ...thrift, periodSeconds: 20, failureThreshold: 6 },
            resources: resourceRequirements(args.resources),
            // The entrypoint links the custom configuration into the image's conf directory.
            securityContext: restrictedContainerSecurity(false),
            volumeMounts: files.mounts,
        };
        return new k8s.apps.v1.Deployment(
            `${name}`,
            {
                metadata: this.meta("hive-metastore"),
                spec: {
                    replicas: args.replicas,
                    selector: { matchLabels: this.selector },
                    template: {
                        metadata: { labels: { ...this.labels, ...this.selector }, annotations },
                        spec: {
                            securityContext: restrictedPodSecurity(HIVE_UID),
                            initContainers: files.initContainers,
                            containers: [container],
                            volumes: files.volumes,
                        },
                    },
                },
            },
            this.child({ dependsOn: waitFor }),
        );
    }
}

/**
 * The schema Job's command: what the image's entrypoint does before it starts a service (link the
 * custom files into `$HIVE_HOME/conf`, then `schematool -dbType $DB_DRIVER -initOrUpgradeSchema`),
 * and nothing else.
 */
export const SCHEMATOOL_SCRIPT = [
    'export HIVE_CONF_DIR="$HIVE_HOME/conf" HADOOP_CONF_DIR="$HIVE_HOME/conf"',
    'find "$HIVE_CUSTOM_CONF_DIR" -type f -exec ln -sfn {} "$HIVE_CONF_DIR"/ \\;',
    'export HADOOP_CLIENT_OPTS="${HADOOP_CLIENT_OPTS:-} $SERVICE_OPTS"',
    'exec "$HIVE_HOME/bin/schematool" -dbType "$DB_DRIVER" -initOrUpgradeSchema',
].join("\n");
