// Every credential the platform generates, who holds it, and its generation: the one place that
// knows which Garage keys and PostgreSQL logins exist, so the config (which validates rotation
// requests), the issuers (Garage, PostgreSQL) and the consumers agree on the same names.
//
// Rotation is a generation number per credential (`credentialGenerations` in the stack config,
// 1 when unset). A generation above 1 is a `keepers` entry of the random resource behind the
// credential: a new number makes Pulumi replace it, and with it every value derived from it.
import { createHash } from "crypto";
import type { ComponentName } from "./config";

/** A consumer of Garage keys or PostgreSQL logins: the name its credentials go by, and its component. */
export interface ConsumerSpec {
    name: string;
    component: ComponentName;
}

/** Who gets a Garage key, and on which of the platform's buckets (`lakehouse`, `airbyte`). */
export const GARAGE_KEY_CONSUMERS: readonly (ConsumerSpec & { buckets: readonly ("lakehouse" | "airbyte")[] })[] = [
    // The metastore creates database and table directories in the warehouse.
    { name: "hive-metastore", component: "database", buckets: ["lakehouse"] },
    { name: "trino", component: "trino", buckets: ["lakehouse"] },
    // Airbyte keeps its state and logs in its own bucket and lands data in the lakehouse.
    { name: "airbyte", component: "airbyte", buckets: ["airbyte", "lakehouse"] },
    { name: "dagster", component: "dagster", buckets: ["lakehouse"] },
];

/** Who gets a PostgreSQL database and role. */
export const DATABASE_LOGIN_CONSUMERS: readonly (ConsumerSpec & {
    database: string;
    role: string;
    passwordKey: string;
    createDatabases?: boolean;
    /** Its client verifies PostgreSQL's certificate with the platform's CA (`postgresTls`). */
    verifiesTls: boolean;
})[] = [
    {
        name: "hive-metastore",
        component: "database",
        database: "metastore",
        role: "metastore",
        passwordKey: "password",
        verifiesTls: true,
    },
    // Temporal, which Airbyte runs, creates its own two databases with Airbyte's role. Airbyte's
    // chart (2.x) gives its server, workers and Temporal no TLS setting for the database: with
    // postgresTls its role alone is admitted without TLS (docs/security.md).
    {
        name: "airbyte",
        component: "airbyte",
        database: "airbyte",
        role: "airbyte",
        passwordKey: "password",
        createDatabases: true,
        verifiesTls: false,
    },
    // The Dagster chart reads the password from the key `postgresql-password`.
    {
        name: "dagster",
        component: "dagster",
        database: "dagster",
        role: "dagster",
        passwordKey: "postgresql-password",
        verifiesTls: true,
    },
];

/**
 * Who logs in to Trino (with `trinoAuthentication`), and what the access rules let each do in the
 * Iceberg catalog: dbt writes its own schemas and reads the rest; an analyst reads; the admin, a
 * person, does anything. Each login's Secret is in its holder's namespace.
 */
export const TRINO_LOGIN_CONSUMERS: readonly (ConsumerSpec & { access: "admin" | "writer" | "reader" })[] = [
    { name: "admin", component: "trino", access: "admin" },
    { name: "analyst", component: "trino", access: "reader" },
    { name: "dbt", component: "dagster", access: "writer" },
];

/** The Trino login a component's clients use (Dagster's: `dbt`), or undefined when it has none. */
export function trinoLoginOf(component: ComponentName): string | undefined {
    return TRINO_LOGIN_CONSUMERS.find((c) => c.component === component)?.name;
}

/** Garage's own secrets: the admin API's bearer token and the secret its nodes share for RPC. */
export const GARAGE_DAEMON_CREDENTIALS = ["garage-admin-token", "garage-rpc-secret"] as const;

/** The name of a credential in `credentialGenerations`. */
export const credentialName = {
    garageKey: (consumer: string) => `garage-key/${consumer}`,
    databaseLogin: (consumer: string) => `database-login/${consumer}`,
    trinoLogin: (consumer: string) => `trino-login/${consumer}`,
    /** Airbyte's instance admin (its password, OAuth client and JWT signature secret). */
    airbyteAdmin: "airbyte-admin",
    /** The admin's login at Dagster's webserver (`dagsterLogin`): its password and the proxy's cookie secret. */
    dagsterLogin: "dagster-login",
    /** A TLS server's certificate and key (`trino`, `postgres`), from the platform's CA. */
    tls: (server: TlsServerName) => `tls/${server}`,
};

/** The platform's TLS servers, each with its certificate, and the component that serves it. */
export const TLS_SERVERS = [
    { name: "trino", component: "trino" },
    { name: "postgres", component: "database" },
] as const satisfies readonly ConsumerSpec[];
export type TlsServerName = (typeof TLS_SERVERS)[number]["name"];

/** Which component issues a credential: Garage issues keys and its own secrets, PostgreSQL logins. */
export interface CredentialSpec {
    name: string;
    issuer: "garage" | "database" | "trino" | "airbyte" | "dagster";
    /** The component that uses it (for a daemon secret, Garage itself). */
    holder: ComponentName;
}

export const CREDENTIALS: readonly CredentialSpec[] = [
    ...GARAGE_KEY_CONSUMERS.map((c) => ({
        name: credentialName.garageKey(c.name),
        issuer: "garage" as const,
        holder: c.component,
    })),
    ...DATABASE_LOGIN_CONSUMERS.map((c) => ({
        name: credentialName.databaseLogin(c.name),
        issuer: "database" as const,
        holder: c.component,
    })),
    ...GARAGE_DAEMON_CREDENTIALS.map((name) => ({ name, issuer: "garage" as const, holder: "garage" as const })),
    ...TRINO_LOGIN_CONSUMERS.map((c) => ({
        name: credentialName.trinoLogin(c.name),
        issuer: "trino" as const,
        holder: c.component,
    })),
    { name: credentialName.airbyteAdmin, issuer: "airbyte", holder: "airbyte" },
    { name: credentialName.dagsterLogin, issuer: "dagster", holder: "dagster" },
    ...TLS_SERVERS.map((t) => ({ name: credentialName.tls(t.name), issuer: t.component, holder: t.component })),
];

/** Generation of each credential the stack rotated; a credential not listed is at generation 1. */
export type Generations = Readonly<Record<string, number>>;

/** Bounded so the retirement Job (one line per earlier generation) stays short. */
export const MAX_GENERATION = 1000;

export function generationOf(generations: Generations, credential: string): number {
    return generations[credential] ?? 1;
}

/**
 * `keepers` of the random resource behind a credential: none at generation 1, so stacks created
 * before rotation existed keep their values; the generation from 2 on, so a new number replaces it.
 */
export function generationKeepers(generation: number): Record<string, string> | undefined {
    return generation > 1 ? { generation: String(generation) } : undefined;
}

/**
 * The access key id of a Garage key at a generation. Garage never imports an id twice, not even
 * one it deleted, so every generation needs an id of its own; deriving it from the first one (a
 * random id kept in state) lets the program name the ids of earlier generations, which is how the
 * retirement Job knows what to delete. Key ids are not secret (like AWS access key ids).
 */
export function garageKeyIdHex(firstHex: string, generation: number): string {
    if (generation <= 1) return firstHex;
    return createHash("sha256").update(`${firstHex}/generation/${generation}`).digest("hex").slice(0, firstHex.length);
}

/** Parses `<credential>=<generation>` entries; problems name the entry and say what is valid. */
export function parseGenerations(
    entries: string[],
    issued: readonly string[],
): { generations: Record<string, number>; problems: string[] } {
    const generations: Record<string, number> = {};
    const problems: string[] = [];
    const known = CREDENTIALS.map((c) => c.name);
    for (const entry of entries) {
        const m = /^([a-z][a-z0-9/-]*)=(\d+)$/.exec(entry);
        if (!m) {
            problems.push(`${JSON.stringify(entry)} is not <credential>=<generation>, such as garage-key/trino=2`);
            continue;
        }
        const [, name, number] = m;
        const generation = Number(number);
        if (!known.includes(name)) {
            problems.push(
                `${JSON.stringify(name)} is not a credential the platform generates; they are ${known.join(", ")}`,
            );
        } else if (!issued.includes(name)) {
            problems.push(
                `${name} is not issued by this stack (it deploys neither its issuer nor serves its holder); rotate it in the stack that issues it`,
            );
        } else if (name in generations) {
            problems.push(`${name} is listed twice`);
        } else if (!Number.isSafeInteger(generation) || generation < 1 || generation > MAX_GENERATION) {
            problems.push(
                `${name}: the generation must be an integer from 1 to ${MAX_GENERATION.toLocaleString("en-US")}`,
            );
        } else {
            generations[name] = generation;
        }
    }
    return { generations, problems };
}
