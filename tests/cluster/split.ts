// Prod's four split stacks under the real engine, brought up in order with the recipe of docs/split-stacks.md
// (file backend: the organization is `organization`), each previewed with the policy pack and
// checked against its offline plan, then destroyed in reverse, with the protected storage stack
// unprotected first as docs/split-stacks.md documents.
import * as fs from "fs";
import * as path from "path";
import { CheckFailed } from "../e2e/report";
import type { Harness } from "./harness";
import {
    checkObjects,
    checkOutputs,
    checkStateMatchesPlan,
    engine,
    expectNoChanges,
    fqn,
    offlinePlan,
    previewWithPack,
    setConfig,
    summary,
    up,
} from "./lifecycle";
import { retainedObjects } from "./retained";
import { namespacesOf } from "./single";

/** The recommended split (docs/split-stacks.md): what each stack deploys and reads. */
export const SPLIT: { stack: string; settings: Record<string, string> }[] = [
    {
        stack: "storage-prod",
        settings: {
            "components[0]": "garage",
            "components[1]": "database",
            "downstreamComponents[0]": "trino",
            "downstreamComponents[1]": "airbyte",
            "downstreamComponents[2]": "dagster",
        },
    },
    { stack: "query-prod", settings: { "components[0]": "trino", "upstreamStacks[0]": fqn("storage-prod") } },
    { stack: "ingestion-prod", settings: { "components[0]": "airbyte", "upstreamStacks[0]": fqn("storage-prod") } },
    {
        stack: "orchestration-prod",
        settings: {
            "components[0]": "dagster",
            "upstreamStacks[0]": fqn("storage-prod"),
            "upstreamStacks[1]": fqn("query-prod"),
            "upstreamStacks[2]": fqn("ingestion-prod"),
        },
    },
];

export async function splitStacks(h: Harness): Promise<void> {
    const repo = h.charts.url;
    // docs/split-stacks.md: each stack file starts as a copy of Pulumi.prod.yaml, then `pulumi stack init` adds its salt.
    for (const { stack, settings } of SPLIT) {
        fs.copyFileSync(path.join(h.project, "Pulumi.prod.yaml"), path.join(h.project, `Pulumi.${stack}.yaml`));
        await h.cli.must(["stack", "init", fqn(stack)]);
        await setConfig(h, stack, {
            environment: "prod",
            ...settings,
            kubeconfig: h.cluster.files.kubeconfig,
            trinoChart: repo,
            airbyteChart: repo,
            dagsterChart: repo,
        });
    }
    const namespaces = new Set<string>();
    const plans = new Map<string, Awaited<ReturnType<typeof offlinePlan>>>();
    for (const { stack } of SPLIT) {
        await previewWithPack(h, stack);
        const plan = await offlinePlan(h, stack);
        plans.set(stack, plan);
        for (const ns of namespacesOf(plan)) namespaces.add(ns);
        await h.report.require(`${stack}: pulumi up`, async () => {
            const log = await up(h, stack);
            return `${summary(log)} in ${log.durationSeconds ?? "?"} s`;
        });
        await checkObjects(h, stack, plan);
        await checkStateMatchesPlan(h, stack, plan);
        await checkOutputs(h, stack, plan, [...namespaces]);
        await expectNoChanges(h, stack, "after up");
    }
    // Down in reverse; the storage stack's data is protected (prod), so the documented step first.
    for (const { stack } of [...SPLIT].reverse()) {
        if (stack === "storage-prod") {
            await h.report.check(`${stack}: pulumi destroy refuses while the data is protected`, async () => {
                const { c } = await engine(h, stack, "destroy (protected)", ["destroy", "--yes", "--skip-preview"], {
                    allowFailure: true,
                });
                const text = c.stdout + c.stderr;
                if (c.code === 0) throw new CheckFailed("destroy succeeded with protectStatefulResources on");
                if (!/protect/i.test(text))
                    throw new CheckFailed(`refused, but not for protection:\n${text.slice(-800)}`);
                return "refused: the resources that hold data are protected";
            });
            await h.cli.must(["state", "unprotect", "--all", "--yes", "--stack", fqn(stack)]);
        }
        await h.report.check(`${stack}: pulumi destroy`, async () => {
            const { log } = await engine(h, stack, "destroy", ["destroy", "--yes", "--skip-preview"]);
            return summary(log);
        });
    }
    await h.report.check(
        "split: after destroying every stack, only what the storage stack retains is left",
        async () => {
            const retained = retainedObjects(plans.get("storage-prod")!).map((r) => `${r.kind} ${r.id}`);
            const left: string[] = [];
            for (const ns of namespaces) if (await h.kube.get("Namespace", ns)) left.push(`Namespace ${ns}`);
            const unexpected = left.filter((l) => !retained.includes(l));
            if (unexpected.length > 0) throw new CheckFailed(`left: ${unexpected.join(", ")}`);
            return `${left.length} namespaces left, all retained by storage-prod: ${left.join(", ")}`;
        },
    );
}
