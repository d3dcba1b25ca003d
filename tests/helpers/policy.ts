// Calls the pack's policies the way CrossGuard does, on fixture resources (see offline/policy-runner.ts).
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { evaluatePolicies, PolicyReport, ResourceForPolicy } from "../../offline/policy-runner";
import { DEFAULT_CONFIG, PlatformPolicyConfig } from "../../policies/lib/config";

export type Fixture = Omit<ResourceForPolicy, "urn"> & { urn?: string };

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::lakehouse-platform::${type}::${name}`;
}

function withUrn(f: Fixture): ResourceForPolicy {
    return { ...f, urn: f.urn ?? urnOf(f.type, f.name) };
}

/** Runs one policy over fixtures with the given platform config (the defaults otherwise). */
export async function run(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    fixtures: Fixture[],
    config: Partial<PlatformPolicyConfig> & { enforcementLevel?: "advisory" | "mandatory" | "remediate" | "disabled" } = {},
): Promise<PolicyReport> {
    const { enforcementLevel, ...platform } = config;
    return evaluatePolicies(fixtures.map(withUrn), { [policy.name]: { ...DEFAULT_CONFIG, ...platform, ...(enforcementLevel ? { enforcementLevel } : {}) } }, [policy]);
}

export async function messages(policy: ResourceValidationPolicy | StackValidationPolicy, fixtures: Fixture[], config: Partial<PlatformPolicyConfig> = {}): Promise<string[]> {
    const report = await run(policy, fixtures, config);
    if (report.skipped.length > 0) throw new Error(`policy failed: ${JSON.stringify(report.skipped)}`);
    return report.violations.map((v) => v.message);
}

// ---- realistic fixture resources ----

export const T = {
    release: "kubernetes:helm.sh/v3:Release",
    chart: "kubernetes:helm.sh/v4:Chart",
    configMap: "kubernetes:core/v1:ConfigMap",
    deployment: "kubernetes:apps/v1:Deployment",
    job: "kubernetes:batch/v1:Job",
    service: "kubernetes:core/v1:Service",
    namespace: "kubernetes:core/v1:Namespace",
    secret: "kubernetes:core/v1:Secret",
    stackReference: "pulumi:pulumi:StackReference",
};

export function trinoCatalog(opts: { metastore?: string; s3?: string; extra?: string } = {}): string {
    return [
        "connector.name=iceberg",
        "iceberg.catalog.type=hive_metastore",
        `hive.metastore.uri=${opts.metastore ?? "thrift://hive-metastore.database.svc.cluster.local:9083"}`,
        "fs.native-s3.enabled=true",
        `s3.endpoint=${opts.s3 ?? "http://garage.garage.svc.cluster.local:3900"}`,
        "s3.region=us-east-1",
        "s3.path-style-access=true",
        "s3.aws-access-key=${ENV:AWS_ACCESS_KEY_ID}",
        "s3.aws-secret-key=${ENV:AWS_SECRET_ACCESS_KEY}",
        ...(opts.extra ? [opts.extra] : []),
    ].join("\n");
}

export function trinoChart(catalog = trinoCatalog(), namespace = "trino", extraValues: Record<string, unknown> = {}): Fixture {
    return {
        type: T.chart,
        name: "trino",
        props: { chart: "trino", version: "1.42.2", name: "trino", namespace, repositoryOpts: { repo: "https://trinodb.github.io/charts" }, values: { catalogs: { lakehouse: catalog, tpch: null }, envFrom: [{ secretRef: { name: "trino-garage-credentials" } }], ...extraValues } },
    };
}

export function configMap(name: string, namespace: string, data: Record<string, string>, labels: Record<string, string> = {}): Fixture {
    return { type: T.configMap, name, props: { metadata: { name, namespace, labels }, data } };
}

export function deployment(name: string, namespace: string, container: Record<string, unknown>, labels: Record<string, string> = {}): Fixture {
    return {
        type: T.deployment,
        name,
        props: { metadata: { name, namespace, labels }, spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: "example/app:1.0.0", ...container }] } } } },
    };
}

export function service(name: string, namespace: string, ports: number[], headless = false): Fixture {
    return { type: T.service, name: `${namespace}-${name}`, props: { metadata: { name, namespace }, spec: { ...(headless ? { clusterIP: "None" } : {}), ports: ports.map((port) => ({ port })) } } };
}

export function namespace(name: string, component: string, labels: Record<string, string> = {}): Fixture {
    return {
        type: T.namespace,
        name,
        props: {
            metadata: {
                name,
                labels: {
                    "app.kubernetes.io/part-of": "lakehouse-platform",
                    "lakehouse-platform/component": component,
                    "lakehouse-platform/environment": "dev",
                    "pod-security.kubernetes.io/enforce": "restricted",
                    ...labels,
                },
            },
        },
    };
}

/** The platform's own Services and namespaces, as the dev stack declares them. */
export function devPlatform(ns: Record<string, string> = { garage: "garage", database: "database", trino: "trino", airbyte: "airbyte", dagster: "dagster" }): Fixture[] {
    return [
        ...Object.entries(ns).map(([component, name]) => namespace(name, component)),
        service("garage", ns.garage, [3900]),
        service("garage-headless", ns.garage, [3901, 3903], true),
        service("postgres", ns.database, [5432]),
        service("hive-metastore", ns.database, [9083]),
    ];
}
