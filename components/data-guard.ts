// What the data lives on, and the config changes that would lose it or leave it behind. The stack
// publishes the settings its volumes, namespaces and buckets depend on (the output
// `dataSettings`); the next run reads them back (its own stack's outputs, through a
// StackReference) and compares. A change Kubernetes cannot apply in place to what holds data (a
// namespace rename deletes the namespace with its volumes; a StatefulSet's volume size or class
// is immutable, so it would be replaced and keep its old volumes; a removed component deletes its
// namespace; a renamed bucket leaves the data in the old one) is refused, naming the key, in a
// stack that keeps its data (protectStatefulResources or retainStatefulResources), unless the
// stack lists the key in `allowDataChanges` after the documented procedure. Elsewhere it proceeds,
// and the plan says loudly what it does.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./config";
import type { ConfigProblem, PlatformConfig } from "./config";

export const DATA_SETTINGS_OUTPUT = "dataSettings";

/** The settings the data depends on, as the stack output `dataSettings` publishes them. */
export interface DataSettings {
    /** The environment label: the volumes' templates carry it, and they are immutable. */
    environment?: string;
    /** Components deployed by the stack that hold data (garage, database). */
    holders: ("garage" | "database")[];
    garage?: {
        namespace: string;
        dataSize: string;
        metadataSize: string;
        storageClass: string;
        buckets: { lakehouse: string; airbyte: string };
    };
    database?: { namespace: string; storageSize: string; storageClass: string };
}

export function dataSettingsOf(cfg: PlatformConfig): DataSettings {
    const storageClass = cfg.storageClass ?? "";
    return {
        environment: cfg.environment,
        holders: cfg.components.filter((c): c is "garage" | "database" => c === "garage" || c === "database"),
        ...(cfg.components.includes("garage")
            ? {
                  garage: {
                      namespace: cfg.namespaces.garage,
                      dataSize: cfg.garage.dataSize,
                      metadataSize: cfg.garage.metadataSize,
                      storageClass,
                      buckets: { ...cfg.buckets },
                  },
              }
            : {}),
        ...(cfg.components.includes("database")
            ? {
                  database: {
                      namespace: cfg.namespaces.database,
                      storageSize: cfg.database.postgres.storageSize,
                      storageClass,
                  },
              }
            : {}),
    };
}

export type DataVerdict = "deletes data" | "leaves data behind" | "replaces, volumes kept";

export interface DataChange {
    /** The config key (without the project prefix). */
    key: string;
    from: unknown;
    to: unknown;
    verdict: DataVerdict;
    /** What happens, in words. */
    what: string;
    /** The docs' section for doing it safely (docs/day-two.md). */
    procedure: string;
}

const MOVE_NAMESPACE = 'docs/day-two.md: "Moving a component to another namespace"';
const GROW_VOLUME = 'docs/day-two.md: "Growing a volume"';
const MOVE_CLASS = 'docs/day-two.md: "Moving the volumes to another StorageClass"';
const RENAME_BUCKET = 'docs/day-two.md: "Renaming a bucket"';
const REMOVE_HOLDER = 'docs/day-two.md: "Removing Garage or PostgreSQL from a stack"';
const RELABEL = 'docs/day-two.md: "Renaming the environment"';

/** Every change between the deployed settings and the new ones that touches what holds data. */
export function dataChanges(deployed: DataSettings, next: DataSettings): DataChange[] {
    const out: DataChange[] = [];
    const diff = (key: string, from: unknown, to: unknown, verdict: DataVerdict, what: string, procedure: string) => {
        if (from !== undefined && to !== undefined && JSON.stringify(from) !== JSON.stringify(to))
            out.push({ key, from, to, verdict, what, procedure });
    };
    for (const holder of deployed.holders) {
        if (!next.holders.includes(holder))
            out.push({
                key: "components",
                from: deployed.holders,
                to: next.holders,
                verdict: "deletes data",
                what: `${holder} leaves the stack: its namespace ${deployed[holder]?.namespace} and the volumes in it are deleted (kept in the cluster, orphaned, when retainStatefulResources is on)`,
                procedure: REMOVE_HOLDER,
            });
    }
    if (deployed.holders.length > 0)
        diff(
            "environment",
            deployed.environment,
            next.environment,
            "replaces, volumes kept",
            "the volumes' templates carry the environment label, and a StatefulSet's cannot change: the StatefulSets are replaced and start again on their volumes (a stack that keeps its data never deletes a StatefulSet itself: the procedure does)",
            RELABEL,
        );
    const [og, ng] = [deployed.garage, next.garage];
    if (og && ng) {
        diff(
            "garageNamespace",
            og.namespace,
            ng.namespace,
            "deletes data",
            `Garage moves to namespace ${ng.namespace}: ${og.namespace} is deleted with its volumes, and Garage starts empty`,
            MOVE_NAMESPACE,
        );
        diff(
            "garageDataSize",
            og.dataSize,
            ng.dataSize,
            "replaces, volumes kept",
            "a StatefulSet's volume size cannot change: Garage's StatefulSet is replaced and its nodes start again on their volumes, at the size the volumes have (a stack that keeps its data never deletes the StatefulSet itself: the procedure does)",
            GROW_VOLUME,
        );
        diff(
            "garageMetadataSize",
            og.metadataSize,
            ng.metadataSize,
            "replaces, volumes kept",
            "a StatefulSet's volume size cannot change: Garage's StatefulSet is replaced and its nodes start again on their volumes, at the size the volumes have (a stack that keeps its data never deletes the StatefulSet itself: the procedure does)",
            GROW_VOLUME,
        );
        diff(
            "storageClass",
            og.storageClass,
            ng.storageClass,
            "replaces, volumes kept",
            "a volume cannot change its class: the StatefulSets are replaced and keep their volumes in the old class (a stack that keeps its data never deletes a StatefulSet itself: the procedure does)",
            MOVE_CLASS,
        );
        diff(
            "lakehouseBucket",
            og.buckets.lakehouse,
            ng.buckets.lakehouse,
            "leaves data behind",
            `a new, empty bucket ${ng.buckets.lakehouse}: the warehouse stays in ${og.buckets.lakehouse}, which nothing reads any more`,
            RENAME_BUCKET,
        );
        diff(
            "airbyteBucket",
            og.buckets.airbyte,
            ng.buckets.airbyte,
            "leaves data behind",
            `a new, empty bucket ${ng.buckets.airbyte}: Airbyte's state stays in ${og.buckets.airbyte}`,
            RENAME_BUCKET,
        );
    }
    const [od, nd] = [deployed.database, next.database];
    if (od && nd) {
        diff(
            "databaseNamespace",
            od.namespace,
            nd.namespace,
            "deletes data",
            `PostgreSQL moves to namespace ${nd.namespace}: ${od.namespace} is deleted with its volume, and every database starts empty`,
            MOVE_NAMESPACE,
        );
        diff(
            "postgresStorageSize",
            od.storageSize,
            nd.storageSize,
            "replaces, volumes kept",
            "a StatefulSet's volume size cannot change: PostgreSQL's StatefulSet is replaced and starts again on its volume, at the size the volume has (a stack that keeps its data never deletes the StatefulSet itself: the procedure does)",
            GROW_VOLUME,
        );
        if (!(og && ng && og.storageClass !== ng.storageClass))
            diff(
                "storageClass",
                od.storageClass,
                nd.storageClass,
                "replaces, volumes kept",
                "a volume cannot change its class: the StatefulSets are replaced and keep their volumes in the old class (a stack that keeps its data never deletes a StatefulSet itself: the procedure does)",
                MOVE_CLASS,
            );
    }
    return out;
}

/**
 * The changes a stack that keeps its data refuses (each a config problem naming the key), and
 * those it makes (allowed by `allowDataChanges`, or in a stack that keeps nothing).
 */
export function judgeDataChanges(
    cfg: PlatformConfig,
    changes: DataChange[],
): { refused: ConfigProblem[]; proceeding: DataChange[] } {
    const keeps = cfg.stateful.protect || cfg.stateful.retainOnDelete;
    const refused: ConfigProblem[] = [];
    const proceeding: DataChange[] = [];
    for (const c of changes) {
        if (!keeps || cfg.allowDataChanges.includes(c.key)) {
            proceeding.push(c);
            continue;
        }
        refused.push({
            key: `${cfg.project}:${c.key}`,
            value: c.to,
            expected: `the deployed ${JSON.stringify(c.from)}, until its procedure is done: ${c.what}. This stack keeps its data (${cfg.stateful.protect ? "protectStatefulResources" : "retainStatefulResources"}): follow ${c.procedure}, then add ${c.key} to ${cfg.project}:allowDataChanges`,
        });
    }
    return { refused, proceeding };
}

/** A warning for a change that proceeds: loud, with what it does to the data. */
export function dataChangeWarning(c: DataChange): string {
    return `${c.key} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)} ${c.verdict.toUpperCase()}: ${c.what} (${c.procedure})`;
}

/** This stack's fully qualified name, as a StackReference takes it. */
export function ownStackName(): string {
    return `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
}

/** The data settings of this stack's last deployment (its own outputs), or undefined before the first. */
export async function deployedDataSettings(): Promise<DataSettings | undefined> {
    const self = new pulumi.StackReference("deployed", { name: ownStackName() });
    const details = await self.getOutputDetails(DATA_SETTINGS_OUTPUT);
    const value = (details.value ?? details.secretValue) as DataSettings | undefined;
    return value && Array.isArray(value.holders) ? value : undefined;
}

/**
 * Stops the run before any resource when the config would lose data or leave it behind in a
 * stack that keeps it (ConfigError, naming each key); warns for each such change that proceeds.
 */
export function guardData(cfg: PlatformConfig, deployed: DataSettings | undefined): DataChange[] {
    if (!deployed) return [];
    const { refused, proceeding } = judgeDataChanges(cfg, dataChanges(deployed, dataSettingsOf(cfg)));
    if (refused.length > 0) throw new ConfigError(cfg.stack, refused);
    for (const c of proceeding) void pulumi.log.warn(dataChangeWarning(c));
    return proceeding;
}
