// Garage, the platform's S3 object store, with everything that makes it usable: layout, buckets and
// one key per consumer, delivered as a Secret in the consumer's own namespace. Garage has no Helm
// repository (upstream installs its chart from a git checkout), so its objects are built here.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { stringify as toToml } from "smol-toml";
import { Address, Endpoint, podEndpoint, serviceEndpoint, urlOf } from "./addresses";
import { parseQuantity, Resources } from "./config";
import { BootstrapGrant, BootstrapPlan, renderBootstrapScript } from "./garage-bootstrap";
import { checksum, childOptions, envFromSecret, resourceRequirements, restrictedContainerSecurity, restrictedPodSecurity } from "./k8s";
import { credentialLabels, platformLabels } from "./labels";
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
    keepData?: { protect: boolean; retainOnDelete: boolean };
}

/** Where a consumer's S3 credentials are: a Secret with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. */
export interface CredentialsSecret {
    namespace: string;
    name: string;
    /** Buckets the key may read and write. */
    buckets: string[];
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

export class Garage extends pulumi.ComponentResource {
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
    /** The bootstrap Job: once it has completed, the store is usable. */
    public readonly bootstrap: k8s.batch.v1.Job;

    /** The S3 API as consumers are given it. */
    get s3(): Address {
        return { service: this.s3Service, url: this.s3Endpoint };
    }

    constructor(name: string, args: GarageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:storage:Garage", name, {}, opts);
        const ns = args.namespace;
        const labels = { ...platformLabels("garage", args.environment), "app.kubernetes.io/name": "garage" };
        const selector = { "app.kubernetes.io/name": "garage", "app.kubernetes.io/instance": name };
        const child = (extra?: pulumi.CustomResourceOptions) => childOptions(this, opts, extra);
        const meta = (resourceName: string, namespace = ns) => ({ name: resourceName, namespace, labels });

        const headless = { service: "garage-headless", namespace: ns, port: ADMIN_PORT };
        this.s3Service = serviceEndpoint("garageS3", ns, args.clusterDomain);
        this.s3Endpoint = urlOf(this.s3Service, "http");
        this.buckets = [...args.buckets];

        // Cluster secrets, generated once and kept in state (rotating the rpc secret needs every node restarted).
        const rpcSecret = new random.RandomBytes(`${name}-rpc-secret`, { length: 32 }, { parent: this });
        const adminToken = new random.RandomPassword(`${name}-admin-token`, { length: 48, special: false }, { parent: this });
        const daemonSecret = new k8s.core.v1.Secret(
            `${name}-daemon`,
            { metadata: meta("garage-daemon"), type: "Opaque", stringData: { "rpc-secret": rpcSecret.hex, "admin-token": adminToken.result } },
            child(),
        );

        const toml = renderGarageToml({ namespace: ns, replicationFactor: args.replicationFactor, region: S3_REGION });
        const config = new k8s.core.v1.ConfigMap(`${name}-config`, { metadata: meta("garage-config"), data: { "garage.toml": toml } }, child());

        // Kubernetes discovery: each node publishes itself as a GarageNode object in this namespace.
        const account = new k8s.core.v1.ServiceAccount(`${name}`, { metadata: meta("garage") }, child());
        const role = new k8s.rbac.v1.Role(
            `${name}-discovery`,
            {
                metadata: meta("garage-discovery"),
                rules: [{ apiGroups: ["deuxfleurs.fr"], resources: ["garagenodes"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] }],
            },
            child(),
        );
        const roleBinding = new k8s.rbac.v1.RoleBinding(
            `${name}-discovery`,
            {
                metadata: meta("garage-discovery"),
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: ns }],
            },
            child(),
        );
        // Garage applies its own CRD (idempotent server-side apply), so environments sharing a
        // cluster share it; the cluster role is per namespace and allows nothing else.
        const crdRole = new k8s.rbac.v1.ClusterRole(
            `${name}-crd`,
            {
                metadata: { name: `garage-crd-${ns}`, labels },
                rules: [
                    { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: ["create"] },
                    { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], resourceNames: ["garagenodes.deuxfleurs.fr"], verbs: ["get", "patch"] },
                ],
            },
            child(),
        );
        const crdBinding = new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-crd`,
            {
                metadata: { name: `garage-crd-${ns}`, labels },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: crdRole.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: ns }],
            },
            child(),
        );

        const s3ApiService = new k8s.core.v1.Service(
            `${name}-s3`,
            {
                metadata: meta(this.s3Service.service),
                spec: { type: "ClusterIP", selector, ports: [{ name: "s3-api", port: S3_PORT, targetPort: "s3-api", protocol: "TCP" }] },
            },
            child(),
        );
        // Peers and the bootstrap reach individual nodes, ready or not (a node is ready only once it serves S3).
        const headlessService = new k8s.core.v1.Service(
            `${name}-headless`,
            {
                metadata: meta(headless.service),
                spec: {
                    clusterIP: "None",
                    publishNotReadyAddresses: true,
                    selector,
                    ports: [
                        { name: "rpc", port: RPC_PORT, targetPort: "rpc", protocol: "TCP" },
                        { name: "admin", port: ADMIN_PORT, targetPort: "admin", protocol: "TCP" },
                    ],
                },
            },
            child(),
        );

        const volumeClaim = (volume: string, size: string) => ({
            metadata: { name: volume, labels },
            spec: { accessModes: ["ReadWriteOnce"], storageClassName: args.storageClass, resources: { requests: { storage: size } } },
        });
        const statefulSet = new k8s.apps.v1.StatefulSet(
            `${name}`,
            {
                metadata: meta("garage"),
                spec: {
                    serviceName: headless.service,
                    replicas: args.replicas,
                    // All nodes start together: with replication factor 3 no node serves before three are up.
                    podManagementPolicy: "Parallel",
                    selector: { matchLabels: selector },
                    template: {
                        metadata: { labels: { ...labels, ...selector }, annotations: { "lakehouse-platform/config-checksum": checksum(toml) } },
                        spec: {
                            serviceAccountName: account.metadata.name,
                            securityContext: restrictedPodSecurity(UID),
                            topologySpreadConstraints: [
                                { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } },
                            ],
                            containers: [
                                {
                                    name: "garage",
                                    image: args.image,
                                    command: ["/garage", "server"],
                                    env: [
                                        envFromSecret("GARAGE_RPC_SECRET", daemonSecret.metadata.name, "rpc-secret"),
                                        envFromSecret("GARAGE_ADMIN_TOKEN", daemonSecret.metadata.name, "admin-token"),
                                        { name: "RUST_LOG", value: "garage=info" },
                                    ],
                                    ports: [
                                        { name: "s3-api", containerPort: S3_PORT, protocol: "TCP" },
                                        { name: "rpc", containerPort: RPC_PORT, protocol: "TCP" },
                                        { name: "admin", containerPort: ADMIN_PORT, protocol: "TCP" },
                                    ],
                                    // Ready once the S3 API listens; `/health` would stay red until the
                                    // bootstrap has applied a layout, and the bootstrap waits for the nodes.
                                    readinessProbe: { tcpSocket: { port: "s3-api" }, initialDelaySeconds: 5, periodSeconds: 10 },
                                    livenessProbe: { httpGet: { path: "/metrics", port: "admin" }, initialDelaySeconds: 30, periodSeconds: 20, failureThreshold: 6 },
                                    resources: resourceRequirements(args.resources),
                                    securityContext: restrictedContainerSecurity(),
                                    volumeMounts: [
                                        { name: "meta", mountPath: META_DIR },
                                        { name: "data", mountPath: DATA_DIR },
                                        { name: "config", mountPath: "/etc/garage.toml", subPath: "garage.toml", readOnly: true },
                                    ],
                                },
                            ],
                            volumes: [{ name: "config", configMap: { name: config.metadata.name } }],
                        },
                    },
                    volumeClaimTemplates: [volumeClaim("meta", args.metadataSize), volumeClaim("data", args.dataSize)],
                    // Volumes outlive the StatefulSet and a scale-down (Kubernetes' default, stated so no one flips it).
                    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                },
            },
            child({ dependsOn: [roleBinding, crdBinding, headlessService], ...args.keepData }),
        );
        if (args.replicas > 1) {
            new k8s.policy.v1.PodDisruptionBudget(
                `${name}`,
                { metadata: meta("garage"), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
                child(),
            );
        }

        // One key per consumer: id `GK` + 24 hex (not secret, like an AWS access key id), secret 64 hex.
        const keyEnv: Record<string, pulumi.Input<string>> = {};
        const bootstrapEnv: k8s.types.input.core.v1.EnvVar[] = [];
        const keyIds: pulumi.Output<string>[] = [];
        const keysSecretName = "garage-consumer-keys";
        for (const consumer of args.consumers) {
            const id = new random.RandomId(`${name}-${consumer.name}-key-id`, { byteLength: 12 }, { parent: this });
            const secret = new random.RandomBytes(`${name}-${consumer.name}-key-secret`, { length: 32 }, { parent: this });
            const accessKeyId = id.hex.apply(accessKeyIdFromHex);
            const prefix = envPrefix(consumer.name);
            keyEnv[`${prefix}_ID`] = accessKeyId;
            keyEnv[`${prefix}_SECRET`] = secret.hex;
            bootstrapEnv.push(envFromSecret(`${prefix}_ID`, keysSecretName, `${prefix}_ID`), envFromSecret(`${prefix}_SECRET`, keysSecretName, `${prefix}_SECRET`));
            keyIds.push(accessKeyId);

            const secretName = `${consumer.name}-garage-credentials`;
            new k8s.core.v1.Secret(
                `${name}-${consumer.name}-credentials`,
                {
                    metadata: {
                        name: secretName,
                        namespace: consumer.namespace,
                        labels: credentialLabels("garage", consumer.component, args.environment, consumer.handoff),
                    },
                    type: "Opaque",
                    stringData: { [ACCESS_KEY_ID]: accessKeyId, [SECRET_ACCESS_KEY]: secret.hex },
                },
                child(),
            );
            this.credentialSecrets[consumer.name] = { namespace: consumer.namespace, name: secretName, buckets: [...consumer.readWrite] };
            this.credentials[consumer.name] = pulumi.secret(pulumi.all([accessKeyId, secret.hex]).apply(([accessKeyId, secretAccessKey]) => ({ accessKeyId, secretAccessKey })));
        }
        const keysSecret = new k8s.core.v1.Secret(`${name}-consumer-keys`, { metadata: meta(keysSecretName), type: "Opaque", stringData: keyEnv }, child());

        const grants: BootstrapGrant[] = args.consumers.flatMap((c) => c.readWrite.map((bucket) => ({ bucket, key: c.name, read: true, write: true })));
        const plan: BootstrapPlan = {
            nodes: args.replicas,
            zone: args.environment,
            capacityBytes: Math.floor(parseQuantity(args.dataSize) ?? 0),
            buckets: args.buckets,
            keys: args.consumers.map((c) => ({ name: c.name, env: envPrefix(c.name) })),
            grants,
        };
        const script = renderBootstrapScript(plan);
        const scriptMap = new k8s.core.v1.ConfigMap(`${name}-bootstrap`, { metadata: meta("garage-bootstrap"), data: { "bootstrap.sh": script } }, child());

        const firstNode = podEndpoint("garage-0", headless, args.clusterDomain);
        const firstNodeRpc = podEndpoint("garage-0", { ...headless, port: RPC_PORT }, args.clusterDomain);
        // A new script, node count or set of keys changes the pod template, so the Job is replaced and runs again.
        const runChecksum = pulumi.all(keyIds).apply((ids) => checksum(script, ...ids));
        this.bootstrap = new k8s.batch.v1.Job(
            `${name}-bootstrap`,
            {
                metadata: meta("garage-bootstrap"),
                spec: {
                    backoffLimit: 4,
                    activeDeadlineSeconds: 1200,
                    template: {
                        metadata: { labels: { ...labels, "app.kubernetes.io/name": "garage-bootstrap" }, annotations: { "lakehouse-platform/run-checksum": runChecksum } },
                        spec: {
                            restartPolicy: "Never",
                            securityContext: restrictedPodSecurity(UID),
                            initContainers: [
                                {
                                    // The Garage image has no shell: copy a static busybox next to its CLI.
                                    name: "tools",
                                    image: args.toolsImage,
                                    command: ["/bin/busybox", "cp", "/bin/busybox", "/tools/busybox"],
                                    volumeMounts: [{ name: "tools", mountPath: "/tools" }],
                                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
                                    securityContext: restrictedContainerSecurity(),
                                },
                            ],
                            containers: [
                                {
                                    name: "bootstrap",
                                    image: args.image,
                                    command: ["/tools/busybox", "sh", "-c", "/tools/busybox --install -s /tools && exec /tools/busybox sh /scripts/bootstrap.sh"],
                                    env: [
                                        { name: "PATH", value: "/tools:/" },
                                        { name: "GARAGE_ADMIN_URL", value: urlOf(firstNode, "http") },
                                        { name: "GARAGE_RPC_ADDR", value: firstNodeRpc.hostPort },
                                        envFromSecret("GARAGE_RPC_SECRET", daemonSecret.metadata.name, "rpc-secret"),
                                        envFromSecret("GARAGE_ADMIN_TOKEN", daemonSecret.metadata.name, "admin-token"),
                                        ...bootstrapEnv,
                                    ],
                                    resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
                                    securityContext: restrictedContainerSecurity(),
                                    volumeMounts: [
                                        { name: "tools", mountPath: "/tools" },
                                        { name: "scripts", mountPath: "/scripts", readOnly: true },
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "tools", emptyDir: { sizeLimit: "16Mi" } },
                                { name: "scripts", configMap: { name: scriptMap.metadata.name } },
                            ],
                        },
                    },
                },
            },
            child({ dependsOn: [statefulSet, s3ApiService, keysSecret] }),
        );

        this.registerOutputs({
            s3Service: this.s3Service,
            s3Endpoint: this.s3Endpoint,
            region: this.region,
            buckets: this.buckets,
            credentialSecrets: this.credentialSecrets,
            credentials: this.credentials,
        });
    }
}
