import { ResourceValidationPolicy } from "@pulumi/policy";
import { CONFIG_SCHEMA, policyConfig } from "./lib/config";
import { isIpLiteral, isLocalOrUnspecified } from "./lib/hosts";
import { references, where } from "./lib/references";
import { resourceLabel } from "./lib/report";

export const noIpEndpoints: ResourceValidationPolicy = {
    name: "no-ip-endpoints",
    description: "No literal IP address as an endpoint: Pod and Service IPs change; reach a Service by its DNS name.",
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args, reportViolation) => {
        const config = policyConfig(args);
        for (const { found, ref } of references(args.type, args.props, config)) {
            if (!isIpLiteral(ref.host) || isLocalOrUnspecified(ref.host)) continue;
            reportViolation(
                `${resourceLabel(args.type, args.name)}: ${where(found, ref)}: ${ref.host} is an IP address; use the Service's DNS name (or list the address in this policy's allowedHosts if it is outside the cluster and fixed).`,
            );
        }
    },
};
