import { ResourceValidationPolicy } from "@pulumi/policy";
import { CONFIG_SCHEMA, PlatformPolicyConfig, policyConfig } from "./lib/config";
import { findHostRefs, HostRef } from "./lib/hosts";
import { fqdn, HostForm, hostForm, platformService } from "./lib/platform";
import { references, where } from "./lib/references";
import { resourceLabel } from "./lib/report";
import { namespaceOf, rewriteConfigStrings } from "./lib/strings";
import { isAllowedHost } from "./lib/config";

export interface CrossNamespaceIssue {
    /** Why the host does not resolve from another namespace. */
    problem: string;
    /** The full name to use, when the target is unambiguous. */
    fix?: string;
}

/**
 * What is wrong with a host that names a platform service, seen from `resourceNamespace`, or
 * undefined when nothing is: a short name or a namespace-only name of a Service in another
 * namespace, or a full name without the cluster domain.
 */
export function crossNamespaceIssue(
    form: HostForm,
    resourceNamespace: string | undefined,
    config: PlatformPolicyConfig,
): CrossNamespaceIssue | undefined {
    const domain = config.clusterDomain;
    switch (form.form) {
        case "short": {
            const service = platformService(form.service);
            if (!service) return undefined;
            const target = config.namespaces[service.component];
            if (resourceNamespace === target) return undefined;
            // The fix is certain only when the policy's config describes this stack's namespaces.
            const known =
                resourceNamespace !== undefined && Object.values(config.namespaces).includes(resourceNamespace);
            return {
                problem: `"${form.service}" is a short name: it resolves only inside the namespace of the ${service.component} component`,
                fix: known ? fqdn(form.service, target, domain) : undefined,
            };
        }
        case "namespace-only":
            if (form.namespace === resourceNamespace) return undefined;
            return {
                problem: `"${form.service}.${form.namespace}" names the namespace but not the cluster domain: it depends on the caller's DNS search path`,
                fix: fqdn(form.service, form.namespace, domain),
            };
        case "svc-no-domain":
            if (form.namespace === resourceNamespace && !form.pod) return undefined;
            return {
                problem: `the name lacks the cluster domain "${domain}": it depends on the caller's DNS search path`,
                fix: fqdn(form.service, form.namespace, domain, form.pod),
            };
        default:
            return undefined;
    }
}

/** Rewrites, in one string, every host whose fix is known. */
function rewrite(
    text: string,
    key: string,
    resourceNamespace: string | undefined,
    config: PlatformPolicyConfig,
): string {
    const fixes: [HostRef, string][] = [];
    for (const ref of findHostRefs(text, key)) {
        if (isAllowedHost(ref.host, config)) continue;
        const issue = crossNamespaceIssue(hostForm(ref.host), resourceNamespace, config);
        if (issue?.fix) fixes.push([ref, issue.fix]);
    }
    let out = text;
    for (const [ref, fix] of fixes.sort((a, b) => b[0].start - a[0].start))
        out = out.slice(0, ref.start) + fix + out.slice(ref.end);
    return out;
}

export const crossNamespaceFqdn: ResourceValidationPolicy = {
    name: "cross-namespace-fqdn",
    description:
        "A platform service referred to from another namespace must be named <service>.<namespace>.svc.<clusterDomain>: a short name (garage:3900) or a namespace-only name (garage.garage:3900) resolves only through the caller's DNS search path.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    remediationSteps:
        "Use the full name the policy gives, or run the pack with this policy's enforcement level set to `remediate` to have it rewritten.",
    validateResource: (args, reportViolation) => {
        const config = policyConfig(args);
        const ns = namespaceOf(args.type, args.props);
        for (const { found, ref, form } of references(args.type, args.props, config)) {
            const issue = crossNamespaceIssue(form, ns, config);
            if (!issue) continue;
            const fix = issue.fix
                ? `use "${issue.fix}"`
                : `use <service>.<namespace>.svc.${config.clusterDomain} (set this policy's \`namespaces\` to the stack's to have the name given)`;
            reportViolation(
                `${resourceLabel(args.type, args.name)} (namespace ${ns ?? "unset"}): ${where(found, ref)}: ${issue.problem}; ${fix}.`,
            );
        }
    },
    // Rewrites in place: the props are the SDK's proxy, which keeps a rewritten secret secret. What
    // it cannot fix (a name whose target namespace is unknown) stays, and the engine then reports it
    // as mandatory.
    remediateResource: (args) => {
        const config = policyConfig(args);
        const ns = namespaceOf(args.type, args.props);
        const changed = rewriteConfigStrings(args.type, args.props, (value, key) => rewrite(value, key, ns, config));
        return changed ? args.props : undefined;
    },
};
