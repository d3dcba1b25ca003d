// Synthetic stacks for the policy benchmark: a real stack's resources (the staging plan, with its
// NetworkPolicies) grown to any size with what a chart renders per application: a Service, a
// ConfigMap carrying configuration text (YAML with properties or Hadoop XML) that names platform and
// local Services, a Secret, a ServiceAccount, a Role and RoleBinding, a PodDisruptionBudget, and a
// Deployment with env addresses and Secret references, in that order (a cut never leaves an address
// without its Service). Every object passes the policies, so a run measures the full work of a
// passing gate.
import { customResource, EngineResource } from "./crossguard/engine-view";

interface Template {
    type: string;
    name: string;
    urn: string;
    props: Record<string, unknown>;
}

function asEngineResource(t: Template): EngineResource {
    return customResource({ urn: t.urn, type: t.type, name: t.name, inputs: t.props });
}

export interface SyntheticOptions {
    /** The real stack's resources to start from. */
    base: EngineResource[];
    /** Namespace of each component in the base stack. */
    namespaces: { garage: string; database: string; trino: string; airbyte: string; dagster: string };
    clusterDomain: string;
}

const CHART_LABELS = (component: string, app: string) => ({
    "app.kubernetes.io/name": app,
    "app.kubernetes.io/instance": app,
    "app.kubernetes.io/managed-by": "Helm",
    "helm.sh/chart": `${component}-1.0.0`,
    "lakehouse-platform/component": component,
});

/** One rendered app of a chart: its name, component, namespace, labels and the platform hosts it reaches. */
interface App {
    i: number;
    app: string;
    component: "dagster" | "airbyte";
    namespace: string;
    labels: Record<string, string>;
    urn: (type: string, name: string) => string;
    /** Its own Service's FQDN. */
    local: string;
    hosts: { trino: string; garage: string; postgres: string };
}

/** `count` resources: the base stack, then rendered-chart objects in the Airbyte and Dagster namespaces. */
export function syntheticStack(count: number, opts: SyntheticOptions): EngineResource[] {
    const out: EngineResource[] = opts.base.slice(0, count);
    const ns = opts.namespaces;
    const svc = (service: string, namespace: string) => `${service}.${namespace}.svc.${opts.clusterDomain}`;
    const hosts = {
        trino: svc("trino", ns.trino),
        garage: svc("garage", ns.garage),
        postgres: svc("postgres", ns.database),
    };
    for (let i = 0; out.length < count; i++) {
        // Connections the platform wires (and its NetworkPolicies admit): Dagster → Trino, Airbyte → Garage and PostgreSQL.
        const [component, namespace] =
            i % 2 === 0 ? (["dagster", ns.dagster] as const) : (["airbyte", ns.airbyte] as const);
        const app = `${component}-app-${i}`;
        const a: App = {
            i,
            app,
            component,
            namespace,
            labels: CHART_LABELS(component, app),
            urn: (type, name) => `urn:pulumi:staging::lakehouse-platform::kubernetes:helm.sh/v4:Chart$${type}::${name}`,
            local: svc(app, namespace),
            hosts,
        };
        for (const t of appObjects(a)) if (out.length < count) out.push(asEngineResource(t));
    }
    return out;
}

/** A namespaced object of the app: its kind and apiVersion from `type`, the app's labels, `body` beside the metadata. */
function appObject(a: App, type: string, name: string, body: Record<string, unknown>): Template {
    const [, version, kind] = type.split(":");
    const apiVersion = version.startsWith("core/") ? version.slice("core/".length) : version;
    return {
        type,
        name,
        urn: a.urn(type, name),
        props: { apiVersion, kind, metadata: { name, namespace: a.namespace, labels: a.labels }, ...body },
    };
}

/** The app's environment: the upstreams its chart wires in, and its database password from its Secret. */
function appEnv(a: App): Record<string, unknown>[] {
    const { trino, garage, postgres } = a.hosts;
    const password = (key: string) => ({
        name: key,
        valueFrom: { secretKeyRef: { name: `${a.app}-secret`, key: "password" } },
    });
    const self = { name: "APP_URL", value: `http://${a.local}:3030` };
    return a.component === "dagster"
        ? [{ name: "TRINO_HOST", value: trino }, { name: "TRINO_PORT", value: "8080" }, self, password("DB_PASSWORD")]
        : [
              { name: "S3_ENDPOINT", value: `http://${garage}:3900` },
              { name: "DATABASE_HOST", value: postgres },
              { name: "DATABASE_PORT", value: "5432" },
              self,
              password("DATABASE_PASSWORD"),
          ];
}

/** The app's identity: a ServiceAccount without a token, and a Role reading only its own config. */
function appAccess(a: App): Template[] {
    const { app, namespace } = a;
    const rbac = "kubernetes:rbac.authorization.k8s.io/v1";
    return [
        appObject(a, "kubernetes:core/v1:ServiceAccount", app, { automountServiceAccountToken: false }),
        appObject(a, `${rbac}:Role`, app, {
            rules: [
                {
                    apiGroups: [""],
                    resources: ["configmaps", "secrets"],
                    resourceNames: [`${app}-config`, `${app}-secret`],
                    verbs: ["get", "watch"],
                },
            ],
        }),
        appObject(a, `${rbac}:RoleBinding`, app, {
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: app },
            subjects: [{ kind: "ServiceAccount", name: app, namespace }],
        }),
    ];
}

/** Every object a chart renders for one app. */
function appObjects(a: App): Template[] {
    const { app } = a;
    const selector = { "app.kubernetes.io/name": app };
    return [
        appObject(a, "kubernetes:core/v1:Service", app, {
            spec: { selector, ports: [{ name: "http", port: 3030, targetPort: "http" }] },
        }),
        appConfigMap(a),
        ...appAccess(a),
        appObject(a, "kubernetes:policy/v1:PodDisruptionBudget", app, {
            spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
        }),
        appObject(a, "kubernetes:core/v1:Secret", `${app}-secret`, {
            type: "Opaque",
            data: { password: "c2VjcmV0LXZhbHVlLW5vdC1yZWFs" },
        }),
        appDeployment(a, appEnv(a)),
    ];
}

/** The app's configuration: YAML with its upstreams, and Hadoop XML (Airbyte) or properties (Dagster). */
function appConfigMap(a: App): Template {
    const { app, component, namespace, labels, urn, local, hosts } = a;
    const { trino, garage } = hosts;
    return {
        type: "kubernetes:core/v1:ConfigMap",
        name: `${app}-config`,
        urn: urn("kubernetes:core/v1:ConfigMap", `${app}-config`),
        props: {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: `${app}-config`, namespace, labels },
            data: {
                "application.yaml": [
                    "server:",
                    "  port: 3030",
                    `  publicUrl: http://${local}:3030`,
                    "upstreams:",
                    component === "dagster" ? `  trino: http://${trino}:8080` : `  s3: http://${garage}:3900`,
                    "logging:",
                    "  level: info",
                    "  format: json",
                    "",
                ].join("\n"),
                ...(component === "airbyte"
                    ? {
                          "core-site.xml": `<configuration><property><name>fs.s3a.endpoint</name><value>http://${garage}:3900</value></property><property><name>fs.s3a.path.style.access</name><value>true</value></property></configuration>`,
                      }
                    : {
                          "app.properties": [
                              `app.name=${app}`,
                              `app.url=http://${local}:3030`,
                              "app.retries=3",
                              "app.timeout=30s",
                              "",
                          ].join("\n"),
                      }),
            },
        },
    };
}

/** The app's Deployment, hardened like the platform's own, with env addresses and a Secret reference. */
function appDeployment(a: App, env: Record<string, unknown>[]): Template {
    const { app, component, namespace, labels, urn, i } = a;
    return {
        type: "kubernetes:apps/v1:Deployment",
        name: app,
        urn: urn("kubernetes:apps/v1:Deployment", app),
        props: {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: app, namespace, labels },
            spec: {
                replicas: 2,
                selector: { matchLabels: { "app.kubernetes.io/name": app } },
                template: {
                    metadata: { labels, annotations: { "checksum/config": `${i}`.padStart(16, "0") } },
                    spec: {
                        securityContext: {
                            runAsNonRoot: true,
                            runAsUser: 1000,
                            seccompProfile: { type: "RuntimeDefault" },
                        },
                        containers: [
                            {
                                name: "app",
                                image: `docker.io/example/${component}-app:1.${i % 50}.0`,
                                args: ["--config", "/etc/app/application.yaml", "--port", "3030"],
                                env,
                                envFrom: [{ secretRef: { name: `${component}-garage-credentials` } }],
                                ports: [{ name: "http", containerPort: 3030 }],
                                resources: {
                                    requests: { cpu: "100m", memory: "256Mi" },
                                    limits: { cpu: "1", memory: "1Gi" },
                                },
                                securityContext: {
                                    allowPrivilegeEscalation: false,
                                    capabilities: { drop: ["ALL"] },
                                    readOnlyRootFilesystem: true,
                                },
                                volumeMounts: [{ name: "config", mountPath: "/etc/app" }],
                            },
                        ],
                        volumes: [{ name: "config", configMap: { name: `${app}-config` } }],
                    },
                },
            },
        },
    };
}
