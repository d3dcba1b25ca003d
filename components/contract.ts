// The stack outputs as a contract: what every stack publishes about the components it deploys, and
// what a stack that deploys only some components reads from the stacks that deploy the others.
// Addresses, namespaces and the names of credential Secrets, never a credential. Versioned: a field
// is added without a version change; renaming or removing one, or changing its meaning, is a new
// version, and a consumer refuses a contract version it was not written for.
//
// Inside the program a contract is the full form (ComponentContracts: every service as an
// AddressEntry, every consumer's credentials). A stack publishes the short form (PublishedContracts,
// version 2): each service as the one URL (or host:port) clients use, and credentials only for the
// consumers another stack deploys. `pulumi up` prints every stack output, so the short form is
// what keeps them on one screen; the reader turns it back into the full form through
// addresses.ts, the one place that derives an address.
import * as pulumi from "@pulumi/pulumi";
import { AddressEntry, endpoint, entryAt, PLATFORM_SERVICES, ServiceId } from "./addresses";
import { COMPONENTS, ComponentName } from "./config";
import { DATABASE_LOGIN_CONSUMERS, GARAGE_KEY_CONSUMERS } from "./credentials";
import type { DatabaseCredentials } from "./postgres";

/** The version this program publishes. */
export const CONTRACT_VERSION = 2;
/** The versions this program reads from another stack: 1 published every service as an AddressEntry. */
export const READABLE_CONTRACT_VERSIONS: readonly number[] = [1, 2];

/** Where a consumer's Garage key is: a Secret and the keys of its two fields. */
export interface GarageCredentialsRef {
    namespace: string;
    secretName: string;
    accessKeyIdKey: string;
    secretAccessKeyKey: string;
    /** Buckets the key may read and write. */
    buckets: string[];
    /** The key's generation (`credentialGenerations`); stacks deployed before rotation existed omit it: 1. */
    generation?: number;
}

/** Where a consumer's PostgreSQL login is, and which database and role it is for. */
export type DatabaseCredentialsRef = DatabaseCredentials;

export interface GarageContract {
    namespace: string;
    services: { s3: AddressEntry };
    region: string;
    buckets: { lakehouse: string; airbyte: string };
    /** Consumer name (`trino`, `hive-metastore`, ...) → its key's Secret. */
    credentials: Record<string, GarageCredentialsRef>;
}

export interface DatabaseContract {
    namespace: string;
    services: { postgres: AddressEntry; hiveMetastore: AddressEntry };
    /** The Iceberg warehouse location the metastore gives new schemas. */
    warehouse: string;
    /** Consumer name → its login's Secret. */
    credentials: Record<string, DatabaseCredentialsRef>;
}

export interface TrinoContract {
    namespace: string;
    services: { coordinator: AddressEntry };
    /** The Iceberg catalog (dbt's `database`). */
    catalog: string;
}

export interface AirbyteContract {
    namespace: string;
    services: { server: AddressEntry };
    /** Airbyte's public API, for orchestrators. */
    apiUrl: string;
}

export interface DagsterContract {
    namespace: string;
    services: { webserver: AddressEntry };
}

export interface ComponentContracts {
    garage: GarageContract;
    database: DatabaseContract;
    trino: TrinoContract;
    airbyte: AirbyteContract;
    dagster: DagsterContract;
}

/** The contract in its full form, as the program and the LakehousePlatform component's outputs hold it. */
export interface PlatformOutputs {
    contractVersion: number;
    environment: string;
    clusterDomain: string;
    /** The components this stack deploys. */
    components: Partial<ComponentContracts>;
}

/** A component's contract as a stack publishes it: each service as its URL (host:port for PostgreSQL). */
export type PublishedContract<C extends ComponentName> = Omit<ComponentContracts[C], "services"> & {
    services: Record<keyof ComponentContracts[C]["services"], string>;
};

export type PublishedContracts = { [C in ComponentName]: PublishedContract<C> };

/** The stack outputs of the contract, as `pulumi stack output --json` shows them (version 2). */
export interface PublishedOutputs {
    contractVersion: number;
    environment: string;
    clusterDomain: string;
    components: Partial<PublishedContracts>;
}

/** Each component's services in the contract, by the key it is published under. */
export const CONTRACT_SERVICES: { [C in ComponentName]: Record<keyof ComponentContracts[C]["services"], ServiceId> } = {
    garage: { s3: "garageS3" },
    database: { postgres: "postgres", hiveMetastore: "hiveMetastore" },
    trino: { coordinator: "trino" },
    airbyte: { server: "airbyteServer" },
    dagster: { webserver: "dagsterWebserver" },
};

/** The components each consumer of credentials belongs to (`trino` → trino, `hive-metastore` → database). */
const CONSUMER_COMPONENT: Record<"garage" | "database", Record<string, ComponentName>> = {
    garage: Object.fromEntries(GARAGE_KEY_CONSUMERS.map((c) => [c.name, c.component])),
    database: Object.fromEntries(DATABASE_LOGIN_CONSUMERS.map((c) => [c.name, c.component])),
};

/**
 * The short form a stack publishes: every service as the address clients use, and the credentials
 * of the consumers this stack does not deploy (the only ones another stack reads; a consumer
 * deployed here finds its Secret in its own namespace, docs/outputs.md).
 */
export function publishContract(full: PlatformOutputs, deployed: readonly ComponentName[]): PublishedOutputs {
    const components: Record<string, unknown> = {};
    for (const [name, contract] of Object.entries(full.components) as unknown as [
        ComponentName,
        Record<string, unknown>,
    ][]) {
        const services = contract.services as Record<string, AddressEntry>;
        const short: Record<string, unknown> = {
            ...contract,
            services: Object.fromEntries(Object.entries(services).map(([k, e]) => [k, e.url])),
        };
        if (name === "garage" || name === "database") {
            const credentials = contract.credentials as Record<string, unknown>;
            short.credentials = Object.fromEntries(
                Object.entries(credentials).filter(
                    ([consumer]) => !deployed.includes(CONSUMER_COMPONENT[name][consumer]),
                ),
            );
        }
        components[name] = short;
    }
    return {
        contractVersion: CONTRACT_VERSION,
        environment: full.environment,
        clusterDomain: full.clusterDomain,
        components,
    };
}

/**
 * A published service address back into its AddressEntry: the host must be
 * `<service>.<namespace>.svc.<clusterDomain>` in the component's namespace and the stack's domain,
 * and the address must be the one addresses.ts derives from those parts; undefined otherwise.
 */
function serviceFromAddress(
    id: ServiceId,
    published: string,
    namespace: string,
    clusterDomain: string,
): AddressEntry | undefined {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(published)?.[1];
    const match = /^([^/:]+):(\d+)$/.exec(scheme === undefined ? published : published.slice(scheme.length + 3));
    const suffix = `.${namespace}.svc.${clusterDomain}`;
    if (!match || match[1].length <= suffix.length || !match[1].endsWith(suffix)) return undefined;
    const service = match[1].slice(0, -suffix.length);
    const entry = entryAt(id, endpoint({ service, namespace, port: Number(match[2]) }, clusterDomain));
    return entry.url === published ? entry : undefined;
}

/** A referenced stack's outputs cannot serve this stack. */
export class ContractError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "ContractError";
    }
}

/** What a consumer reads of each component: field paths below `components.<component>`. */
const REQUIRED: Record<ComponentName, { strings: string[]; maps: string[] }> = {
    garage: { strings: ["namespace", "region", "buckets.lakehouse", "buckets.airbyte"], maps: ["credentials"] },
    database: { strings: ["namespace", "warehouse"], maps: ["credentials"] },
    trino: { strings: ["namespace", "catalog"], maps: [] },
    airbyte: { strings: ["namespace", "apiUrl"], maps: [] },
    dagster: { strings: ["namespace"], maps: [] },
};

const SERVICE_FIELDS = {
    service: "string",
    namespace: "string",
    port: "number",
    clusterDomain: "string",
    host: "string",
    hostPort: "string",
    url: "string",
} as const;

function at(value: unknown, path: string): unknown {
    let v = value;
    for (const part of path.split(".")) {
        if (typeof v !== "object" || v === null) return undefined;
        v = (v as Record<string, unknown>)[part];
    }
    return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A component's contract into a table of them, typed by the component it is for. */
export function setContract<C extends ComponentName>(
    table: Partial<ComponentContracts>,
    component: C,
    contract: ComponentContracts[C],
): void {
    table[component] = contract;
}

/**
 * A published contract in its full form, or undefined when it lacks a field this program reads
 * (each added to `problems`). Version 1 published every service as an AddressEntry; version 2
 * publishes its address, which must be the one addresses.ts derives in the component's namespace
 * and the stack's cluster domain.
 */
function fullContract<C extends ComponentName>(
    component: C,
    contract: unknown,
    version: number,
    clusterDomain: unknown,
    problems: string[],
): ComponentContracts[C] | undefined {
    const before = problems.length;
    const need = REQUIRED[component];
    const base = `components.${component}`;
    for (const path of need.strings) if (typeof at(contract, path) !== "string") problems.push(`"${base}.${path}"`);
    for (const path of need.maps) if (!isRecord(at(contract, path))) problems.push(`"${base}.${path}"`);
    const services: Record<string, AddressEntry> = {};
    for (const [svc, id] of Object.entries<ServiceId>(CONTRACT_SERVICES[component])) {
        const entry = at(contract, `services.${svc}`);
        if (version === 1) {
            const missing = Object.entries(SERVICE_FIELDS).filter(([field, type]) => typeof at(entry, field) !== type);
            for (const [field] of missing) problems.push(`"${base}.services.${svc}.${field}"`);
            if (missing.length === 0) services[svc] = entry as AddressEntry;
            continue;
        }
        const namespace = at(contract, "namespace");
        const full =
            typeof entry === "string" && typeof namespace === "string" && typeof clusterDomain === "string"
                ? serviceFromAddress(id, entry, namespace, clusterDomain)
                : undefined;
        if (full === undefined)
            problems.push(
                `"${base}.services.${svc}" (${JSON.stringify(entry)}, not the ${PLATFORM_SERVICES[id].description}'s address in namespace ${JSON.stringify(namespace)} and domain ${JSON.stringify(clusterDomain)})`,
            );
        else services[svc] = full;
    }
    if (problems.length > before) return undefined;
    return { ...(contract as object), services } as unknown as ComponentContracts[C];
}

/**
 * Checks the outputs of a referenced stack (as `StackReference` reads them) and returns the
 * contracts of the components it deploys. Throws ContractError naming the stack and the output
 * that is missing or outdated.
 */
export function readContract(
    stack: string,
    outputs: Record<string, unknown>,
): { environment: string; clusterDomain: string; components: Partial<ComponentContracts> } {
    const version = outputs.contractVersion;
    if (version === undefined) {
        throw new ContractError(
            `stack ${stack} publishes no output "contractVersion": it is not a lakehouse-platform stack, or it was last deployed by a version before the output contract; run \`pulumi up\` on ${stack} with this version first`,
        );
    }
    if (typeof version !== "number" || !Number.isInteger(version)) {
        throw new ContractError(
            `stack ${stack}'s output "contractVersion" is ${JSON.stringify(version)}, not a contract version (an integer)`,
        );
    }
    if (version < Math.min(...READABLE_CONTRACT_VERSIONS)) {
        throw new ContractError(
            `stack ${stack} publishes output contract version ${version}; this program reads version ${READABLE_CONTRACT_VERSIONS.join(" or ")}: update ${stack} to this version of lakehouse-platform and \`pulumi up\` it first`,
        );
    }
    if (version > CONTRACT_VERSION) {
        throw new ContractError(
            `stack ${stack} publishes output contract version ${version}, newer than the version ${CONTRACT_VERSION} this program reads: update this stack's lakehouse-platform to the version ${stack} runs`,
        );
    }
    const problems: string[] = [];
    for (const key of ["environment", "clusterDomain"]) {
        if (typeof outputs[key] !== "string") problems.push(`"${key}"`);
    }
    const components = outputs.components;
    if (!isRecord(components)) problems.push(`"components"`);
    const found: Partial<ComponentContracts> = {};
    if (isRecord(components)) {
        for (const [name, contract] of Object.entries(components)) {
            if (!(COMPONENTS as readonly string[]).includes(name)) continue;
            const component = name as ComponentName;
            const full = fullContract(component, contract, version, outputs.clusterDomain, problems);
            if (full !== undefined) setContract(found, component, full);
        }
    }
    if (problems.length > 0) {
        throw new ContractError(
            `stack ${stack} publishes contract version ${version} but lacks the output${problems.length === 1 ? "" : "s"} ${problems.join(", ")}: \`pulumi up\` ${stack} again, or check that it runs this version of lakehouse-platform`,
        );
    }
    return {
        environment: outputs.environment as string,
        clusterDomain: outputs.clusterDomain as string,
        components: found,
    };
}

/**
 * The credentials each component's workloads need from another component: who issues them, and
 * the consumer's name there (the metastore's own database login never leaves its component).
 */
export const CREDENTIALS_NEEDED = Object.fromEntries(
    COMPONENTS.map((component) => [
        component,
        [
            ...GARAGE_KEY_CONSUMERS.filter((c) => c.component === component).map((c) => ({
                issuer: "garage" as const,
                consumer: c.name,
            })),
            ...DATABASE_LOGIN_CONSUMERS.filter((c) => c.component === component && component !== "database").map(
                (c) => ({ issuer: "database" as const, consumer: c.name }),
            ),
        ],
    ]),
) as Record<ComponentName, { issuer: "garage" | "database"; consumer: string }[]>;

const CREDENTIAL_FIELDS = {
    garage: ["namespace", "secretName", "accessKeyIdKey", "secretAccessKeyKey"],
    database: ["namespace", "secretName", "usernameKey", "passwordKey", "database", "role"],
} as const;

/** A consumer's credentials from an upstream contract; throws ContractError when they are not there. */
export function upstreamCredentials<T>(
    stack: string,
    issuer: "garage" | "database",
    credentials: Record<string, T>,
    consumer: string,
    component: ComponentName,
    project: string,
): T {
    const ref = credentials[consumer];
    const output = `components.${issuer}.credentials.${consumer}`;
    if (ref === undefined || !isRecord(ref)) {
        const what = issuer === "garage" ? "Garage key" : "PostgreSQL login";
        throw new ContractError(
            `stack ${stack} publishes no ${what} for ${consumer} (output "${output}"): add ${component} to ${project}:downstreamComponents on ${stack} and \`pulumi up\` it, so it issues one`,
        );
    }
    const missing = CREDENTIAL_FIELDS[issuer].filter((f) => typeof ref[f] !== "string");
    if (missing.length > 0) {
        throw new ContractError(
            `stack ${stack} lacks the output${missing.length === 1 ? "" : "s"} ${missing.map((f) => `"${output}.${f}"`).join(", ")}: \`pulumi up\` ${stack} again`,
        );
    }
    return ref;
}
