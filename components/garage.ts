// Garage, the platform's S3 object store, with everything that makes it usable: layout, buckets and
// one key per consumer, delivered as a Secret in the consumer's own namespace. Garage has no Helm
// repository (upstream installs its chart from a git checkout), so its objects are built here.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify as toToml } from "smol-toml";
import { Address, Endpoint, podEndpoint, serviceEndpoint, urlOf } from "./addresses";
import { parseQuantity, Resources } from "./config";
import { credentialName, garageKeyIdHex, generationKeepers } from "./credentials";
import { BootstrapPlan, renderBootstrapScript, renderRetireScript } from "./garage-bootstrap";
import {
    checksum,
    envFromSecret,
    KeepData,
    NamespacedComponent,
    REPLACE_DELETE_FIRST,
    resourceRequirements,
    restrictedContainerSecurity,
    restrictedPodSecurity,
    RUN_CHECKSUM,
} from "./k8s";
import { credentialLabels } from "./labels";
import type { ComponentName } from "./config";

/**
 * Garage rejects a signature whose region differs from its own `s3_region`, and Airbyte's
 * S3-compatible client always signs for us-east-1, so every client and Garage use us-east-1.
 */
export const S3_REGION = "us-east-1";

const S3_PORT = 3900;
const RPC_PORT = 3901;
const ADMIN_PORT = 3903;
const UID = 1000;
const META_DIR = "/var/lib/garage/meta";
const DATA_DIR = "/var/lib/garage/data";

export interface GarageConsumer {
    /** Key name in Garage and prefix of the consumer's Secret, e.g. `trino`. */
    name: string;
    /** The component the consumer is part of (its Secret is labelled with it). */
    component: ComponentName;
    /** Namespace the consumer's Secret is created in: its own, or Garage's when it is a handoff. */
    namespace: string;
    /** Buckets the consumer reads and writes; it gets nothing else. */
    readWrite: string[];
    /** Another stack deploys the consumer: its Secret waits in Garage's namespace for that stack to copy. */
    handoff?: boolean;
    /** Generation of its key (`credentialGenerations`, garage-key/<name>): a new one issues a new key. */
    generation: number;
}

export interface GarageArgs {
    namespace: string;
    clusterDomain: string;
    environment: string;
    /** Garage image (the bootstrap Job runs the same image's CLI). */
    image: string;
    /** Static busybox image whose shell runs the bootstrap script inside the Garage image. */
    toolsImage: string;
    replicas: number;
    /** Copies of each object; at most `replicas`. */
    replicationFactor: number;
    dataSize: string;
    metadataSize: string;
    /** StorageClass of the volumes; the cluster default when undefined. */
    storageClass?: string;
    resources: Resources;
    /** Buckets the bootstrap creates. */
    buckets: string[];
    /** Who gets a key, and on which buckets. */
    consumers: GarageConsumer[];
    /** Options of the resources that hold the data (StatefulSet): `protect`, `retainOnDelete`. */
    keepData?: KeepData;
    /** Generations of the admin token and the rpc secret (`credentialGenerations`). */
    daemonGenerations: { adminToken: number; rpcSecret: number };
}

/** Where a consumer's S3 credentials are: a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. */
export interface CredentialsSecret {
    namespace: string;
    name: string;
    /** Buckets the key may read and write. */
    buckets: string[];
    /** The key's generation. */
    generation: number;
}

export const ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID";
export const SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY";

/** `garage.toml`: no secret in it; the rpc secret and admin token come from the environment. */
export function renderGarageToml(args: { namespace: string; replicationFactor: number; region: string }): string {
    return toToml({
        metadata_dir: META_DIR,
        data_dir: DATA_DIR,
        db_engine: "lmdb",
        metadata_auto_snapshot_interval: "6h",
        replication_factor: args.replicationFactor,
        consistency_mode: "consistent",
        compression_level: 1,
        rpc_bind_addr: `[::]:${RPC_PORT}`,
        kubernetes_discovery: { namespace: args.namespace, service_name: "garage", skip_crd: false },
        s3_api: { s3_region: args.region, api_bind_addr: `[::]:${S3_PORT}` },
        admin: { api_bind_addr: `[::]:${ADMIN_PORT}` },
    });
}

/** `GK` + 24 lower-case hex characters: the only access key id format every Garage version imports. */
export function accessKeyIdFromHex(hex: string): string {
    return `GK${hex}`;
}

function envPrefix(consumer: string): string {
    return `KEY_${consumer.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** A consumer's key as this run issues it: the current generation's id and secret, and the ids before it. */
interface IssuedKey {
    consumer: GarageConsumer;
    accessKeyId: pulumi.Output<string>;
    secretAccessKey: pulumi.Output<string>;
    /** Ids of the consumer's earlier generations, oldest first. */
    earlierIds: pulumi.Output<string[]>;
}

const KEYS_SECRET = "garage-consumer-keys";
const DAEMON_SECRET = "garage-daemon";
const HEADLESS = "garage-headless";

/** What a Garage script Job runs: which script, with which secrets and settings, after what. */
interface ScriptJobSpec {
    objectName: string;
    container: string;
    script: { map: k8s.core.v1.ConfigMap; file: string };
    daemon: k8s.core.v1.Secret;
    env: k8s.types.input.core.v1.EnvVar[];
    runChecksum: pulumi.Input<string>;
    dependsOn: pulumi.Resource[];
}

/** Resources of the short-lived Jobs' containers: the busybox copy and the scripts. */
const TOOLS_RESOURCES = { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } };
const SCRIPT_RESOURCES = { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "500m", memory: "128Mi" } };

export class Garage extends NamespacedComponent<GarageArgs> {
    /** The S3 API's Service, `garage.<ns>.svc.<domain>:3900`. */
    public readonly s3Service: Endpoint;
    /** `http://garage.<ns>.svc.<domain>:3900` */
    public readonly s3Endpoint: string;
    public readonly region: string = S3_REGION;
    public readonly buckets: string[];
    /** Each consumer's credentials Secret: in the consumer's namespace, or Garage's for a handoff. */
    public readonly credentialSecrets: Record<string, CredentialsSecret> = {};
    /** Each consumer's key, marked secret. */
    public readonly credentials: Record<string, pulumi.Output<{ accessKeyId: string; secretAccessKey: string }>> = {};
    /**
     * Each consumer's key and its generation (`garage-key/<name>=<n>`): consumers put it on their pod
     * templates, so a new key rolls their pods (Kubernetes does not restart a pod whose Secret
     * changed). Known in a first preview, unlike anything derived from the random values.
     */
    public readonly credentialRevisions: Record<string, string> = {};
    /** The bootstrap Job: once it has completed, the store is usable and every consumer's key is in it. */
    public readonly bootstrap: k8s.batch.v1.Job;

    private readonly selector: Record<string, string>;
    private readonly issued: IssuedKey[];
    private readonly daemon: k8s.core.v1.Secret;

    /** The S3 API as consumers are given it. */
    get s3(): Address {
        return { service: this.s3Service, url: this.s3Endpoint };
    }

    /**
     * Options of what the nodes need to start again after a destroy that kept the data: the
     * StatefulSet, its account and RBAC, its Secret and ConfigMap, its governing Service.
     */
    private kept(extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
        return this.child({ ...extra, ...this.args.keepData });
    }

    constructor(name: string, args: GarageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:storage:Garage", name, args, opts, { component: "garage", app: "garage" });
        this.selector = { "app.kubernetes.io/name": "garage", "app.kubernetes.io/instance": name };
        this.s3Service = serviceEndpoint("garageS3", args.namespace, args.clusterDomain);
        this.s3Endpoint = urlOf(this.s3Service, "http");
        this.buckets = [...args.buckets];

        const daemon = this.daemonSecret(name);
        this.daemon = daemon.secret;
        const config = this.configMap(name);
        const discovery = this.discoveryAccess(name);
        const services = this.services(name);
        const statefulSet = this.statefulSet(name, {
            daemon,
            config,
            account: discovery.account,
            waitFor: [...discovery.bindings, services.headless],
        });
        this.disruptionBudget(name);
        this.issued = this.issueKeys(name);
        const keys = this.keysSecret(name);
        this.bootstrap = this.bootstrapJob(name, daemon, [statefulSet, services.s3, keys]);
        this.consumerSecrets(name);

        this.registerOutputs({
            s3Service: this.s3Service,
            s3Endpoint: this.s3Endpoint,
            region: this.region,
            buckets: this.buckets,
            credentialSecrets: this.credentialSecrets,
            credentials: this.credentials,
        });
    }

    /**
     * The cluster's rpc secret and admin token, generated once and kept in state; a new generation
     * (credentialGenerations) replaces one. The checksum rolls the nodes when either changes.
     */
    private daemonSecret(name: string): { secret: k8s.core.v1.Secret; checksum: pulumi.Output<string> } {
        const g = this.args.daemonGenerations;
        const rpcSecret = new random.RandomBytes(
            `${name}-rpc-secret`,
            { length: 32, keepers: generationKeepers(g.rpcSecret) },
            { parent: this },
        );
        const adminToken = new random.RandomPassword(
            `${name}-admin-token`,
            { length: 48, special: false, keepers: generationKeepers(g.adminToken) },
            { parent: this },
        );
        const secret = new k8s.core.v1.Secret(
            `${name}-daemon`,
            {
                metadata: this.meta(DAEMON_SECRET),
                type: "Opaque",
                stringData: { "rpc-secret": rpcSecret.hex, "admin-token": adminToken.result },
            },
            this.kept(),
        );
        // One-way: the checksum says that a value changed, never what it is.
        return {
            secret,
            checksum: pulumi.unsecret(pulumi.all([rpcSecret.hex, adminToken.result]).apply(([r, a]) => checksum(r, a))),
        };
    }

    private configMap(name: string): { map: k8s.core.v1.ConfigMap; toml: string } {
        const toml = renderGarageToml({
            namespace: this.args.namespace,
            replicationFactor: this.args.replicationFactor,
            region: S3_REGION,
        });
        const map = new k8s.core.v1.ConfigMap(
            `${name}-config`,
            { metadata: this.meta("garage-config"), data: { "garage.toml": toml } },
            this.kept(),
        );
        return { map, toml };
    }

    /**
     * Kubernetes discovery: each node publishes itself as a GarageNode object in this namespace.
     * Garage applies its own CRD (idempotent server-side apply), so environments sharing a cluster
     * share it; the cluster role is per namespace and allows nothing else.
     */
    private discoveryAccess(name: string): { account: k8s.core.v1.ServiceAccount; bindings: pulumi.Resource[] } {
        const ns = this.args.namespace;
        const account = new k8s.core.v1.ServiceAccount(`${name}`, { metadata: this.meta("garage") }, this.kept());
        const role = new k8s.rbac.v1.Role(
            `${name}-discovery`,
            {
                metadata: this.meta("garage-discovery"),
                rules: [
                    {
                        apiGroups: ["deuxfleurs.fr"],
                        resources: ["garagenodes"],
                        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
                    },
                ],
            },
            this.kept(),
        );
        const roleBinding = new k8s.rbac.v1.RoleBinding(
            `${name}-discovery`,
            {
                metadata: this.meta("garage-discovery"),
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: ns }],
            },
            this.kept(),
        );
        const crdRole = new k8s.rbac.v1.ClusterRole(
            `${name}-crd`,
            {
                metadata: { name: `garage-crd-${ns}`, labels: this.labels },
                rules: [
                    {
                        apiGroups: ["apiextensions.k8s.io"],
                        resources: ["customresourcedefinitions"],
                        verbs: ["create"],
                    },
                    {
                        apiGroups: ["apiextensions.k8s.io"],
                        resources: ["customresourcedefinitions"],
                        resourceNames: ["garagenodes.deuxfleurs.fr"],
                        verbs: ["get", "patch"],
                    },
                ],
            },
            this.kept(),
        );
        const crdBinding = new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-crd`,
            {
                metadata: { name: `garage-crd-${ns}`, labels: this.labels },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: crdRole.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: ns }],
            },
            this.kept(),
        );
        return { account, bindings: [roleBinding, crdBinding] };
    }

    /** The S3 API's Service, and the headless one through which peers and the Jobs reach each node, ready or not. */
    private services(name: string): { s3: k8s.core.v1.Service; headless: k8s.core.v1.Service } {
        const s3 = new k8s.core.v1.Service(
            `${name}-s3`,
            {
                metadata: this.meta(this.s3Service.service),
                spec: {
                    type: "ClusterIP",
                    selector: this.selector,
                    ports: [{ name: "s3-api", port: S3_PORT, targetPort: "s3-api", protocol: "TCP" }],
                },
            },
            this.child(),
        );
        // A node is ready only once it serves S3, which it does only after the bootstrap applied a layout.
        const headless = new k8s.core.v1.Service(
            `${name}-headless`,
            {
                metadata: this.meta(HEADLESS),
                spec: {
                    clusterIP: "None",
                    publishNotReadyAddresses: true,
                    selector: this.selector,
                    ports: [
                        { name: "rpc", port: RPC_PORT, targetPort: "rpc", protocol: "TCP" },
                        { name: "admin", port: ADMIN_PORT, targetPort: "admin", protocol: "TCP" },
                    ],
                },
            },
            // The StatefulSet's governing Service: its pods' names resolve through it.
            this.kept(),
        );
        return { s3, headless };
    }

    /** A Garage node: the daemon with its secrets from the environment, its probes and volumes. */
    private nodeContainer(daemonName: pulumi.Output<string>): k8s.types.input.core.v1.Container {
        return {
            name: "garage",
            image: this.args.image,
            command: ["/garage", "server"],
            env: [
                envFromSecret("GARAGE_RPC_SECRET", daemonName, "rpc-secret"),
                envFromSecret("GARAGE_ADMIN_TOKEN", daemonName, "admin-token"),
                { name: "RUST_LOG", value: "garage=info" },
            ],
            ports: [
                { name: "s3-api", containerPort: S3_PORT, protocol: "TCP" },
                { name: "rpc", containerPort: RPC_PORT, protocol: "TCP" },
                { name: "admin", containerPort: ADMIN_PORT, protocol: "TCP" },
            ],
            // Ready once the S3 API listens; `/health` would stay red until the bootstrap has
            // applied a layout, and the bootstrap waits for the nodes.
            readinessProbe: { tcpSocket: { port: "s3-api" }, initialDelaySeconds: 5, periodSeconds: 10 },
            livenessProbe: {
                httpGet: { path: "/metrics", port: "admin" },
                initialDelaySeconds: 30,
                periodSeconds: 20,
                failureThreshold: 6,
            },
            resources: resourceRequirements(this.args.resources),
            securityContext: restrictedContainerSecurity(),
            volumeMounts: [
                { name: "meta", mountPath: META_DIR },
                { name: "data", mountPath: DATA_DIR },
                { name: "config", mountPath: "/etc/garage.toml", subPath: "garage.toml", readOnly: true },
            ],
        };
    }

    private statefulSet(
        name: string,
        deps: {
            daemon: { secret: k8s.core.v1.Secret; checksum: pulumi.Output<string> };
            config: { map: k8s.core.v1.ConfigMap; toml: string };
            account: k8s.core.v1.ServiceAccount;
            waitFor: pulumi.Resource[];
        },
    ): k8s.apps.v1.StatefulSet {
        const args = this.args;
        const daemonName = deps.daemon.secret.metadata.name;
        const volumeClaim = (volume: string, size: string) => ({
            metadata: { name: volume, labels: this.labels },
            spec: {
                accessModes: ["ReadWriteOnce"],
                storageClassName: args.storageClass,
                resources: { requests: { storage: size } },
            },
        });
        const container = this.nodeContainer(daemonName);
        return new k8s.apps.v1.StatefulSet(
            `${name}`,
            {
                metadata: this.meta("garage"),
                spec: {
                    serviceName: HEADLESS,
                    replicas: args.replicas,
                    // All nodes start together: with replication factor 3 no node serves before three are up.
                    podManagementPolicy: "Parallel",
                    selector: { matchLabels: this.selector },
                    template: {
                        metadata: {
                            labels: { ...this.labels, ...this.selector },
                            // A new garage.toml, or a rotated rpc secret or admin token, restarts the nodes
                            // one by one: Garage reads all three only when it starts.
                            annotations: {
                                "lakehouse-platform/config-checksum": checksum(deps.config.toml),
                                "lakehouse-platform/secrets-checksum": deps.daemon.checksum,
                            },
                        },
                        spec: {
                            serviceAccountName: deps.account.metadata.name,
                            securityContext: restrictedPodSecurity(UID),
                            topologySpreadConstraints: [
                                {
                                    maxSkew: 1,
                                    topologyKey: "kubernetes.io/hostname",
                                    whenUnsatisfiable: "ScheduleAnyway",
                                    labelSelector: { matchLabels: this.selector },
                                },
                            ],
                            containers: [container],
                            volumes: [{ name: "config", configMap: { name: deps.config.map.metadata.name } }],
                        },
                    },
                    volumeClaimTemplates: [volumeClaim("meta", args.metadataSize), volumeClaim("data", args.dataSize)],
                    // Volumes outlive the StatefulSet and a scale-down (Kubernetes' default, stated so no one flips it).
                    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                },
            },
            this.kept({ dependsOn: deps.waitFor, ...REPLACE_DELETE_FIRST }),
        );
    }

    private disruptionBudget(name: string): void {
        if (this.args.replicas <= 1) return;
        new k8s.policy.v1.PodDisruptionBudget(
            `${name}`,
            { metadata: this.meta("garage"), spec: { maxUnavailable: 1, selector: { matchLabels: this.selector } } },
            this.child(),
        );
    }

    /**
     * One key per consumer: id `GK` + 24 hex (not secret, like an AWS access key id), secret 64
     * hex. The first generation's id is random; later ones derive from it (credentials.ts), so the
     * ids of earlier generations are known and can be retired. The secret is replaced with each
     * generation.
     */
    private issueKeys(name: string): IssuedKey[] {
        return this.args.consumers.map((consumer) => {
            const first = new random.RandomId(`${name}-${consumer.name}-key-id`, { byteLength: 12 }, { parent: this });
            const secret = new random.RandomBytes(
                `${name}-${consumer.name}-key-secret`,
                { length: 32, keepers: generationKeepers(consumer.generation) },
                { parent: this },
            );
            const idOf = (generation: number) =>
                first.hex.apply((hex) => accessKeyIdFromHex(garageKeyIdHex(hex, generation)));
            const earlier = Array.from({ length: consumer.generation - 1 }, (_, i) => idOf(i + 1));
            return {
                consumer,
                accessKeyId: idOf(consumer.generation),
                secretAccessKey: secret.hex,
                earlierIds: pulumi.all(earlier),
            };
        });
    }

    /** The current keys, in Garage's namespace, for the bootstrap to import and check. */
    private keysSecret(name: string): k8s.core.v1.Secret {
        const data: Record<string, pulumi.Input<string>> = {};
        for (const k of this.issued) {
            const prefix = envPrefix(k.consumer.name);
            data[`${prefix}_ID`] = k.accessKeyId;
            data[`${prefix}_SECRET`] = k.secretAccessKey;
        }
        return new k8s.core.v1.Secret(
            `${name}-consumer-keys`,
            { metadata: this.meta(KEYS_SECRET), type: "Opaque", stringData: data },
            this.child(),
        );
    }

    private secretNameOf(consumer: GarageConsumer): string {
        return `${consumer.name}-garage-credentials`;
    }

    /** A Job that runs a script of the `garage-bootstrap` ConfigMap in the Garage image, with busybox's shell. */
    private scriptJob(
        name: string,
        spec: ScriptJobSpec,
        opts: pulumi.CustomResourceOptions = this.child(),
    ): k8s.batch.v1.Job {
        return new k8s.batch.v1.Job(
            name,
            {
                metadata: this.meta(spec.objectName),
                spec: {
                    backoffLimit: 4,
                    activeDeadlineSeconds: 1200,
                    template: {
                        metadata: {
                            labels: { ...this.labels, "app.kubernetes.io/name": spec.objectName },
                            annotations: { [RUN_CHECKSUM]: spec.runChecksum },
                        },
                        spec: {
                            restartPolicy: "Never",
                            securityContext: restrictedPodSecurity(UID),
                            initContainers: [
                                {
                                    // The Garage image has no shell: copy a static busybox next to its CLI.
                                    name: "tools",
                                    image: this.args.toolsImage,
                                    command: ["/bin/busybox", "cp", "/bin/busybox", "/tools/busybox"],
                                    volumeMounts: [{ name: "tools", mountPath: "/tools" }],
                                    resources: TOOLS_RESOURCES,
                                    securityContext: restrictedContainerSecurity(),
                                },
                            ],
                            containers: [this.scriptContainer(spec)],
                            volumes: [
                                { name: "tools", emptyDir: { sizeLimit: "16Mi" } },
                                { name: "scripts", configMap: { name: spec.script.map.metadata.name } },
                            ],
                        },
                    },
                },
            },
            pulumi.mergeOptions(opts, { dependsOn: spec.dependsOn, ...REPLACE_DELETE_FIRST }),
        );
    }

    /** The Garage CLI with busybox installed beside it, pointed at the first node's admin API and RPC. */
    private scriptContainer(spec: ScriptJobSpec): k8s.types.input.core.v1.Container {
        const firstNode = (port: number) =>
            podEndpoint(
                "garage-0",
                { service: HEADLESS, namespace: this.args.namespace, port },
                this.args.clusterDomain,
            );
        return {
            name: spec.container,
            image: this.args.image,
            command: [
                "/tools/busybox",
                "sh",
                "-c",
                `/tools/busybox --install -s /tools && exec /tools/busybox sh /scripts/${spec.script.file}`,
            ],
            env: [
                { name: "PATH", value: "/tools:/" },
                { name: "GARAGE_ADMIN_URL", value: urlOf(firstNode(ADMIN_PORT), "http") },
                { name: "GARAGE_RPC_ADDR", value: firstNode(RPC_PORT).hostPort },
                envFromSecret("GARAGE_RPC_SECRET", spec.daemon.metadata.name, "rpc-secret"),
                envFromSecret("GARAGE_ADMIN_TOKEN", spec.daemon.metadata.name, "admin-token"),
                ...spec.env,
            ],
            resources: SCRIPT_RESOURCES,
            securityContext: restrictedContainerSecurity(),
            volumeMounts: [
                { name: "tools", mountPath: "/tools" },
                { name: "scripts", mountPath: "/scripts", readOnly: true },
            ],
        };
    }

    /** Layout, buckets, each consumer's key (checked against its Secret) and exactly its grants. */
    private bootstrapJob(
        name: string,
        daemon: { secret: k8s.core.v1.Secret; checksum: pulumi.Output<string> },
        dependsOn: pulumi.Resource[],
    ): k8s.batch.v1.Job {
        const args = this.args;
        const plan: BootstrapPlan = {
            nodes: args.replicas,
            zone: args.environment,
            capacityBytes: Math.floor(parseQuantity(args.dataSize) ?? 0),
            buckets: args.buckets,
            keys: args.consumers.map((c) => ({
                name: c.name,
                env: envPrefix(c.name),
                secret: `${c.namespace}/${this.secretNameOf(c)}`,
                credential: credentialName.garageKey(c.name),
                generation: c.generation,
            })),
            grants: args.consumers.flatMap((c) =>
                c.readWrite.map((bucket) => ({ bucket, key: c.name, read: true, write: true })),
            ),
        };
        const script = renderBootstrapScript(plan);
        const map = new k8s.core.v1.ConfigMap(
            `${name}-bootstrap`,
            { metadata: this.meta("garage-bootstrap"), data: { "bootstrap.sh": script } },
            this.child(),
        );
        const env = args.consumers.flatMap((c) => {
            const prefix = envPrefix(c.name);
            return [
                envFromSecret(`${prefix}_ID`, KEYS_SECRET, `${prefix}_ID`),
                envFromSecret(`${prefix}_SECRET`, KEYS_SECRET, `${prefix}_SECRET`),
            ];
        });
        // A new script, node count, key, or daemon secret changes the pod template: the Job is replaced and runs again.
        const runChecksum = pulumi
            .all([daemon.checksum, ...this.issued.map((k) => k.accessKeyId)])
            .apply((parts) => checksum(script, ...parts));
        return this.scriptJob(`${name}-bootstrap`, {
            objectName: "garage-bootstrap",
            container: "bootstrap",
            script: { map, file: "bootstrap.sh" },
            daemon: daemon.secret,
            env,
            runChecksum,
            dependsOn: [...dependsOn, daemon.secret],
        });
    }

    /**
     * Each consumer's Secret, written once the bootstrap has put its key into Garage: a consumer
     * never reads a key Garage does not hold yet.
     */
    private consumerSecrets(name: string): void {
        for (const k of this.issued) {
            const consumer = k.consumer;
            const secretName = this.secretNameOf(consumer);
            new k8s.core.v1.Secret(
                `${name}-${consumer.name}-credentials`,
                {
                    metadata: {
                        name: secretName,
                        namespace: consumer.namespace,
                        labels: credentialLabels("garage", consumer.component, this.args.environment, consumer.handoff),
                    },
                    type: "Opaque",
                    stringData: { [ACCESS_KEY_ID]: k.accessKeyId, [SECRET_ACCESS_KEY]: k.secretAccessKey },
                },
                this.child({ dependsOn: [this.bootstrap] }),
            );
            this.credentialSecrets[consumer.name] = {
                namespace: consumer.namespace,
                name: secretName,
                buckets: [...consumer.readWrite],
                generation: consumer.generation,
            };
            this.credentials[consumer.name] = pulumi.secret(
                pulumi
                    .all([k.accessKeyId, k.secretAccessKey])
                    .apply(([accessKeyId, secretAccessKey]) => ({ accessKeyId, secretAccessKey })),
            );
            this.credentialRevisions[consumer.name] =
                `${credentialName.garageKey(consumer.name)}=${consumer.generation}`;
        }
    }

    /**
     * Deletes the keys of earlier generations once `consumers` (the workloads that read the keys)
     * run with the new ones. A consumer another stack deploys keeps its previous key: this stack
     * cannot wait for that stack's pods, so that key is retired with the next rotation. Undefined
     * when there is nothing to retire.
     *
     * `opts` must not make the Job a child of this component: the consumers wait for Garage, so a
     * Job of Garage's that waits for them would close a cycle.
     */
    retireEarlierKeys(consumers: pulumi.Resource[], opts: pulumi.CustomResourceOptions): k8s.batch.v1.Job | undefined {
        const name = "garage";
        // Generations 1 .. g-1 (g-2 for a handoff consumer); the ids travel in a Secret like the current ones.
        const retired: { consumer: string; env: string; id: pulumi.Output<string> }[] = this.issued.flatMap((k) => {
            const keep = k.consumer.handoff ? 1 : 0;
            return Array.from({ length: Math.max(0, k.consumer.generation - 1 - keep) }, (_, i) => ({
                consumer: k.consumer.name,
                env: `${envPrefix(k.consumer.name)}_G${i + 1}_ID`,
                id: k.earlierIds.apply((ids) => ids[i]),
            }));
        });
        if (retired.length === 0) return undefined;
        const script = renderRetireScript(retired);
        const map = new k8s.core.v1.ConfigMap(
            `${name}-retire-keys`,
            { metadata: this.meta("garage-retire-keys"), data: { "retire.sh": script } },
            opts,
        );
        const ids = new k8s.core.v1.Secret(
            `${name}-retired-keys`,
            {
                metadata: this.meta("garage-retired-keys"),
                type: "Opaque",
                stringData: Object.fromEntries(retired.map((k) => [k.env, k.id])),
            },
            opts,
        );
        return this.scriptJob(
            `${name}-retire-keys`,
            {
                objectName: "garage-retire-keys",
                container: "retire",
                script: { map, file: "retire.sh" },
                daemon: this.daemon,
                env: retired.map((k) => envFromSecret(k.env, ids.metadata.name, k.env)),
                runChecksum: pulumi.all(retired.map((k) => k.id)).apply((list) => checksum(script, ...list)),
                dependsOn: [this.bootstrap, ids, ...consumers],
            },
            opts,
        );
    }
}
