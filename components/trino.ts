// Trino, with an Iceberg catalog on the Hive Metastore and Garage, from the official chart.
//
// Deployed with `helm.v3.Release`, like Airbyte and Dagster. A `helm.v4.Chart` is built by the
// Kubernetes provider (a multi-language component): the policy pack then sees the Chart with no
// inputs and only the objects the provider renders, which exist in `pulumi preview` but in no
// offline run, since nothing here renders charts. As a Release, the pack judges the same values
// (the catalog text with its metastore and S3 addresses) in `pulumi preview --policy-pack` and in
// `npm run plan`, and Helm's wait still holds Dagster's dbt runs until the coordinator is ready.
// Imported from its module: `k8s.helm` would also load the deprecated helm.v3.Chart and its YAML machinery.
import { Release as HelmRelease } from "@pulumi/kubernetes/helm/v3/release";
import * as pulumi from "@pulumi/pulumi";
import { stringify as toProperties } from "dot-properties";
import { ChartImage, trinoImages, trinoImageValues } from "./chart-images";
import { ChartSpec, releaseChart } from "./charts";
import { Address, Endpoint, RELEASES, serviceEndpoint, urlOf, wire, WiringEdge } from "./addresses";
import { jvmBytes } from "../policies/lib/rules";
import { Resources } from "./config";
import { childOptions, CREDENTIALS_REVISION } from "./k8s";

const TRINO_UID = 1000;

export interface TrinoNodeSize {
    resources: Resources;
    /** JVM heap (`-Xmx`), e.g. `1536M` or `12G`. */
    heap: string;
}

export interface TrinoArgs {
    namespace: string;
    clusterDomain: string;
    environment: string;
    /** Where the chart comes from, and its pinned version (`trinoChart`, `trinoChartVersion`). */
    chart: ChartSpec;
    workers: number;
    coordinator: TrinoNodeSize;
    worker: TrinoNodeSize;
    /** Name of the Iceberg catalog (`lakehouse`). */
    catalogName: string;
    /** Keep the chart's tpch and tpcds demo catalogs. */
    keepDemoCatalogs: boolean;
    /** The Hive Metastore (`thrift://hive-metastore.<ns>.svc.<domain>:9083`). */
    metastore: Address;
    /** Garage's S3 API. */
    s3: Address;
    s3Region: string;
    /** Trino's Garage Secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) in Trino's namespace. */
    s3CredentialsSecret: string;
    /** One-way checksum of the key in that Secret: on the pods, so a rotated key rolls them. */
    credentialsRevision?: pulumi.Input<string>;
    /** Registry mirror the chart's image is pulled through (`imageRegistryMirror`). */
    imageMirror?: string;
    /** The namespace's registry Secret every pod of the chart pulls with (`imageRegistryUsername`); undefined: anonymous pulls. */
    registrySecret?: string;
}

export { jvmBytes };

/**
 * Query memory a node may use: half its heap. Trino refuses to start when the query memory per
 * node plus the heap headroom (30% of the heap by default) exceeds the heap.
 */
export function queryMemoryPerNodeMb(heap: string): number {
    return Math.floor((jvmBytes(heap) ?? 0) / 2 / 2 ** 20);
}

/**
 * The Iceberg catalog, with the properties the pinned Trino reads: native S3 (the legacy
 * `hive.s3.*` properties are gone since Trino 481), path-style addressing on Garage, credentials
 * from the environment.
 */
export function icebergCatalog(args: { metastoreUri: string; s3Endpoint: string; s3Region: string }): string {
    return toProperties(
        {
            "connector.name": "iceberg",
            "iceberg.catalog.type": "hive_metastore",
            "hive.metastore.uri": args.metastoreUri,
            "fs.native-s3.enabled": "true",
            "s3.endpoint": args.s3Endpoint,
            "s3.region": args.s3Region,
            "s3.path-style-access": "true",
            "s3.aws-access-key": "${ENV:AWS_ACCESS_KEY_ID}",
            "s3.aws-secret-key": "${ENV:AWS_SECRET_ACCESS_KEY}",
        },
        { keySep: "=", lineWidth: null },
    );
}

function nodeValues(size: TrinoNodeSize, credentialsRevision?: pulumi.Input<string>) {
    return {
        // Beside the chart's own checksum annotations (catalogs, config): a rotated key rolls the pods too.
        ...(credentialsRevision !== undefined ? { annotations: { [CREDENTIALS_REVISION]: credentialsRevision } } : {}),
        jvm: { maxHeapSize: size.heap },
        config: { query: { maxMemoryPerNode: `${queryMemoryPerNodeMb(size.heap)}MB` } },
        resources: { requests: { ...size.resources.requests }, limits: { ...size.resources.limits } },
    };
}

/** Values for the trino/trino chart: every key is one the pinned chart version reads. */
export function trinoValues(args: TrinoArgs): Record<string, unknown> {
    const catalogs: Record<string, string | null> = args.keepDemoCatalogs ? {} : { tpch: null, tpcds: null };
    catalogs[args.catalogName] = icebergCatalog({
        metastoreUri: args.metastore.url,
        s3Endpoint: args.s3.url,
        s3Region: args.s3Region,
    });
    return {
        ...trinoImageValues(args.imageMirror),
        ...(args.registrySecret ? { imagePullSecrets: [{ name: args.registrySecret }] } : {}),
        server: {
            workers: args.workers,
            // Trino's node.environment allows lower-case letters, digits and '_'.
            node: { environment: args.environment.replace(/-/g, "_") },
            config: { query: { maxMemory: `${queryMemoryPerNodeMb(args.worker.heap) * args.workers}MB` } },
        },
        coordinator: nodeValues(args.coordinator, args.credentialsRevision),
        worker: nodeValues(args.worker, args.credentialsRevision),
        catalogs,
        // The catalog's ${ENV:...} references resolve from this Secret, on the coordinator and every worker.
        envFrom: [{ secretRef: { name: args.s3CredentialsSecret } }],
        securityContext: {
            runAsUser: TRINO_UID,
            runAsGroup: TRINO_UID,
            runAsNonRoot: true,
            fsGroup: TRINO_UID,
            seccompProfile: { type: "RuntimeDefault" },
        },
        containerSecurityContext: {
            allowPrivilegeEscalation: false,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        },
    };
}

export class Trino extends pulumi.ComponentResource {
    /** The coordinator Service the chart creates: `trino.<ns>.svc.<domain>:8080`. */
    public readonly coordinatorService: Endpoint;
    /** `http://trino.<ns>.svc.<domain>:8080` */
    public readonly coordinatorUrl: string;
    /** The connections Trino makes to other components. */
    public readonly wiring: WiringEdge[];
    /** Name of the Iceberg catalog. */
    public readonly catalog: string;
    /** The images the chart runs, as the cluster pulls them. */
    public readonly images: ChartImage[];
    public readonly release: HelmRelease;

    constructor(name: string, args: TrinoArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:query:Trino", name, {}, opts);
        this.coordinatorService = serviceEndpoint("trino", args.namespace, args.clusterDomain);
        this.coordinatorUrl = urlOf(this.coordinatorService, "http");
        this.catalog = args.catalogName;
        this.images = trinoImages(args.chart.version, args.imageMirror);
        const catalog = (property: string) => ({
            type: "kubernetes:helm.sh/v3:Release",
            name,
            path: `values.catalogs.${args.catalogName} › ${property}`,
        });
        this.wiring = [
            wire("trino", "hiveMetastore", args.metastore.service, args.metastore.url, catalog("hive.metastore.uri")),
            wire("trino", "garageS3", args.s3.service, args.s3.url, catalog("s3.endpoint")),
        ];

        this.release = new HelmRelease(
            name,
            {
                // Named explicitly: without a name the release gets a random suffix, and every Service name with it.
                name: RELEASES.trino,
                ...releaseChart(args.chart),
                namespace: args.namespace,
                values: trinoValues(args),
                // Helm waits for the coordinator and workers to be ready (the JVMs take a minute).
                timeout: 600,
                maxHistory: 10,
            },
            childOptions(this, opts),
        );

        this.registerOutputs({
            coordinatorService: this.coordinatorService,
            coordinatorUrl: this.coordinatorUrl,
            catalog: this.catalog,
            wiring: this.wiring,
            images: this.images,
        });
    }
}
