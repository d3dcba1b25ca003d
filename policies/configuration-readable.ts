import { ResourceValidationPolicy } from "@pulumi/policy";
import { resourceLabel } from "./lib/report";
import { configStrings, MAX_DEPTH, MAX_STRING, Unreadable } from "./lib/strings";

/** The parts of a resource's configuration the policies cannot read (too deep, too long). */
export function unreadableParts(type: string, props: unknown): Unreadable[] {
    const out: Unreadable[] = [];
    configStrings(
        type,
        props,
        () => undefined,
        (u) => out.push(u),
    );
    return out;
}

export const configurationReadable: ResourceValidationPolicy = {
    name: "configuration-readable",
    description: `Every value a resource hands to software can be read by the address and credential policies: nothing nested deeper than ${MAX_DEPTH} levels, no string longer than ${MAX_STRING.toLocaleString("en-US")} characters. What cannot be read cannot be judged, so it does not pass.`,
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        for (const u of unreadableParts(args.type, args.props)) {
            reportViolation(
                `${resourceLabel(args.type, args.name)}: ${u.path} holds ${u.reason}, which the policies cannot read, so its addresses and credentials are not judged; flatten it, or move it out of the resource's configuration.`,
            );
        }
    },
};
