// The Hive Metastore that holds Trino's Iceberg catalog. There is no official chart; the official
// `apache/hive` 4.0.x image runs it as the metastore and initialises (or upgrades) its schema in
// PostgreSQL with its own schematool step on every start.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { XMLBuilder } from "fast-xml-parser";
import { Address, Endpoint, serviceEndpoint, urlOf, wire, WiringEdge } from "./addresses";
import { parseQuantity, Resources } from "./config";
import { DatabaseCredentials } from "./postgres";
import { checksum, childOptions, envFromSecret, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity } from "./k8s";
import { platformLabels } from "./labels";

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
    /** The metastore database: PostgreSQL's Service, its JDBC URL and the credentials Secret. */
    database: { service: Endpoint; jdbcUrl: string; credentials: DatabaseCredentials };
    /** Where the init container downloads the PostgreSQL JDBC driver from; empty when the image has it. */
    jdbcDriverUrl: string;
    /** The URL is a secret (a private repository's credentials in it): the init container reads it from a Secret. */
    jdbcDriverUrlSecret?: boolean;
    /** SHA-256 the driver must have; when empty, the checksum Maven Central publishes beside it is checked. */
    jdbcDriverSha256?: string;
    /** Image with sh and curl for the driver download. */
    curlImage: string;
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
    ];
}

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
        { name: "datanucleus.autoCreateSchema", value: "false" },
        { name: "metastore.schema.verification", value: "true" },
    ];
}

/** The JVM heap: three quarters of the memory limit, the rest for metaspace, threads and buffers. */
export function metastoreHeapMb(memoryLimit: string): number {
    return Math.floor(((parseQuantity(memoryLimit) ?? 0) * 0.75) / 2 ** 20);
}

export class HiveMetastore extends pulumi.ComponentResource {
    /** `hive-metastore.<ns>.svc.<domain>:9083` */
    public readonly metastoreService: Endpoint;
    /** `thrift://hive-metastore.<ns>.svc.<domain>:9083` */
    public readonly metastoreUri: string;
    /** `s3a://<bucket>/warehouse` */
    public readonly warehouse: string;
    public readonly deployment: k8s.apps.v1.Deployment;
    /** The connections the metastore makes to other components. */
    public readonly wiring: WiringEdge[];

    constructor(name: string, args: HiveMetastoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:database:HiveMetastore", name, {}, opts);
        const ns = args.namespace;
        const labels = { ...platformLabels("database", args.environment), "app.kubernetes.io/name": "hive-metastore" };
        const selector = { "app.kubernetes.io/name": "hive-metastore", "app.kubernetes.io/instance": name };
        const child = (extra?: pulumi.CustomResourceOptions) => childOptions(this, opts, extra);
        const meta = (resourceName: string) => ({ name: resourceName, namespace: ns, labels });
        this.metastoreService = serviceEndpoint("hiveMetastore", ns, args.clusterDomain);
        this.metastoreUri = urlOf(this.metastoreService, "thrift");
        this.warehouse = warehouseLocation(args.bucket);

        const coreSite = renderHadoopXml(coreSiteProperties({ s3Endpoint: args.s3.url, s3Region: args.s3Region }));
        const hiveSite = renderHadoopXml(hiveSiteProperties({ jdbcUrl: args.database.jdbcUrl, user: args.database.credentials.role, bucket: args.bucket }));
        this.wiring = [
            wire("database", "garageS3", args.s3.service, args.s3.url, { type: "kubernetes:core/v1:ConfigMap", name: `${name}-conf`, path: 'data["core-site.xml"] › fs.s3a.endpoint' }),
        ];
        const conf = new k8s.core.v1.ConfigMap(`${name}-conf`, { metadata: meta("hive-metastore-conf"), data: { "core-site.xml": coreSite, "hive-site.xml": hiveSite } }, child());

        const jarName = "postgresql-jdbc.jar";
        const downloadDriver = args.jdbcDriverUrl !== "";
        const verify = args.jdbcDriverSha256
            ? `echo "${args.jdbcDriverSha256}  /jdbc/${jarName}" | sha256sum -c -`
            : `echo "$(curl -fsSL "$DRIVER_URL.sha1" | cut -c1-40)  /jdbc/${jarName}" | sha1sum -c -`;
        // A secret URL travels in a Secret of its own, never in the pod spec.
        const driverUrlSecret = downloadDriver && args.jdbcDriverUrlSecret
            ? new k8s.core.v1.Secret(`${name}-jdbc-driver-url`, { metadata: meta("hive-metastore-jdbc-driver-url"), type: "Opaque", stringData: { url: pulumi.secret(args.jdbcDriverUrl) } }, child())
            : undefined;
        const driverUrlEnv = driverUrlSecret ? envFromSecret("DRIVER_URL", driverUrlSecret.metadata.name, "url") : { name: "DRIVER_URL", value: args.jdbcDriverUrl };
        const initContainers = downloadDriver
            ? [
                  {
                      // The image has no PostgreSQL JDBC driver; this needs egress to the driver's URL.
                      name: "jdbc-driver",
                      image: args.curlImage,
                      command: ["sh", "-ec", `curl -fsSL --retry 5 -o /jdbc/${jarName} "$DRIVER_URL"; ${verify}`],
                      env: [driverUrlEnv],
                      resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
                      securityContext: restrictedContainerSecurity(),
                      volumeMounts: [{ name: "jdbc", mountPath: "/jdbc" }],
                  },
              ]
            : [];

        const service = new k8s.core.v1.Service(
            `${name}`,
            { metadata: meta(this.metastoreService.service), spec: { type: "ClusterIP", selector, ports: [{ name: "thrift", port: THRIFT_PORT, targetPort: "thrift", protocol: "TCP" }] } },
            child(),
        );
        const thrift = { tcpSocket: { port: "thrift" } };
        this.deployment = new k8s.apps.v1.Deployment(
            `${name}`,
            {
                metadata: meta("hive-metastore"),
                spec: {
                    replicas: args.replicas,
                    selector: { matchLabels: selector },
                    template: {
                        metadata: { labels: { ...labels, ...selector }, annotations: { "lakehouse-platform/config-checksum": checksum(coreSite, hiveSite) } },
                        spec: {
                            securityContext: restrictedPodSecurity(HIVE_UID),
                            initContainers,
                            containers: [
                                {
                                    name: "metastore",
                                    image: args.image,
                                    env: [
                                        { name: "SERVICE_NAME", value: "metastore" },
                                        { name: "DB_DRIVER", value: "postgres" },
                                        { name: "HIVE_CUSTOM_CONF_DIR", value: CONF_DIR },
                                        { name: "HADOOP_CLASSPATH", value: "/opt/hadoop/share/hadoop/tools/lib/*" },
                                        // The entrypoint traces its commands (set -x): only non-secret options go here.
                                        { name: "SERVICE_OPTS", value: `-Xmx${metastoreHeapMb(args.resources.limits.memory)}m` },
                                        envFromSecret(DB_PASSWORD_ENV, args.database.credentials.secretName, args.database.credentials.passwordKey),
                                    ],
                                    // S3A reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment.
                                    envFrom: [{ secretRef: { name: args.s3CredentialsSecret } }],
                                    ports: [{ name: "thrift", containerPort: THRIFT_PORT, protocol: "TCP" }],
                                    // schematool runs before the server listens: give it time.
                                    startupProbe: { ...thrift, periodSeconds: 10, failureThreshold: 30 },
                                    readinessProbe: { ...thrift, periodSeconds: 10 },
                                    livenessProbe: { ...thrift, periodSeconds: 20, failureThreshold: 6 },
                                    resources: resourceRequirements(args.resources),
                                    // The entrypoint links the custom configuration into the image's conf directory.
                                    securityContext: restrictedContainerSecurity(false),
                                    volumeMounts: [
                                        // Mounted file by file: the entrypoint links regular files only, and a
                                        // ConfigMap volume presents symbolic links.
                                        { name: "conf", mountPath: `${CONF_DIR}/core-site.xml`, subPath: "core-site.xml", readOnly: true },
                                        { name: "conf", mountPath: `${CONF_DIR}/hive-site.xml`, subPath: "hive-site.xml", readOnly: true },
                                        ...(downloadDriver ? [{ name: "jdbc", mountPath: `/opt/hive/lib/${jarName}`, subPath: jarName, readOnly: true }] : []),
                                    ],
                                },
                            ],
                            volumes: [{ name: "conf", configMap: { name: conf.metadata.name } }, ...(downloadDriver ? [{ name: "jdbc", emptyDir: { sizeLimit: "16Mi" } }] : [])],
                        },
                    },
                },
            },
            child({ dependsOn: [service] }),
        );

        this.registerOutputs({ metastoreService: this.metastoreService, metastoreUri: this.metastoreUri, warehouse: this.warehouse, wiring: this.wiring });
    }
}
