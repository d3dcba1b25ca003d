import { COMPONENT_LABEL, ENVIRONMENT_LABEL, PART_OF, PART_OF_LABEL } from "../policies/lib/rules";
import type { ComponentName } from "./config";

// The label keys are the policy pack's too (component-namespace reads them): one definition.
export { COMPONENT_LABEL, ENVIRONMENT_LABEL, PART_OF };

/** Labels every object of the platform carries, so it can be found, selected and attributed. */
export function platformLabels(component: ComponentName, environment: string): Record<string, string> {
    return {
        [PART_OF_LABEL]: PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        [COMPONENT_LABEL]: component,
        [ENVIRONMENT_LABEL]: environment,
    };
}

export const ISSUED_BY_LABEL = "lakehouse-platform/issued-by";

/**
 * Labels of an object one component delivers into another's namespace (a credentials Secret): it
 * belongs to the namespace's component, and says which component issued it.
 */
export function deliveredLabels(
    consumer: ComponentName,
    issuer: ComponentName,
    environment: string,
): Record<string, string> {
    return { ...platformLabels(consumer, environment), [ISSUED_BY_LABEL]: issuer };
}

export const ISSUED_FOR_LABEL = "lakehouse-platform/issued-for";

/** Labels of a consumer's credentials Secret: delivered into its namespace, or a handoff in the issuer's. */
export function credentialLabels(
    issuer: ComponentName,
    consumer: ComponentName,
    environment: string,
    handoff = false,
): Record<string, string> {
    return handoff ? handoffLabels(issuer, consumer, environment) : deliveredLabels(consumer, issuer, environment);
}

/**
 * Labels of credentials a component issues for a component another stack deploys (split stacks):
 * the Secret stays in the issuer's namespace, and that stack copies it into its own.
 */
export function handoffLabels(
    issuer: ComponentName,
    consumer: ComponentName,
    environment: string,
): Record<string, string> {
    return { ...platformLabels(issuer, environment), [ISSUED_FOR_LABEL]: consumer };
}
