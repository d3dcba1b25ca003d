// Runs fixtures through the policy pack as shipped, started and spoken to as `pulumi preview
// --policy-pack policies` does (offline/crossguard/): the engine's URNs, a root stack, secrets as
// secret values, the CLI's configuration rules, its verdicts.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { customResource, EngineResource, secret, wireValue } from "../../offline/crossguard/engine-view";
import { runGate, sharedPack } from "../../offline/crossguard/gate";
import { engineResources, packIdentity, stackPolicyDoc, StackRun } from "../../offline/run-stack";
import { parsePlatformConfig, PlatformConfig, projectKeys } from "../../components/config";
import { Diagnostic, Remediation } from "../../offline/crossguard/judge";
import { STACK_TYPE, unwrapSecrets } from "../../offline/engine";
import { DEFAULT_CONFIG, PlatformPolicyConfig } from "../../policies/lib/config";
import { POLICIES } from "../../policies/policies";
import { serversUseTls } from "../../policies/servers-use-tls";

export { secret };

/** A resource as a test writes it: its type, name and inputs (`props`), optionally its outputs. */
export interface Fixture {
    type: string;
    name: string;
    props: Record<string, unknown>;
    /** Outputs, as the whole-stack pass sees them; the inputs when not given. */
    outputs?: Record<string, unknown>;
    urn?: string;
    /** A read (StackReference, `.get`): seen only by stack policies. */
    read?: boolean;
    /** Objects a remote component (a helm.v4.Chart) renders: its children. */
    children?: Fixture[];
}

export const TEST_STACK = "test";
export const TEST_PROJECT = "lakehouse-platform";
export const ROOT_URN = `urn:pulumi:${TEST_STACK}::${TEST_PROJECT}::${STACK_TYPE}::${TEST_PROJECT}-${TEST_STACK}`;

export function urnOf(type: string, name: string, parentType?: string): string {
    return `urn:pulumi:${TEST_STACK}::${TEST_PROJECT}::${parentType ? `${parentType}$` : ""}${type}::${name}`;
}

function fixtureResources(fixtures: Fixture[]): EngineResource[] {
    const base = (
        urn: string,
        type: string,
        name: string,
        props: Record<string, unknown>,
        outputs: Record<string, unknown>,
        parent: string,
        read = false,
    ): EngineResource =>
        customResource({
            urn,
            type,
            name,
            registered: !read,
            // As the engine marshals them: undefined properties do not exist.
            inputs: wireValue(props) as Record<string, unknown>,
            outputs: wireValue(outputs) as Record<string, unknown>,
            parent,
        });
    const out: EngineResource[] = [
        {
            ...base(ROOT_URN, STACK_TYPE, `${TEST_PROJECT}-${TEST_STACK}`, {}, {}, ""),
            custom: false,
            parent: undefined,
        },
    ];
    for (const f of fixtures) {
        const urn = f.urn ?? urnOf(f.type, f.name);
        out.push(base(urn, f.type, f.name, f.props, f.outputs ?? f.props, ROOT_URN, f.read));
        for (const c of f.children ?? [])
            out.push(base(c.urn ?? urnOf(c.type, c.name, f.type), c.type, c.name, c.props, c.outputs ?? c.props, urn));
    }
    return out;
}

export type Level = "advisory" | "mandatory" | "remediate" | "disabled";

export interface Report {
    violations: Diagnostic[];
    /** Remediations, with the properties as the engine receives them (`properties`, secrets wrapped) and unwrapped (`props`). */
    remediations: (Remediation & { props: Record<string, any> })[];
}

const identity = { organization: "organization", project: TEST_PROJECT, stack: TEST_STACK, dryRun: true, config: {} };

/**
 * Runs one policy of the pack over fixtures (every other policy disabled), with the platform
 * settings given over the defaults (for policies that take them) and an enforcement level.
 */
export async function run(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    fixtures: Fixture[],
    config: Partial<PlatformPolicyConfig> & { enforcementLevel?: Level } = {},
): Promise<Report> {
    const { enforcementLevel, ...platform } = config;
    const doc: Record<string, unknown> = { all: "disabled" };
    const settings = policy.configSchema ? { ...DEFAULT_CONFIG, ...platform } : {};
    doc[policy.name] = { enforcementLevel: enforcementLevel ?? policy.enforcementLevel ?? "advisory", ...settings };
    return runPack(fixtures, doc);
}

/** Runs the whole pack over fixtures with a `--policy-pack-config` document. */
export async function runPack(fixtures: Fixture[], doc: Record<string, unknown> = {}): Promise<Report> {
    const gate = await runGate(fixtureResources(fixtures), identity, [{ doc, source: "of the test" }]);
    return {
        violations: gate.diagnostics,
        remediations: gate.remediations.map((r) => ({
            ...r,
            props: unwrapSecrets(r.properties) as Record<string, any>,
        })),
    };
}

export async function messages(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    fixtures: Fixture[],
    config: Partial<PlatformPolicyConfig> = {},
): Promise<string[]> {
    const report = await run(policy, fixtures, config);
    return report.violations.filter((v) => v.policy === policy.name).map((v) => v.message);
}

/** The pack's own list, so a test can ask for a policy by name. */
export function policyNamed(name: string): ResourceValidationPolicy | StackValidationPolicy {
    const p = POLICIES.find((x) => x.name === name);
    if (!p) throw new Error(`no policy ${name}`);
    return p;
}

// ---- realistic fixture resources ----

export const T = {
    release: "kubernetes:helm.sh/v3:Release",
    /** A helm.v4.Chart: under the engine, a component with no inputs whose children are the rendered objects. */
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

/** Trino as the program deploys it: a helm.v3.Release named `trino` with the catalog in its values. */
export function trinoRelease(
    catalog = trinoCatalog(),
    namespace = "trino",
    extraValues: Record<string, unknown> = {},
): Fixture {
    return {
        type: T.release,
        name: "trino",
        props: {
            chart: "trino",
            version: "1.42.2",
            name: "trino",
            namespace,
            repositoryOpts: { repo: "https://trinodb.github.io/charts" },
            values: {
                catalogs: { lakehouse: catalog, tpch: null },
                envFrom: [{ secretRef: { name: "trino-garage-credentials" } }],
                ...extraValues,
            },
        },
    };
}

export function configMap(
    name: string,
    namespace: string,
    data: Record<string, string>,
    labels: Record<string, string> = {},
): Fixture {
    return { type: T.configMap, name, props: { metadata: { name, namespace, labels }, data } };
}

export function deployment(
    name: string,
    namespace: string,
    container: Record<string, unknown>,
    labels: Record<string, string> = {},
): Fixture {
    return {
        type: T.deployment,
        name,
        props: {
            metadata: { name, namespace, labels },
            spec: {
                selector: { matchLabels: { app: name } },
                template: {
                    metadata: { labels: { app: name } },
                    spec: { containers: [{ name, image: "example/app:1.0.0", ...container }] },
                },
            },
        },
    };
}

export function service(name: string, namespace: string, ports: number[], headless = false): Fixture {
    return {
        type: T.service,
        name: `${namespace}-${name}`,
        props: {
            metadata: { name, namespace },
            spec: { ...(headless ? { clusterIP: "None" } : {}), ports: ports.map((port) => ({ port })) },
        },
    };
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
export function devPlatform(
    ns: Record<string, string> = {
        garage: "garage",
        database: "database",
        trino: "trino",
        airbyte: "airbyte",
        dagster: "dagster",
    },
): Fixture[] {
    return [
        ...Object.entries(ns).map(([component, name]) => namespace(name, component)),
        service("garage", ns.garage, [3900]),
        service("garage-headless", ns.garage, [3901, 3903], true),
        service("postgres", ns.database, [5432]),
        service("hive-metastore", ns.database, [9083]),
    ];
}

/**
 * A helm.v4.Chart as the engine shows it: no inputs, and the objects the chart renders (here given
 * by the test) as its children, each named `<release>:<namespace>/<name>` as the provider names them.
 */
export function renderedChart(name: string, children: Fixture[]): Fixture {
    return {
        type: T.chart,
        name,
        props: {},
        children: children.map((c) => ({
            ...c,
            name: `${name}:${(c.props.metadata as { namespace?: string } | undefined)?.namespace ?? "default"}/${c.name}`,
        })),
    };
}

/**
 * Judges a stack run through the pack, as `pulumi preview --policy-pack policies` would: the
 * engine's view of the run, the stack's own settings, then `extra` over them (a fixture's
 * settings: unlike a file under the CLI, it may move the namespaces, to plant a mistake); `edit`
 * changes the resources first (to plant a mistake).
 */
export async function judgeRun(
    raw: StackRun,
    options: {
        extra?: Record<string, unknown>;
        edit?: (resources: EngineResource[]) => EngineResource[];
        settings?: PlatformConfig;
    } = {},
): Promise<Report> {
    const settings =
        options.settings ?? parsePlatformConfig(projectKeys(raw.config, raw.project.name), raw.project.name, raw.stack);
    const runIdentity = packIdentity(raw.stack, raw.project, raw.config);
    const { info } = await sharedPack(runIdentity);
    const resources = (options.edit ?? ((x) => x))(engineResources(raw));
    const layers = [{ doc: stackPolicyDoc(settings, info.policies), source: `of stack ${raw.stack}` }];
    if (options.extra) layers.push({ doc: options.extra as never, source: "of the test" });
    const gate = await runGate(resources, runIdentity, layers);
    return {
        violations: gate.diagnostics,
        remediations: gate.remediations.map((r) => ({
            ...r,
            props: unwrapSecrets(r.properties) as Record<string, any>,
        })),
    };
}

export function mandatoryOf(report: Report): Diagnostic[] {
    return report.violations.filter((v) => v.enforcementLevel === "mandatory");
}

/**
 * What the pack reports beyond the advisories a stack on the platform's TLS defaults gets by
 * design (`servers-use-tls`: Trino without HTTPS, PostgreSQL without `ssl=on`): what the tests of
 * a stack ask to be empty. tests/policies/stacks.test.ts checks those advisories themselves.
 */
export function beyondTlsAdvisories<V extends { policy: string; enforcementLevel: string }>(violations: V[]): V[] {
    return violations.filter((v) => !(v.policy === serversUseTls.name && v.enforcementLevel === "advisory"));
}
