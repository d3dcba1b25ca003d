// What `retainStatefulResources` keeps in the cluster when the stack is destroyed, read from the
// offline plan: every Kubernetes object the program registers with `retainOnDelete`.
import { kindOfType } from "./lifecycle";
import type { Plan } from "../../offline/plan";

export function retainedObjects(plan: Plan): { kind: string; id: string }[] {
    return plan.resources
        .filter(
            (r) =>
                r.retainOnDelete &&
                r.custom &&
                r.type.startsWith("kubernetes:") &&
                !r.type.startsWith("kubernetes:helm"),
        )
        .map((r) => {
            const meta = r.inputs.metadata as { name: string; namespace?: string };
            return { kind: kindOfType(r.type), id: meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name };
        });
}
