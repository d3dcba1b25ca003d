import type { ComponentName } from "./config";

export const PART_OF = "lakehouse-platform";
export const COMPONENT_LABEL = "lakehouse-platform/component";
export const ENVIRONMENT_LABEL = "lakehouse-platform/environment";

/** Labels every object of the platform carries, so it can be found, selected and attributed. */
export function platformLabels(component: ComponentName, environment: string): Record<string, string> {
    return {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        [COMPONENT_LABEL]: component,
        [ENVIRONMENT_LABEL]: environment,
    };
}
