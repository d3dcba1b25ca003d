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
import { Secret } from "@pulumi/kubernetes/core/v1/secret";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify as toProperties } from "dot-properties";
import { ChartImage, trinoImages, trinoImageValues } from "./chart-images";
import { ChartSpec, releaseChart } from "./charts";
import { Address, Endpoint, RELEASES, serviceEndpoint, urlOf, wire, WiringEdge } from "./addresses";
import { jvmBytes } from "../policies/lib/rules";
import { Resources } from "./config";
import { childOptions, CREDENTIALS_REVISION } from "./k8s";
import { generationKeepers, TRINO_LOGIN_CONSUMERS } from "./credentials";
import { credentialLabels, platformLabels } from "./labels";
import {
    accessRules,
    JWT_ISSUER,
    keyId,
    LOGIN_KEY_CHARS,
    LOGIN_KEYS,
    loginSecretName,
    loginToken,
    TRINO_HTTPS_PORT,
    TRINO_INTERNAL_SECRET,
    TRINO_INTERNAL_SECRET_ENV,
    TRINO_JWT_DIR,
    TRINO_JWT_SECRET,
    TRINO_TLS_DIR,
    TRINO_TLS_SECRET,
} from "./trino-security";

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
    /** HTTPS, a login (token) per consumer and access rules (`trinoAuthentication`); undefined: plain HTTP, any client as any user. */
    authentication?: TrinoAuthentication;
}

export interface TrinoAuthentication {
    /** dbt's schema (`dagsterDbtSchema`): the dbt login owns it and the schemas named after it. */
    dbtSchema: string;
    /**
     * The namespace of each login's Secret (its holder's). A login whose holder this stack does not
     * deploy is issued all the same: its Secret waits in Trino's namespace.
     */
    loginNamespaces: Record<string, string>;
    /** Generation of each login (`credentialGenerations`, `trino-login/<name>`). */
    loginGenerations: Record<string, number>;
}

/** A login Trino issued: where its Secret (`username`, `token`) is. */
export interface IssuedTrinoLogin {
    name: string;
    namespace: string;
    secretName: string;
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

/**
 * What `trinoAuthentication` adds to the values: HTTPS on 8443 with the platform's certificate
 * (plain HTTP stays on 8080 for the probes and the workers, and authenticates nobody), Trino's JWT
 * authenticator with one key per login (the token's `kid` names its file), the internal shared
 * secret on every node, and the access rules.
 */
function authenticationValues(catalog: string, auth: TrinoAuthentication): Record<string, unknown> {
    return {
        https: { enabled: true, port: TRINO_HTTPS_PORT, keystore: { path: `${TRINO_TLS_DIR}/keystore.pem` } },
        authenticationType: "JWT",
        // On every node: the workers and the coordinator sign their requests to each other with it.
        additionalConfigProperties: [`internal-communication.shared-secret=\${ENV:${TRINO_INTERNAL_SECRET_ENV}}`],
        // The coordinator's alone: a worker authenticates no client, and refuses to start on
        // authenticator properties it does not use (seen on the real node).
        coordinatorExtraConfig: [
            `http-server.authentication.jwt.key-file=${TRINO_JWT_DIR}/\${KID}.key`,
            `http-server.authentication.jwt.required-issuer=${JWT_ISSUER}`,
        ].join("\n"),
        coordinatorSecretMounts: [
            { name: "tls", secretName: TRINO_TLS_SECRET, path: TRINO_TLS_DIR },
            { name: "login-keys", secretName: TRINO_JWT_SECRET, path: TRINO_JWT_DIR },
        ],
        accessControl: {
            type: "configmap",
            // Trino reads the rules again this often: a changed rule needs no restart.
            refreshPeriod: "60s",
            configFile: "rules.json",
            rules: { "rules.json": JSON.stringify(accessRules(catalog, auth.dbtSchema), null, 2) },
        },
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
    const auth = args.authentication ? authenticationValues(args.catalogName, args.authentication) : undefined;
    const coordinator = nodeValues(args.coordinator, args.credentialsRevision);
    return {
        ...trinoImageValues(args.imageMirror),
        ...(args.registrySecret ? { imagePullSecrets: [{ name: args.registrySecret }] } : {}),
        server: {
            workers: args.workers,
            // Trino's node.environment allows lower-case letters, digits and '_'.
            node: { environment: args.environment.replace(/-/g, "_") },
            config: {
                query: { maxMemory: `${queryMemoryPerNodeMb(args.worker.heap) * args.workers}MB` },
                ...(auth ? { https: auth.https, authenticationType: auth.authenticationType } : {}),
            },
            ...(auth ? { coordinatorExtraConfig: auth.coordinatorExtraConfig } : {}),
        },
        // No annotation follows the logins: a rotated login restarts nothing (issueLogins says why
        // the coordinator already has the new key).
        coordinator: auth ? { ...coordinator, secretMounts: auth.coordinatorSecretMounts } : coordinator,
        worker: nodeValues(args.worker, args.credentialsRevision),
        catalogs,
        ...(auth
            ? { additionalConfigProperties: auth.additionalConfigProperties, accessControl: auth.accessControl }
            : {}),
        // The catalog's ${ENV:...} references resolve from this Secret, on the coordinator and every
        // worker; with authentication, the internal shared secret from its own.
        envFrom: [
            { secretRef: { name: args.s3CredentialsSecret } },
            ...(auth ? [{ secretRef: { name: TRINO_INTERNAL_SECRET } }] : []),
        ],
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
    /** Each login's Secret (with `trinoAuthentication`): `username` and `token`. */
    public readonly logins: IssuedTrinoLogin[] = [];
    /** What Trino's clients mount of Trino's (their login Secrets): they start after these. */
    public readonly clientCredentials: pulumi.Resource[] = [];

    constructor(name: string, args: TrinoArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:query:Trino", name, {}, opts);
        const auth = args.authentication;
        this.coordinatorService = serviceEndpoint("trino", args.namespace, args.clusterDomain, {
            tls: auth !== undefined,
        });
        this.coordinatorUrl = urlOf(this.coordinatorService, auth ? "https" : "http");
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

        const secured: pulumi.Resource[] = [];
        if (auth) {
            // The certificate (TRINO_TLS_SECRET) is the platform's Certificates': the component waits for it.
            const logins = this.issueLogins(name, args, auth, opts);
            this.clientCredentials.push(...logins);
            secured.push(...logins, this.internalSecret(name, args, opts));
        }

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
            childOptions(this, opts, { dependsOn: secured }),
        );

        this.registerOutputs({
            coordinatorService: this.coordinatorService,
            coordinatorUrl: this.coordinatorUrl,
            catalog: this.catalog,
            wiring: this.wiring,
            images: this.images,
            logins: this.logins,
        });
    }

    /**
     * One generated key per login and generation, the login's token signed with the current one in
     * a Secret of the holder's namespace, and the keys (never a token) in the Secret the
     * coordinator mounts: the current generation's and the next one's. Why the next: Trino reads a
     * key file the first time a token names it and keeps it until it restarts, and the kubelet
     * puts a changed Secret into the coordinator's volume a minute or two after the update. A key
     * published only with the rotation would leave every consumer that rolls onto the new token
     * within that minute refused; published one generation ahead, it has long been in the volume
     * when the first token names it, so a rotation by one fails no query and restarts nothing. The
     * previous generation's file leaves the Secret; Trino keeps that key, if a token used it,
     * until the coordinator restarts (docs/security.md: how to refuse the old token at once).
     */
    private issueLogins(
        name: string,
        args: TrinoArgs,
        auth: TrinoAuthentication,
        opts?: pulumi.ComponentResourceOptions,
    ): Secret[] {
        const keys: Record<string, pulumi.Output<string>> = {};
        const secrets: Secret[] = [];
        for (const consumer of TRINO_LOGIN_CONSUMERS) {
            const generation = auth.loginGenerations[consumer.name] ?? 1;
            const kid = keyId(consumer.name, generation);
            const key = this.loginKey(name, consumer.name, generation);
            keys[`${kid}.key`] = pulumi.secret(key.result);
            keys[`${keyId(consumer.name, generation + 1)}.key`] = pulumi.secret(
                this.loginKey(name, consumer.name, generation + 1).result,
            );
            const token = pulumi.secret(key.result.apply((k) => loginToken(consumer.name, kid, k)));
            const namespace = auth.loginNamespaces[consumer.name] ?? args.namespace;
            const secretName = loginSecretName(consumer.name);
            secrets.push(
                new Secret(
                    `${name}-login-${consumer.name}`,
                    {
                        metadata: {
                            name: secretName,
                            namespace,
                            labels: credentialLabels("trino", consumer.component, args.environment),
                        },
                        type: "Opaque",
                        stringData: { [LOGIN_KEYS.username]: consumer.name, [LOGIN_KEYS.token]: token },
                    },
                    childOptions(this, opts),
                ),
            );
            this.logins.push({ name: consumer.name, namespace, secretName });
        }
        secrets.push(
            new Secret(
                `${name}-login-keys`,
                {
                    metadata: {
                        name: TRINO_JWT_SECRET,
                        namespace: args.namespace,
                        labels: platformLabels("trino", args.environment),
                    },
                    type: "Opaque",
                    stringData: keys,
                },
                childOptions(this, opts),
            ),
        );
        return secrets;
    }

    /**
     * A login's key at a generation, in one of two slots by the generation's parity: the slot of
     * the next generation keeps its value when the login rotates to it (its keepers name that
     * generation already), and the slot of the generation before is replaced by the one after.
     * 44 characters of the base64 alphabet: a base64 text of 33 bytes, as Trino reads a key file.
     * A RandomPassword: the real engine kept RandomBytes' value in clear in the state (the suite's
     * "no secret in clear" check found every key there).
     */
    private loginKey(name: string, login: string, generation: number): random.RandomPassword {
        const slot = generation % 2 === 1 ? "key" : "key-even";
        return new random.RandomPassword(
            `${name}-login-${login}-${slot}`,
            { length: LOGIN_KEY_CHARS, special: false, keepers: generationKeepers(generation) },
            { parent: this },
        );
    }

    /** The secret the coordinator and the workers sign their requests to each other with. */
    private internalSecret(name: string, args: TrinoArgs, opts?: pulumi.ComponentResourceOptions): Secret {
        const secret = new random.RandomPassword(`${name}-internal`, { length: 64, special: false }, { parent: this });
        return new Secret(
            `${name}-internal`,
            {
                metadata: {
                    name: TRINO_INTERNAL_SECRET,
                    namespace: args.namespace,
                    labels: platformLabels("trino", args.environment),
                },
                type: "Opaque",
                stringData: { [TRINO_INTERNAL_SECRET_ENV]: secret.result },
            },
            childOptions(this, opts),
        );
    }
}
