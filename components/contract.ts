// The stack outputs as a contract: what every stack publishes about the components it deploys, and
// what a stack that deploys only some components reads from the stacks that deploy the others.
// Addresses, namespaces and the names of credential Secrets, never a credential. Versioned: a field
// is added without a version change; renaming or removing one, or changing its meaning, is a new
// version, and a consumer refuses a contract version it was not written for.
import * as pulumi from "@pulumi/pulumi";
import { AddressEntry } from "./addresses";
import { COMPONENTS, ComponentName } from "./config";
import { DATABASE_LOGIN_CONSUMERS, GARAGE_KEY_CONSUMERS } from "./credentials";
import type { DatabaseCredentials } from "./postgres";

export const CONTRACT_VERSION = 1;

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

/** The stack outputs every stack publishes (the contract part; `addresses` and `wiring` are views). */
export interface PlatformOutputs {
    contractVersion: number;
    environment: string;
    clusterDomain: string;
    /** The components this stack deploys. */
    components: Partial<ComponentContracts>;
}

/** A referenced stack's outputs cannot serve this stack. */
export class ContractError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "ContractError";
    }
}

/** What a consumer reads of each component: field paths below `components.<component>`. */
const REQUIRED: Record<ComponentName, { strings: string[]; services: string[]; maps: string[] }> = {
    garage: {
        strings: ["namespace", "region", "buckets.lakehouse", "buckets.airbyte"],
        services: ["s3"],
        maps: ["credentials"],
    },
    database: { strings: ["namespace", "warehouse"], services: ["postgres", "hiveMetastore"], maps: ["credentials"] },
    trino: { strings: ["namespace", "catalog"], services: ["coordinator"], maps: [] },
    airbyte: { strings: ["namespace", "apiUrl"], services: ["server"], maps: [] },
    dagster: { strings: ["namespace"], services: ["webserver"], maps: [] },
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

/** Whether a published contract has every field this version reads (each missing one added to `problems`). */
function validContract<C extends ComponentName>(
    component: C,
    contract: unknown,
    problems: string[],
): contract is ComponentContracts[C] {
    const before = problems.length;
    const need = REQUIRED[component];
    const base = `components.${component}`;
    for (const path of need.strings) if (typeof at(contract, path) !== "string") problems.push(`"${base}.${path}"`);
    for (const path of need.maps) if (!isRecord(at(contract, path))) problems.push(`"${base}.${path}"`);
    for (const svc of need.services) {
        const entry = at(contract, `services.${svc}`);
        for (const [field, type] of Object.entries(SERVICE_FIELDS)) {
            if (typeof at(entry, field) !== type) problems.push(`"${base}.services.${svc}.${field}"`);
        }
    }
    return problems.length === before;
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
    if (version < CONTRACT_VERSION) {
        throw new ContractError(
            `stack ${stack} publishes output contract version ${version}; this program reads version ${CONTRACT_VERSION}: update ${stack} to this version of lakehouse-platform and \`pulumi up\` it first`,
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
            if (validContract(component, contract, problems)) setContract(found, component, contract);
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
