import { ResourceValidationPolicy } from "@pulumi/policy";
import { resourceLabel, show } from "./lib/report";
import { isExactVersion } from "./lib/rules";
import { HELM_TYPES, isMap, isRemoteComponent } from "./lib/strings";

/** A chart from a local directory or archive is pinned by its files. */
function isLocalChart(chart: unknown): boolean {
    return typeof chart === "string" && (chart.startsWith(".") || chart.startsWith("/") || chart.endsWith(".tgz"));
}

export const chartVersionPinned: ResourceValidationPolicy = {
    name: "chart-version-pinned",
    description:
        "A Helm chart from a repository is installed at an exact version, so a new chart release cannot change a stack behind a review.",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        // A helm.v4.Chart reaches the pack with no inputs (the provider builds it): its version is not
        // visible, and the objects it renders always carry the version they came from.
        if (
            !HELM_TYPES.has(args.type) ||
            !isMap(args.props) ||
            isRemoteComponent(args.type, args.props) ||
            isLocalChart(args.props.chart)
        )
            return;
        const version = args.props.version;
        if (typeof version !== "string" || !isExactVersion(version)) {
            reportViolation(
                `${resourceLabel(args.type, args.name)}: chart ${show(args.props.chart)} has version ${show(version ?? null)}; pin an exact version such as 1.42.2.`,
            );
        }
    },
};
