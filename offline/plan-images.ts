// Every image a stack's plan runs or launches, with its final reference: the containers of the
// platform's own workloads and Jobs (their specs), and what each chart renders and launches with
// the platform's values (the chart components' `images`, components/chart-images.ts).
import type { ChartImage } from "../components/chart-images";
import { containersOf, isMap } from "../policies/lib/strings";
import type { PlanResource } from "./plan";

export interface PlanImage {
    component: string;
    /** `StatefulSet garage/garage: garage`, or the chart's part. */
    where: string;
    image: string;
}

/** Component resources whose outputs list the images of a chart they install. */
const CHART_COMPONENTS = new Set([
    "lakehouse:query:Trino",
    "lakehouse:ingestion:Airbyte",
    "lakehouse:orchestration:Dagster",
]);

export function planImages(resources: readonly PlanResource[]): PlanImage[] {
    const out: PlanImage[] = [];
    for (const r of resources) {
        if (r.registered) {
            const meta = isMap(r.inputs.metadata) ? r.inputs.metadata : {};
            const kind = r.type.split(":").pop();
            for (const { container } of containersOf(r.type, r.inputs))
                if (typeof container.image === "string")
                    out.push({
                        component: r.component,
                        where: `${kind} ${String(meta.namespace)}/${String(meta.name)}: ${String(container.name)}`,
                        image: container.image,
                    });
        }
        if (CHART_COMPONENTS.has(r.type)) {
            const images = (r.outputs as { images?: ChartImage[] } | undefined)?.images ?? [];
            for (const i of images)
                out.push({ component: r.component, where: `${r.component} chart: ${i.where}`, image: i.image });
        }
    }
    return out;
}
