import { ResourceValidationPolicy } from "@pulumi/policy";
import { resourceLabel } from "./lib/report";
import { isPinnedImage } from "./lib/rules";
import { containersOf, HELM_TYPES, isMap } from "./lib/strings";

/** Image settings in Helm values: `image: repo:tag` strings, and `{repository, tag}` maps (an empty tag means the chart's own version). */
function unpinnedInValues(value: unknown, path: string, out: string[], depth = 0): void {
    if (depth > 32 || typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
        value.forEach((v, i) => unpinnedInValues(v, `${path}[${i}]`, out, depth + 1));
        return;
    }
    for (const [k, v] of Object.entries(value)) {
        const p = `${path}.${k}`;
        if (k === "image" && typeof v === "string" && v !== "" && !isPinnedImage(v))
            out.push(`${p} = ${JSON.stringify(v)}`);
        else if (k === "tag" && (v === "latest" || v === "main" || v === "master"))
            out.push(`${p} = ${JSON.stringify(v)}`);
        else unpinnedInValues(v, p, out, depth + 1);
    }
}

export const imageTagPinned: ResourceValidationPolicy = {
    name: "image-tag-pinned",
    description:
        "Every container image is pinned by a tag other than `latest`, or by digest, so a redeploy runs the image that was reviewed.",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        const found: string[] = [];
        for (const { path, container } of containersOf(args.type, args.props)) {
            if (typeof container.image === "string" && !isPinnedImage(container.image))
                found.push(`${path}.image = ${JSON.stringify(container.image)}`);
        }
        if (HELM_TYPES.has(args.type) && isMap(args.props)) unpinnedInValues(args.props.values, "values", found);
        for (const f of found)
            reportViolation(
                `${resourceLabel(args.type, args.name)}: ${f}: pin the image by a version tag or a digest.`,
            );
    },
};
