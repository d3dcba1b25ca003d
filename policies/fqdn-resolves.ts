import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { CONFIG_SCHEMA, PlatformPolicyConfig, policyConfig } from "./lib/config";
import { defaultPort } from "./lib/hosts";
import { chartName, chartServices, fqdn, ServiceDecl, UPSTREAM_STACKS_TYPE } from "./lib/platform";
import { references, where } from "./lib/references";
import { resourceLabel } from "./lib/report";
import { dig, HELM_TYPES, isMap, isRemoteComponent } from "./lib/strings";

const SERVICE_TYPE = "kubernetes:core/v1:Service";

/** The Services a stack declares, those known charts create, and those its upstream stacks publish. */
export class ServiceIndex {
    private readonly byKey = new Map<string, ServiceDecl>();
    private readonly byName = new Map<string, ServiceDecl[]>();

    add(decl: ServiceDecl): void {
        const key = `${decl.namespace}/${decl.name}`;
        const known = this.byKey.get(key);
        if (known) {
            known.ports = [...new Set([...known.ports, ...decl.ports])];
            known.headless ||= decl.headless;
            return;
        }
        this.byKey.set(key, { ...decl });
        this.byName.set(decl.name, [...(this.byName.get(decl.name) ?? []), this.byKey.get(key)!]);
    }

    get(name: string, namespace: string): ServiceDecl | undefined {
        return this.byKey.get(`${namespace}/${name}`);
    }

    named(name: string): ServiceDecl[] {
        return this.byName.get(name) ?? [];
    }

    get size(): number {
        return this.byKey.size;
    }
}

type ResourceLike = Pick<PolicyResource, "type" | "name" | "props"> & { urn?: string };

function serviceFromResource(r: ResourceLike): ServiceDecl | undefined {
    const name = dig(r.props, ["metadata", "name"]);
    const namespace = dig(r.props, ["metadata", "namespace"]) ?? "default";
    if (typeof name !== "string" || typeof namespace !== "string") return undefined;
    const ports = dig(r.props, ["spec", "ports"]);
    return {
        name,
        namespace,
        ports: Array.isArray(ports)
            ? ports.map((p) => (isMap(p) ? p.port : undefined)).filter((p): p is number => typeof p === "number")
            : [],
        headless: dig(r.props, ["spec", "clusterIP"]) === "None",
        source: resourceLabel(r.type, r.name),
    };
}

/** Addresses an upstream stack publishes: any object with a service, a namespace and a port. */
function servicesFromOutputs(value: unknown, source: string, add: (d: ServiceDecl) => void, depth = 0): void {
    if (depth > 8 || typeof value !== "object" || value === null) return;
    if (
        isMap(value) &&
        typeof value.service === "string" &&
        typeof value.namespace === "string" &&
        typeof value.port === "number"
    ) {
        add({ name: value.service, namespace: value.namespace, ports: [value.port], headless: false, source });
    }
    for (const v of Object.values(value)) servicesFromOutputs(v, source, add, depth + 1);
}

export function serviceIndex(resources: ResourceLike[]): ServiceIndex {
    const index = new ServiceIndex();
    for (const r of resources) {
        if (r.type === SERVICE_TYPE) {
            const decl = serviceFromResource(r);
            if (decl) index.add(decl);
        } else if (HELM_TYPES.has(r.type) && isMap(r.props) && !isRemoteComponent(r.type, r.props)) {
            // (A helm.v4.Chart's Services are its rendered children, indexed above like any Service.)
            const release = typeof r.props.name === "string" ? r.props.name : r.name;
            const namespace = typeof r.props.namespace === "string" ? r.props.namespace : "default";
            for (const decl of chartServices(chartName(r.props.chart), release, namespace, r.props.values))
                index.add(decl);
        } else if (r.type === UPSTREAM_STACKS_TYPE && isMap(r.props) && isMap(r.props.stacks)) {
            // The contracts the program read from its upstream stacks (the engine shows no reads).
            for (const [stack, contract] of Object.entries(r.props.stacks))
                servicesFromOutputs(contract, `stack ${stack}`, (d) => index.add(d));
        }
    }
    return index;
}

export interface UnresolvedName {
    resource: ResourceLike;
    message: string;
}

/** Every `*.svc.<domain>` name in the stack's configuration that points at nothing. */
export function unresolvedNames(
    resources: ResourceLike[],
    config: PlatformPolicyConfig,
    index = serviceIndex(resources),
): UnresolvedName[] {
    const out: UnresolvedName[] = [];
    for (const r of resources) {
        for (const { found, ref, form } of references(r.type, r.props, config)) {
            if (form.form !== "fqdn") continue;
            // Messages are built only for what is reported: most addresses resolve.
            const at = () => `${resourceLabel(r.type, r.name)}: ${where(found, ref)}`;
            const correct = (namespace: string, domain = config.clusterDomain) =>
                fqdn(form.service, namespace, domain, form.pod);
            if (form.domain !== config.clusterDomain) {
                out.push({
                    resource: r,
                    message: `${at()}: the cluster domain is "${config.clusterDomain}", not "${form.domain}"; use "${correct(form.namespace)}".`,
                });
                continue;
            }
            const decl = index.get(form.service, form.namespace);
            if (!decl) {
                const elsewhere = index.named(form.service);
                const hint =
                    elsewhere.length === 1
                        ? `; ${form.service} is in namespace ${elsewhere[0].namespace}: use "${correct(elsewhere[0].namespace)}"`
                        : elsewhere.length > 1
                          ? `; Services named ${form.service} are in namespaces ${elsewhere.map((d) => d.namespace).join(", ")}`
                          : "";
                out.push({
                    resource: r,
                    message: `${at()}: no Service ${form.service} in namespace ${form.namespace} is declared by the stack or created by a known chart${hint}.`,
                });
                continue;
            }
            if (form.pod && !decl.headless) {
                out.push({
                    resource: r,
                    message: `${at()}: ${form.pod}.${form.service} names a pod, but Service ${form.service} (${decl.source}) is not headless, so pods get no such name.`,
                });
                continue;
            }
            const port = ref.port ?? defaultPort(ref.scheme);
            if (port !== undefined && decl.ports.length > 0 && !decl.ports.includes(port)) {
                out.push({
                    resource: r,
                    message: `${at()}: Service ${form.service} in ${form.namespace} (${decl.source}) exposes port ${decl.ports.join(", ")}, not ${port}.`,
                });
            }
        }
    }
    return out;
}

export const fqdnResolves: StackValidationPolicy = {
    name: "fqdn-resolves",
    description:
        "Every <service>.<namespace>.svc.<clusterDomain> name points to a Service the stack declares (or a known chart creates) in that namespace, on a port it exposes, with the cluster's domain.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args, reportViolation) => {
        const config = policyConfig(args);
        for (const { resource, message } of unresolvedNames(args.resources, config))
            reportViolation(message, resource.urn);
    },
};
