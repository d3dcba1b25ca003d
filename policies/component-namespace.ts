import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { chartName } from "./lib/platform";
import { resourceLabel } from "./lib/report";
import { Component, COMPONENT_LABEL, isComponent, NAMESPACE_LABELS, PART_OF, PART_OF_LABEL } from "./lib/rules";
import { HELM_TYPES, isMap, isRemoteComponent, labelsOf, namespaceOf } from "./lib/strings";

const NAMESPACE_TYPE = "kubernetes:core/v1:Namespace";
const SYSTEM_NAMESPACES = new Set(["default", "kube-system", "kube-public", "kube-node-lease"]);
/** Kinds without a namespace. */
const CLUSTER_SCOPED =
    /^kubernetes:(core\/v1:(Namespace|Node|PersistentVolume)|rbac\.authorization\.k8s\.io\/v1:ClusterRole(Binding)?|apiextensions\.k8s\.io\/v1:CustomResourceDefinition|storage\.k8s\.io\/v1:StorageClass|admissionregistration\.k8s\.io\/v1:\w+|scheduling\.k8s\.io\/v1:PriorityClass|networking\.k8s\.io\/v1:IngressClass)$/;

type ResourceLike = Pick<PolicyResource, "type" | "name" | "props"> & { urn?: string };

/** The component a resource belongs to: its component label, or the chart a Helm resource installs. */
export function componentOf(r: ResourceLike): Component | undefined {
    const label = labelsOf(r.props)[COMPONENT_LABEL];
    if (isComponent(label)) return label;
    if (HELM_TYPES.has(r.type) && isMap(r.props)) {
        const chart = chartName(r.props.chart);
        if (isComponent(chart)) return chart;
    }
    return undefined;
}

export interface Misplacement {
    resource: ResourceLike;
    message: string;
}

/** Platform objects outside their component's namespace, and platform namespaces without the platform's labels. */
export function misplacements(resources: ResourceLike[]): Misplacement[] {
    const out: Misplacement[] = [];
    // namespace name → the component its labels give it
    const declared = new Map<string, Component | undefined>();
    for (const r of resources) {
        if (r.type !== NAMESPACE_TYPE) continue;
        const labels = labelsOf(r.props);
        const name =
            isMap(r.props) && isMap(r.props.metadata) && typeof r.props.metadata.name === "string"
                ? r.props.metadata.name
                : r.name;
        declared.set(name, isComponent(labels[COMPONENT_LABEL]) ? labels[COMPONENT_LABEL] : undefined);
        if (labels[PART_OF_LABEL] === PART_OF || labels[COMPONENT_LABEL] !== undefined) {
            const missing = NAMESPACE_LABELS.filter((l) => !labels[l]);
            if (missing.length > 0)
                out.push({
                    resource: r,
                    message: `${resourceLabel(r.type, r.name)}: namespace ${name} lacks the platform labels ${missing.join(", ")}.`,
                });
        }
    }
    for (const r of resources) {
        const helm = HELM_TYPES.has(r.type);
        if (!r.type.startsWith("kubernetes:") || CLUSTER_SCOPED.test(r.type) || r.type.startsWith("pulumi:")) continue;
        // A chart the provider renders has no inputs of its own; its objects are judged one by one.
        if (isRemoteComponent(r.type, r.props)) continue;
        if (!helm && !(isMap(r.props) && isMap(r.props.metadata))) continue;
        const component = componentOf(r);
        const ns = namespaceOf(r.type, r.props);
        const label = resourceLabel(r.type, r.name);
        if (ns === undefined || SYSTEM_NAMESPACES.has(ns)) {
            if (component !== undefined || helm)
                out.push({
                    resource: r,
                    message: `${label}: it is in the ${ns ?? "default"} namespace; platform objects belong in their component's namespace.`,
                });
            continue;
        }
        if (component === undefined || !declared.has(ns)) continue;
        const owner = declared.get(ns);
        if (owner !== component) {
            const home = [...declared.entries()].find(([, c]) => c === component)?.[0];
            out.push({
                resource: r,
                message: `${label}: it belongs to ${component} but is in namespace ${ns}${owner ? `, which is ${owner}'s` : ", which carries no component label"}${home ? `; ${component}'s namespace is ${home}` : ""}.`,
            });
        }
    }
    return out;
}

export const componentNamespace: StackValidationPolicy = {
    name: "component-namespace",
    description:
        "Each platform workload and release sits in its component's namespace, never `default`, and every platform namespace carries the platform's labels (part-of, component, environment, Pod Security Admission).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const { resource, message } of misplacements(args.resources)) reportViolation(message, resource.urn);
    },
};
