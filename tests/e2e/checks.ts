// What the end-to-end suite checks, each against the real servers with the program's own files,
// credentials and addresses: names, PostgreSQL and the init SQL, Garage and its bootstrap, each
// consumer's key and login, the metastore, Trino with the Iceberg catalog, dbt, and the short-name
// controls that show the checks can fail.
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { randomBytes } from "crypto";
import { loginToken } from "../../components/trino-security";
import { DATABASE_LOGIN_CONSUMERS } from "../../components/credentials";
import { XMLParser } from "fast-xml-parser";
import { load as loadYaml } from "js-yaml";
import {
    caFile,
    Context,
    GarageCluster,
    Metastore,
    PgLogin,
    Postgres,
    Trino,
    trinoClient,
    withLocalCa,
} from "./servers";
import { CA_DIR, TRUST_CONFIGMAP } from "../../components/certificates";
import { PROJECT_DIR } from "../../offline/stack-config";
import { run, tail } from "./procs";

type Json = Record<string, unknown>;

interface WiringEdge {
    from: string;
    to: string;
    service: string;
    host: string;
    port: number;
    address: string;
}

// The helpers stay beside the sources (the compiled suite runs from .build/).
export const PY = path.join(PROJECT_DIR, "tests", "e2e", "py");

export async function python(ctx: Context, script: string, request: unknown): Promise<Json[]> {
    const r = await run(ctx.tc.python.bin, [path.join(PY, script)], {
        input: JSON.stringify(request),
        timeoutMs: 600_000,
    });
    if (r.code !== 0) throw new Error(`${script} failed:\n${tail(r.stderr, 12)}`);
    return r.stdout
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Json);
}

export function wiring(ctx: Context): WiringEdge[] {
    return ctx.p.detail<WiringEdge[]>("wiring");
}

/** The component whose namespace a consumer's Secret is in. */
function componentOf(ctx: Context, namespace: string): string {
    const ns = ctx.p.detail<Record<string, string>>("namespaces");
    const found = Object.entries(ns).find(([, n]) => n === namespace);
    if (!found) throw new Error(`no component of this stack has namespace ${namespace}`);
    return found[0];
}

// ---- names ----

export async function checkNames(ctx: Context): Promise<void> {
    await ctx.report.check("names: every FQDN of the wiring resolves to a loopback address of its own", async () => {
        const seen = new Set<string>();
        for (const [host, address] of ctx.names) {
            const r = await run("getent", ["ahostsv4", host]);
            const got = r.stdout.split(/\s+/)[0];
            if (got !== address) throw new Error(`${host} resolves to ${got || "nothing"}, not ${address}`);
            if (seen.has(address)) throw new Error(`${address} is given twice`);
            seen.add(address);
        }
        const hosts = new Set(wiring(ctx).map((e) => e.host));
        for (const h of hosts) if (!ctx.names.has(h)) throw new Error(`the wiring names ${h}, which has no address`);
        return `${ctx.names.size} names, each its own address; the wiring's ${hosts.size} hosts among them`;
    });
    await ctx.report.check("names: short names resolve to nothing, as from another namespace", async () => {
        const short = [...new Set([...ctx.names.keys()].map((h) => h.split(".")[0]))];
        for (const s of short) {
            const r = await run("getent", ["ahostsv4", s]);
            if (r.code === 0) throw new Error(`${s} resolves to ${r.stdout.split(/\s+/)[0]}`);
        }
        return `${short.join(", ")}: not found`;
    });
}

// ---- PostgreSQL ----

function consumersOfDatabase(
    ctx: Context,
): Record<
    string,
    { namespace: string; secretName: string; usernameKey: string; passwordKey: string; database: string; role: string }
> {
    return ctx.p.detail("components.database.credentials");
}

/** A Hadoop configuration file (hive-site.xml) as name → value. */
export function hadoopProperties(xml: string): Record<string, string> {
    const doc = new XMLParser({ parseTagValue: false, trimValues: true }).parse(xml) as {
        configuration?: { property?: unknown };
    };
    const list = doc.configuration?.property;
    const props = (Array.isArray(list) ? list : list ? [list] : []) as { name?: string; value?: string }[];
    return Object.fromEntries(
        props.filter((x) => typeof x.name === "string").map((x) => [String(x.name), String(x.value ?? "")]),
    );
}

/**
 * A consumer's login exactly as its own configuration gives it: the metastore's from hive-site.xml
 * (URL, user) and its Deployment's env (the password's Secret); Airbyte's and Dagster's from their
 * chart values (host, port, database, user, and the Secret and keys the chart reads).
 */
export function loginOf(ctx: Context, consumer: string): PgLogin & { via: string } {
    const { p } = ctx;
    const c = consumersOfDatabase(ctx)[consumer];
    const component = componentOf(ctx, c.namespace);
    switch (component) {
        case "database": {
            const ns = Postgres.namespace(p);
            const hiveSite = p.configMap(ns, "hive-metastore-conf")["hive-site.xml"];
            const props = hadoopProperties(hiveSite);
            const prop = (name: string): string | undefined => props[name];
            const url = /^jdbc:postgresql:\/\/([^:/]+):(\d+)\/(\w+)(?:\?(.*))?$/.exec(
                prop("javax.jdo.option.ConnectionURL") ?? "",
            );
            if (!url) throw new Error("hive-site.xml has no jdbc:postgresql URL");
            // pgJDBC's sslmode and sslrootcert are libpq's: the same parameters for psql.
            const params = Object.fromEntries(new URLSearchParams(url[4] ?? ""));
            const passwordRef = /^\$\{env\.(\w+)\}$/.exec(prop("javax.jdo.option.ConnectionPassword") ?? "")?.[1];
            const env = p.containerEnv(ns, p.container("Deployment", ns, "hive-metastore", "metastore")).env;
            if (!passwordRef || env[passwordRef] === undefined)
                throw new Error("hive-site.xml's password refers to no variable of the metastore's environment");
            return {
                host: url[1],
                port: Number(url[2]),
                database: url[3],
                user: prop("javax.jdo.option.ConnectionUserName") ?? "",
                password: env[passwordRef],
                sslmode: params.sslmode,
                sslrootcert: params.sslrootcert && withLocalCa(ctx, ns, params.sslrootcert),
                via: "hive-site.xml and the metastore's env",
            };
        }
        case "airbyte": {
            const db = (p.helmValues("airbyte").global as Json).database as Json;
            const secret = p.secret(c.namespace, String(db.secretName));
            return {
                host: String(db.host),
                port: Number(db.port),
                database: String(db.name),
                user: secret[String(db.userSecretKey)],
                password: secret[String(db.passwordSecretKey)],
                via: "Airbyte's values.global.database",
            };
        }
        case "dagster": {
            const values = p.helmValues("dagster");
            const pgv = values.postgresql as Json;
            const secret = p.secret(c.namespace, String((values.global as Json).postgresqlSecretName));
            // dagster-postgres hands postgresqlParams to libpq as they are.
            const params = (pgv.postgresqlParams ?? {}) as Record<string, string>;
            // The chart reads the password from the key postgresql-password of global.postgresqlSecretName.
            return {
                sslmode: params.sslmode,
                sslrootcert: params.sslrootcert && withLocalCa(ctx, c.namespace, params.sslrootcert),
                host: String(pgv.postgresqlHost),
                port: Number((pgv.service as Json).port),
                database: String(pgv.postgresqlDatabase),
                user: String(pgv.postgresqlUsername),
                password: secret["postgresql-password"],
                via: "Dagster's values.postgresql and global.postgresqlSecretName",
            };
        }
        default:
            throw new Error(`no reader of ${consumer}'s database settings`);
    }
}

/** A CA that is not the platform's (its certificate `<dir>/ca.crt`), made once per run. */
async function anotherCa(work: string): Promise<string> {
    const dir = path.join(work, "other-ca");
    if (fs.existsSync(path.join(dir, "ca.crt"))) return dir;
    fs.mkdirSync(dir, { recursive: true });
    const r = await run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=another CA",
        "-keyout",
        path.join(dir, "ca.key"),
        "-out",
        path.join(dir, "ca.crt"),
    ]);
    if (r.code !== 0) throw new Error(`openssl: ${r.output}`);
    return dir;
}

/**
 * With postgresTls: the server refuses a connection without TLS (but for the roles named as
 * exceptions), every client the platform configures verifies the server, and verifying with
 * another CA fails.
 */
async function checkPostgresTls(ctx: Context, pg: Postgres, consumers: string[]): Promise<void> {
    const { report, work } = ctx;
    const logins = Object.fromEntries(consumers.map((c) => [c, loginOf(ctx, c)]));
    const verifying = consumers.filter((c) => logins[c].sslmode === "verify-full");
    const exempt = DATABASE_LOGIN_CONSUMERS.filter((c) => !c.verifiesTls).map((c) => c.name);
    await report.check(
        "postgres: every client verifies the server's certificate for its FQDN against the platform's CA, over TLS",
        async () => {
            const unverified = consumers.filter((c) => !verifying.includes(c) && !exempt.includes(c));
            if (unverified.length > 0) throw new Error(`configured without verify-full: ${unverified.join(", ")}`);
            if (pg.superuser.sslmode !== "verify-full") throw new Error("the init Job does not verify the server");
            const seen: string[] = [];
            for (const [name, login] of [
                ["init Job (superuser)", pg.superuser] as const,
                ...verifying.map((c) => [c, logins[c]] as const),
            ]) {
                const tls = await pg.query(
                    login,
                    "SELECT ssl || ' ' || version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                );
                if (!tls.startsWith("true ")) throw new Error(`${name}: connected without TLS (${tls})`);
                seen.push(`${name} (${tls.slice(5)})`);
            }
            return `verify-full with the CA's ConfigMap: ${seen.join(", ")}`;
        },
    );
    await report.check(
        "postgres: refuses a connection without TLS, for the superuser and every verifying login",
        async () => {
            const refused: string[] = [];
            for (const [name, login] of [
                ["postgres", pg.superuser] as const,
                ...verifying.map((c) => [c, logins[c]] as const),
            ]) {
                const r = await pg.psql({ ...login, sslmode: "disable", sslrootcert: undefined }, "SELECT 1");
                if (r.code === 0) throw new Error(`${name} logged in without TLS`);
                if (!/no pg_hba\.conf entry.*no encryption/s.test(r.output))
                    throw new Error(`${name} refused, but not for the missing TLS: ${tail(r.output, 3)}`);
                refused.push(name);
            }
            return `${refused.join(", ")}: "no pg_hba.conf entry ..., no encryption"`;
        },
    );
    const probe = verifying.find((c) => c !== undefined);
    if (probe)
        await report.check(`postgres: ${probe}'s client, verifying with another CA, fails`, async () => {
            const other = path.join(await anotherCa(work), "ca.crt");
            const r = await pg.psql({ ...logins[probe], sslrootcert: other }, "SELECT 1");
            if (r.code === 0) throw new Error("logged in with another CA's certificate as the only trust");
            if (!/certificate verify failed/i.test(r.output))
                throw new Error(`failed, but not on the certificate: ${tail(r.output, 3)}`);
            return tail(r.output, 1);
        });
    for (const name of exempt.filter((c) => consumers.includes(c)))
        await report.check(
            `postgres: ${name}'s role, whose client cannot verify, is the one admitted without TLS (docs/security.md)`,
            async () => {
                const who = await pg.query(
                    { ...logins[name], sslmode: "disable" },
                    "SELECT current_user || ' ' || (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())",
                );
                if (who !== `${logins[name].user} false`) throw new Error(`got ${who}`);
                return `${who.split(" ")[0]} logs in without TLS`;
            },
        );
}

export async function checkPostgres(ctx: Context, pg: Postgres): Promise<void> {
    const { report } = ctx;
    await report.require("postgres: the init Job's SQL, first run, creates every role and database", async () => {
        const r = await pg.runInit(ctx.p);
        if (r.code !== 0) throw new Error(tail(r.output));
        const made = r.stdout.split("\n").filter((l) => /^(CREATE|ALTER|REVOKE|GRANT)/.test(l));
        const roles = await pg.query(
            pg.superuser,
            "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> 'postgres'",
        );
        return `${made.length} statements (${[...new Set(made)].join(", ")}); roles ${roles}`;
    });
    await report.check("postgres: the init SQL, run again, changes nothing", async () => {
        const before = await pg.catalog();
        const r = await pg.runInit(ctx.p);
        if (r.code !== 0) throw new Error(tail(r.output));
        const made = r.stdout.split("\n").filter((l) => /^(CREATE|ALTER|REVOKE|GRANT|DROP)/.test(l));
        if (made.length > 0) throw new Error(`the second run executed ${made.join(", ")}`);
        if ((await pg.catalog()) !== before)
            throw new Error("the catalog (roles, verifiers, databases, privileges) differs after the second run");
        return "no statement executed; roles, verifiers, owners and privileges identical";
    });
    const consumers = Object.keys(consumersOfDatabase(ctx));
    for (const consumer of consumers) await checkDatabaseLogin(ctx, pg, consumer, consumers);
    if (ctx.p.has("ConfigMap", Postgres.namespace(ctx.p), "postgres-hba")) await checkPostgresTls(ctx, pg, consumers);
}

/** One consumer's login: into its own database, refused everywhere else, creating databases only if it must. */
async function checkDatabaseLogin(ctx: Context, pg: Postgres, consumer: string, consumers: string[]): Promise<void> {
    const { report } = ctx;
    const login = loginOf(ctx, consumer);
    await report.check(
        `postgres ${consumer}: logs in to its database ${login.database} at ${login.host}:${login.port} (from ${login.via})`,
        async () => {
            const who = await pg.query(login, "SELECT current_user || '@' || current_database()");
            if (who !== `${login.user}@${login.database}`) throw new Error(`logged in as ${who}`);
            await pg.query(
                login,
                "CREATE TABLE e2e_probe (x int); INSERT INTO e2e_probe VALUES (1); DROP TABLE e2e_probe;",
            );
            return `${who}: creates, writes and drops a table`;
        },
    );
    const others = consumers.filter((c) => c !== consumer).map((c) => consumersOfDatabase(ctx)[c].database);
    await report.check(
        `postgres ${consumer}: refused on every other database (${[...others, "postgres"].join(", ")})`,
        async () => {
            const createdb =
                (await pg.query(pg.superuser, `SELECT rolcreatedb FROM pg_roles WHERE rolname = '${login.user}'`)) ===
                "t";
            const refused: string[] = [];
            // A role that creates databases (Airbyte's, for Temporal) may connect to `postgres` to do so.
            for (const db of [...others, ...(createdb ? [] : ["postgres"])]) {
                const r = await pg.psql({ ...login, database: db }, "SELECT 1");
                if (r.code === 0) throw new Error(`${login.user} connected to ${db}`);
                if (
                    !/permission denied for database|not permitted to log in|does not have CONNECT privilege/.test(
                        r.output,
                    )
                )
                    throw new Error(`${db}: refused for another reason: ${tail(r.output, 3)}`);
                refused.push(db);
            }
            return `permission denied for database ${refused.join(", ")}`;
        },
    );
    const createdb =
        (await pg.query(pg.superuser, `SELECT rolcreatedb FROM pg_roles WHERE rolname = '${login.user}'`)) === "t";
    await report.check(
        `postgres ${consumer}: ${createdb ? "creates a database of its own (as Temporal does)" : "may not create databases"}`,
        async () => {
            const name = `e2e_${consumer.replace(/-/g, "_")}_created`;
            const r = await pg.psql(
                { ...login, database: createdb ? "postgres" : login.database },
                `CREATE DATABASE ${name}`,
            );
            if (createdb) {
                if (r.code !== 0) throw new Error(tail(r.output, 4));
                await pg.query({ ...login, database: "postgres" }, `DROP DATABASE ${name}`);
                return `CREATE DATABASE ${name} and DROP DATABASE as ${login.user}`;
            }
            if (r.code === 0) throw new Error(`${login.user} created ${name}`);
            return tail(r.output, 1);
        },
    );
}

// ---- Garage ----

/** Where two texts first differ, with a little context. */
export function firstDifference(a: string, b: string): string {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    return `at ${i}: before …${a.slice(Math.max(0, i - 80), i + 80)}…, after …${b.slice(Math.max(0, i - 80), i + 80)}…`;
}

export interface GarageCredential {
    namespace: string;
    secretName: string;
    accessKeyIdKey: string;
    secretAccessKeyKey: string;
    buckets: string[];
}

export async function checkGarage(ctx: Context, garage: GarageCluster): Promise<void> {
    const { report, p } = ctx;
    await report.require(
        `garage: ${garage.nodes.length} node${garage.nodes.length === 1 ? "" : "s"} up and connected`,
        async () => {
            const status = await garage.garage(["status"]);
            const healthy = status.stdout.split("==== HEALTHY NODES ====")[1]?.split("====")[0] ?? "";
            const ids = garage.nodes.filter((n) => healthy.includes(n.id.slice(0, 16)));
            if (ids.length !== garage.nodes.length)
                throw new Error(`garage status shows ${ids.length} of ${garage.nodes.length} nodes:\n${status.output}`);
            return garage.nodes.map((n) => `${n.pod} (${n.address}, ${n.id.slice(0, 16)})`).join("; ");
        },
    );
    await report.require(
        "garage: the bootstrap Job's script under busybox, first run: layout, buckets, keys, grants",
        async () => {
            const r = await garage.runBootstrap(p);
            if (r.code !== 0) throw new Error(tail(r.output));
            return tail(r.stderr, 1).replace(/^garage-bootstrap: /, "");
        },
    );
    await report.check("garage: the bootstrap, run again, changes nothing", async () => {
        const before = await garage.snapshot();
        const r = await garage.runBootstrap(p);
        if (r.code !== 0) throw new Error(tail(r.output));
        const after = await garage.snapshot();
        if (after !== before)
            throw new Error(
                `layout, buckets, keys or permissions differ after the second run: ${firstDifference(before, after)}`,
            );
        const created = r.stderr
            .split("\n")
            .filter((l) => /done: (role|layout version|bucket|key) /.test(l) && !/already done/.test(l));
        if (created.length > 0) throw new Error(`the second run created: ${created.join("; ")}`);
        return "layout version, buckets, keys and every permission identical (admin API)";
    });
    await checkGarageKeys(ctx);
}

/** Each consumer's key on the real Garage: what it may read and write, and what it is refused. */
async function checkGarageKeys(ctx: Context): Promise<void> {
    const { report, p } = ctx;
    const credentials = p.detail<Record<string, GarageCredential>>("components.garage.credentials");
    const buckets = Object.values(p.detail<Record<string, string>>("components.garage.buckets"));
    if (credentials.airbyte) {
        await report.check(
            "s3 airbyte: every bucket its storage values name is one its key may write, with the Secret they name",
            () => {
                const storage = (p.helmValues("airbyte").global as Json).storage as Json;
                const named = [...new Set(Object.values(storage.bucket as Record<string, string>))];
                const missing = named.filter((b) => !credentials.airbyte.buckets.includes(b));
                if (missing.length > 0)
                    throw new Error(
                        `global.storage.bucket names ${missing.join(", ")}, which Airbyte's key may not write`,
                    );
                if (storage.secretName !== credentials.airbyte.secretName)
                    throw new Error(
                        `global.storage.secretName is ${String(storage.secretName)}, the key is in ${credentials.airbyte.secretName}`,
                    );
                return `global.storage.bucket.* = ${named.join(", ")}; global.storage.secretName = ${String(storage.secretName)}; type ${String(storage.type)}, endpoint ${String((storage.minio as Json).endpoint)}`;
            },
        );
    }
    const region = p.detail<string>("components.garage.region");
    for (const [consumer, c] of Object.entries(credentials)) {
        const component = componentOf(ctx, c.namespace);
        const edge = wiring(ctx).find((e) => e.from === component && e.service === "garageS3");
        if (!edge) throw new Error(`${consumer} has a Garage key but its configuration names no S3 endpoint`);
        const secret = p.secret(c.namespace, c.secretName);
        const denied = buckets.filter((b) => !c.buckets.includes(b));
        await report.check(
            `s3 ${consumer}: its key reads and writes ${c.buckets.join(", ")}${denied.length ? ` and is refused on ${denied.join(", ")}` : ""} (${edge.address}, path-style, ${region})`,
            async () => {
                const results = await python(ctx, "s3_access.py", {
                    endpoint: edge.address.replace(/\/+$/, ""),
                    region,
                    accessKeyId: secret[c.accessKeyIdKey],
                    secretAccessKey: secret[c.secretAccessKeyKey],
                    probe: `e2e-probes/${consumer}`,
                    allowed: c.buckets,
                    denied,
                });
                const bad = results.filter((x) => x.ok !== true);
                if (bad.length > 0)
                    throw new Error(
                        bad.map((x) => `${String(x.bucket)} (${String(x.expect)}): ${String(x.detail)}`).join("\n"),
                    );
                return results.map((x) => `${String(x.bucket)}: ${String(x.expect)} (${String(x.detail)})`).join("; ");
            },
        );
    }
}

// ---- Hive Metastore ----

/** A loopback address outside the names' range (127.0.1.x): the second metastore pod's. */
const SECOND_METASTORE_ADDRESS = "127.0.2.20";

export async function checkMetastore(ctx: Context): Promise<Metastore | undefined> {
    const { report } = ctx;
    const schemaVersion = () => ctx.tc.metastore.used;
    await report.require(
        "hive-metastore: the schema Job creates the schema on the empty metastore database (schematool -initOrUpgradeSchema)",
        async () => {
            const r = await Metastore.schemaJob(ctx);
            if (r.code !== 0) throw new Error(tail(r.output));
            return `${tail(r.output, 1)} (Hive ${schemaVersion()})`;
        },
    );
    await report.check(
        "hive-metastore: the schema Job, run again on the current schema, succeeds and changes nothing",
        async () => {
            const r = await Metastore.schemaJob(ctx, "hive-metastore-schema-again");
            if (r.code !== 0) throw new Error(tail(r.output));
            if (/Initialization script|Upgrade script/.test(r.output))
                throw new Error(`the second run ran a script: ${tail(r.output, 3)}`);
            return tail(r.output, 1);
        },
    );
    let metastore: Metastore | undefined;
    await report.require(
        "hive-metastore: two pods started at the same moment on that schema both serve thrift (the pods skip schematool: IS_RESUME=true)",
        async () => {
            const [first, second] = await Promise.all([
                Metastore.start(ctx),
                Metastore.start(ctx, "hive-metastore-second", SECOND_METASTORE_ADDRESS),
            ]);
            const lists = await Promise.all([first.databases(ctx), second.databases(ctx)]);
            for (const [i, dbs] of lists.entries())
                if (!dbs.includes("default"))
                    throw new Error(`metastore ${i + 1} lists ${dbs.join(", ") || "no database"}`);
            metastore = first;
            return `${first.host}:${first.port} and ${second.host}:${second.port} both list ${lists[0].join(", ")} (get_all_databases over thrift)`;
        },
    );
    return metastore;
}

// ---- Trino ----

/** The catalog text with one host written as its short name: the negative controls. */
export function shortNameCatalog(catalog: string, property: "hive.metastore.uri" | "s3.endpoint"): string {
    return catalog.replace(
        new RegExp(`^(${property.replace(/\./g, "\\.")}=[a-z]+://)([a-z0-9-]+)\\.[a-z0-9.-]+(:\\d+)`, "m"),
        "$1$2$3",
    );
}

/** Statements whose failure is a result, never a rejection (they run unawaited for a while). */
function sql0(ctx: Context, catalog: string, statements: string[]): Promise<Json[]> {
    return python(ctx, "trino_sql.py", { ...trinoClient(ctx), catalog, statements }).catch((e: unknown) =>
        statements.map(() => ({ ok: false, error: String(e), causes: [] })),
    );
}

export interface Controls {
    judge(): Promise<void>;
}

export async function checkTrino(ctx: Context): Promise<{ trino: Trino; controls: Controls } | undefined> {
    const { report, p } = ctx;
    const catalogName = p.detail<string>("components.trino.catalog");
    const catalog = (p.helmValues("trino").catalogs as Record<string, string>)[catalogName];
    const controls = {
        shortname_metastore: shortNameCatalog(catalog, "hive.metastore.uri"),
        shortname_s3: shortNameCatalog(catalog, "s3.endpoint"),
    };
    ctx.report.substitute(
        "(negative controls) none",
        `two more catalogs beside ${catalogName}: its text with the metastore URI's host, and with the S3 endpoint's host, written as the short name`,
        "to show that the same Trino fails on a short name, and why",
    );
    let trino: Trino | undefined;
    await report.require(`trino: starts with the catalog ${catalogName} exactly as the values give it`, async () => {
        trino = await Trino.start(ctx, controls);
        const info = (await (await fetch(`http://${trino.host}:${trino.port}/v1/info`)).json()) as {
            nodeVersion: { version: string };
        };
        return `${trino.host}:${trino.port}, Trino ${info.nodeVersion.version}; /v1/info answers`;
    });
    const t = trino!;
    // The negative controls run beside the other checks (each waits out a client's retries) and are judged last.
    const pending = {
        metastore: sql0(ctx, catalogName, [`CREATE SCHEMA shortname_metastore.e2e_short`]),
        s3: sql0(ctx, catalogName, [
            `CREATE SCHEMA IF NOT EXISTS shortname_s3.e2e_short_s3`,
            `CREATE TABLE shortname_s3.e2e_short_s3.t AS SELECT 1 AS x`,
        ]),
    };
    const schema = "e2e";
    const table = `${catalogName}.${schema}.orders`;
    const sql = (statements: string[]) =>
        python(ctx, "trino_sql.py", { ...trinoClient(ctx), catalog: catalogName, statements });
    const steps: [string, string, (r: Json) => string][] = [
        ["CREATE SCHEMA", `CREATE SCHEMA IF NOT EXISTS ${catalogName}.${schema}`, () => "created"],
        [
            "an Iceberg CREATE TABLE",
            `CREATE TABLE IF NOT EXISTS ${table} (id integer, item varchar, amount decimal(10,2)) WITH (format = 'PARQUET')`,
            () => "created",
        ],
        [
            "INSERT",
            `INSERT INTO ${table} VALUES (1, 'garage', 10.50), (2, 'trino', 20.25), (3, 'dbt', 30.00)`,
            (r) => `${JSON.stringify(r.rows)} rows`,
        ],
    ];
    for (const [what, statement, describe] of steps) {
        await report.check(`trino: ${what}`, async () => {
            const [r] = await sql([statement]);
            if (r.ok !== true) throw new Error(String(r.error));
            return describe(r);
        });
    }
    await report.check("trino: SELECT returns the rows", async () => {
        const [r] = await sql([`SELECT id, item, amount FROM ${table} ORDER BY id`]);
        if (r.ok !== true) throw new Error(String(r.error));
        const rows = JSON.stringify(r.rows);
        if (
            rows !==
            JSON.stringify([
                [1, "garage", "10.50"],
                [2, "trino", "20.25"],
                [3, "dbt", "30.00"],
            ])
        )
            throw new Error(`got ${rows}`);
        return rows;
    });
    await checkWarehouseFiles(ctx, schema);
    await checkMetastoreTable(ctx, schema);
    await checkTrinoAuthentication(ctx, t, table);
    return { trino: t, controls: { judge: () => judgeShortNames(ctx, pending, controls) } };
}

/** One request to Trino's statement API: its HTTP status, or the error that stopped it (a TLS failure). */
function statement(
    url: string,
    options: { ca?: string; user?: string; token?: string },
): Promise<{ status?: number; error?: string; body: string }> {
    const target = new URL(url);
    const headers: Record<string, string> = { "X-Trino-User": options.user ?? "e2e" };
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    const client = target.protocol === "https:" ? https : http;
    return new Promise((resolve) => {
        const req = client.request(
            target,
            { method: "POST", headers, ...(options.ca ? { ca: options.ca } : {}), timeout: 30_000 },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (d: string) => (body += d));
                res.on("end", () => resolve({ status: res.statusCode, body }));
            },
        );
        req.on("timeout", () => req.destroy(new Error("timed out")));
        req.on("error", (e) => resolve({ error: e.message, body: "" }));
        req.end("SELECT 1");
    });
}

/**
 * With `trinoAuthentication`: who Trino refuses, on the real server with the program's files. An
 * anonymous query and a wrong password over HTTPS; any query over plain HTTP, with a login too; a
 * client that verifies the certificate against another CA; the analyst's write. And who it admits:
 * the analyst's read.
 */
async function checkTrinoAuthentication(ctx: Context, t: Trino, table: string): Promise<void> {
    const admin = trinoClient(ctx);
    if (admin.http_scheme !== "https" || admin.verify === undefined) return;
    const { report, work } = ctx;
    const ca = fs.readFileSync(admin.verify, "utf8");
    const httpsUrl = `https://${admin.host}:${admin.port}/v1/statement`;
    const httpUrl = `http://${t.host}:${t.port}/v1/statement`;
    await report.check("trino: an anonymous query over HTTPS is refused (401)", async () => {
        const r = await statement(httpsUrl, { ca });
        if (r.status !== 401) throw new Error(`expected HTTP 401, got ${r.status ?? r.error}: ${r.body.slice(0, 200)}`);
        return `${httpsUrl}: HTTP 401`;
    });
    await report.check(
        "trino: a token signed with another key, or naming an unknown key, is refused (401)",
        async () => {
            const kid = JSON.parse(Buffer.from(String(admin.token).split(".")[0], "base64url").toString()) as {
                kid: string;
            };
            const other = randomBytes(32).toString("base64");
            const forged = await loginToken(admin.user, kid.kid, other);
            const unknown = await loginToken(admin.user, `${kid.kid}0`, other);
            const got: string[] = [];
            for (const [what, token] of [
                [`the admin's key id ${kid.kid} with another key`, forged],
                [`an unknown key id ${kid.kid}0`, unknown],
            ] as const) {
                const r = await statement(httpsUrl, { ca, user: admin.user, token });
                if (r.status !== 401)
                    throw new Error(`${what}: expected HTTP 401, got ${r.status ?? r.error}: ${r.body.slice(0, 200)}`);
                got.push(`${what}: HTTP 401`);
            }
            return got.join("; ");
        },
    );
    await report.check("trino: a query over plain HTTP is refused, anonymous or with the admin's login", async () => {
        const anonymous = await statement(httpUrl, {});
        const login = await statement(httpUrl, { user: admin.user, token: admin.token });
        for (const [who, r] of [
            ["anonymous", anonymous],
            ["the admin's login", login],
        ] as const)
            if (r.status === undefined || r.status < 400)
                throw new Error(
                    `${who} over ${httpUrl}: expected a refusal, got ${r.status ?? r.error}: ${r.body.slice(0, 200)}`,
                );
        return `${httpUrl}: anonymous HTTP ${anonymous.status}, with the admin's login HTTP ${login.status} (${login.body.trim().slice(0, 80)})`;
    });
    await report.check("trino: a client that verifies the certificate with another CA fails", async () => {
        const dir = await anotherCa(work);
        // The same client and login with the platform's CA first: the other CA alone must be what fails.
        const [own] = await python(ctx, "trino_sql.py", { ...admin, catalog: t.catalog, statements: ["SELECT 1"] });
        if (own.ok !== true) throw new Error(`with the platform's CA the query failed too: ${String(own.error)}`);
        const [r] = await python(ctx, "trino_sql.py", {
            ...admin,
            verify: path.join(dir, "ca.crt"),
            catalog: t.catalog,
            statements: ["SELECT 1"],
        });
        if (r.ok === true) throw new Error("the query succeeded with another CA's certificate as the only trust");
        if (!/CERTIFICATE_VERIFY_FAILED|certificate verify failed/i.test(String(r.error)))
            throw new Error(`failed, but not on the certificate: ${String(r.error)}`);
        const node = await statement(httpsUrl, { ca: fs.readFileSync(path.join(dir, "ca.crt"), "utf8") });
        if (node.status !== undefined) throw new Error(`Node's client got HTTP ${node.status} with another CA`);
        return `with the platform's CA: ${JSON.stringify(own.rows)}; with another, Python's client: ${String(r.error).slice(0, 120)}; Node's: ${node.error}`;
    });
    const analyst = trinoClient(ctx, "analyst");
    await report.check("trino: the analyst's login reads the catalog and may not write to it", async () => {
        const [read, write] = await python(ctx, "trino_sql.py", {
            ...analyst,
            catalog: t.catalog,
            statements: [`SELECT count(*) FROM ${table}`, `INSERT INTO ${table} VALUES (9, 'analyst', 1.00)`],
        });
        if (read.ok !== true) throw new Error(`the read failed: ${String(read.error)}`);
        if (write.ok === true) throw new Error("the analyst's INSERT succeeded");
        if (!/Access Denied/i.test(String(write.error)))
            throw new Error(`the INSERT failed, but not on access: ${String(write.error)}`);
        return `SELECT: ${JSON.stringify(read.rows)}; INSERT: ${String(write.error).slice(0, 120)}`;
    });
}

type Pending = { metastore: Promise<Json[]>; s3: Promise<Json[]> };

/** The negative controls: the same server, the same catalog text but one short name. */
async function judgeShortNames(
    ctx: Context,
    pending: Pending,
    controls: Record<"shortname_metastore" | "shortname_s3", string>,
): Promise<void> {
    const { report } = ctx;
    await report.check(
        "short name: the catalog's metastore URI as a short name fails, and the suite says why",
        async () => {
            const [r] = await pending.metastore;
            if (r.ok === true) throw new Error("CREATE SCHEMA succeeded through a short metastore name");
            const host = /hive\.metastore\.uri=thrift:\/\/([^:]+)/.exec(controls.shortname_metastore)![1];
            const causes = ((r.causes as string[]) ?? []).join(" ← ");
            if (
                !new RegExp(`UnknownHost.*${host}|Failed connecting to Hive metastore: \\[${host}:`, "i").test(
                    `${String(r.error)} ${causes}`,
                )
            )
                throw new Error(`failed for another reason: ${String(r.error)} ${causes}`);
            return `thrift://${host}:… does not resolve: ${String(r.error).slice(0, 120)}${causes ? ` ← ${causes.split(" ← ").filter((c) => /UnknownHost/i.test(c))[0] ?? ""}` : ""}`;
        },
    );
    await report.check(
        "short name: the catalog's S3 endpoint as a short name fails, and the suite says why",
        async () => {
            const results = await pending.s3;
            const write = results[1];
            if (write.ok === true) throw new Error("a table was written through a short S3 endpoint name");
            const host = /s3\.endpoint=http:\/\/([^:]+)/.exec(controls.shortname_s3)![1];
            const causes = ((write.causes as string[]) ?? []).join(" ← ");
            if (
                !new RegExp(
                    `UnknownHost.*${host}|${host}.*(Name or service not known|nodename nor servname)`,
                    "i",
                ).test(causes)
            )
                throw new Error(`failed for another reason: ${String(write.error)} ${causes}`);
            return `http://${host}:… does not resolve: ${String(write.error).slice(0, 120)} ← ${causes.split(" ← ").filter((c) => /UnknownHost/i.test(c))[0] ?? causes.slice(-200)}`;
        },
    );
}

async function checkWarehouseFiles(ctx: Context, schema: string): Promise<void> {
    const { report, p } = ctx;
    await report.check(
        "garage: the table's data and metadata files are in the bucket, under the warehouse path",
        async () => {
            const warehouse = p.detail<string>("components.database.warehouse");
            const m = /^s3a?:\/\/([^/]+)\/(.*)$/.exec(warehouse)!;
            const trinoKey = p.detail<GarageCredential>("components.garage.credentials.trino");
            const secret = p.secret(trinoKey.namespace, trinoKey.secretName);
            const [listing] = await python(ctx, "s3_access.py", {
                endpoint: p.detail<string>("components.garage.services.s3.url"),
                region: p.detail<string>("components.garage.region"),
                accessKeyId: secret[trinoKey.accessKeyIdKey],
                secretAccessKey: secret[trinoKey.secretAccessKeyKey],
                probe: "unused",
                list: { bucket: m[1], prefix: `${m[2]}/${schema}.db/` },
            });
            const keys = (listing.list as string[]) ?? [];
            const data = keys.filter((k) => /\/data\/.*\.parquet$/.test(k));
            const metadata = keys.filter((k) => /\/metadata\/.*\.metadata\.json$/.test(k));
            if (data.length === 0 || metadata.length === 0)
                throw new Error(`under ${warehouse}/${schema}.db/: ${keys.join(", ") || "nothing"}`);
            return `${data.length} Parquet data file(s), ${metadata.length} metadata file(s) under ${warehouse}/${schema}.db/`;
        },
    );
}

async function checkMetastoreTable(ctx: Context, schema: string): Promise<void> {
    const { report } = ctx;
    await report.check("hive-metastore: the table is in the metastore's database", async () => {
        const pg = loginOf(ctx, "hive-metastore");
        const r = await run(
            "psql",
            ["-X", "-At", "-h", pg.host, "-p", String(pg.port), "-U", pg.user, "-d", pg.database],
            {
                env: { ...process.env, PGPASSWORD: pg.password },
                input: `SELECT d."NAME" || '.' || t."TBL_NAME" || ' ' || t."TBL_TYPE" FROM "TBLS" t JOIN "DBS" d ON t."DB_ID" = d."DB_ID" WHERE d."NAME" = '${schema}'`,
            },
        );
        if (r.code !== 0) throw new Error(tail(r.output, 4));
        if (!r.stdout.includes(`${schema}.orders`)) throw new Error(`TBLS holds: ${r.stdout.trim() || "nothing"}`);
        return r.stdout.trim().split("\n").join("; ");
    });
}

// ---- dbt ----

/**
 * dbt's login as the code location gets it: its Trino password from the Secret its env names, and
 * the CA file it mounts, here the same ConfigMap's ca.crt at a path of this machine.
 */
function dbtLoginEnv(ctx: Context, ns: string): Record<string, string> {
    const { p } = ctx;
    const deployment = ((p.helmValues("dagster")["dagster-user-deployments"] as Json).deployments as Json[])[0];
    // Resolved as the kubelet resolves the code location's env; dbt takes what comes from Secrets.
    const resolved = p.containerEnv(ns, {
        name: String(deployment.name),
        image: "",
        command: [],
        args: [],
        spec: { env: deployment.env },
    });
    const env = Object.fromEntries(resolved.fromSecrets.map((k) => [k, resolved.env[k]]));
    for (const [name, value] of Object.entries(resolved.env))
        if (value === `${CA_DIR}/ca.crt`) {
            env[name] = caFile(ctx, ns);
            ctx.report.substitute(
                `the ${TRUST_CONFIGMAP} ConfigMap mounted at ${CA_DIR} in the code location`,
                `${env[name]}, the same ca.crt`,
                "no pods to mount it in",
            );
        }
    return env;
}

export async function checkDbt(ctx: Context): Promise<void> {
    const { report, p, work, tc } = ctx;
    const ns = p.detail<string>("components.dagster.namespace");
    const profiles = p.configMap(ns, "dagster-dbt-profiles")["profiles.yml"];
    const parsed = loadYaml(profiles) as Record<
        string,
        { target: string; outputs: Record<string, { schema: string; database: string }> }
    >;
    const profile = Object.keys(parsed)[0];
    const codeEnv = ((p.helmValues("dagster")["dagster-user-deployments"] as Json).deployments as Json[])[0].env as {
        name: string;
        value: string;
    }[];
    const target = codeEnv.find((e) => e.name === "DBT_TARGET")?.value ?? parsed[profile].target;
    const out = parsed[profile].outputs[target];
    const dir = path.join(work, "dbt");
    const profilesDir = path.join(dir, "profiles");
    const project = path.join(dir, "project");
    fs.mkdirSync(profilesDir, { recursive: true });
    fs.mkdirSync(path.join(project, "models"), { recursive: true });
    fs.writeFileSync(path.join(profilesDir, "profiles.yml"), profiles);
    fs.writeFileSync(
        path.join(project, "dbt_project.yml"),
        `name: lakehouse_e2e\nversion: "1.0.0"\nconfig-version: 2\nprofile: ${profile}\nmodel-paths: ["models"]\n`,
    );
    fs.writeFileSync(
        path.join(project, "models", "order_totals.sql"),
        `{{ config(materialized='table') }}\nselect item, sum(amount) as total from ${out.database}.e2e.orders group by item\n`,
    );
    ctx.report.substitute(
        "the dagster-dbt-profiles ConfigMap mounted at DBT_PROFILES_DIR in the code location",
        `${profilesDir}/profiles.yml (unchanged), DBT_PROFILES_DIR set to it, the target from the code location's DBT_TARGET`,
        "no pods; dbt runs on this machine as the code location would run it",
    );
    const env = {
        ...process.env,
        DBT_PROFILES_DIR: profilesDir,
        DBT_TARGET: target,
        DBT_SEND_ANONYMOUS_USAGE_STATS: "false",
        DBT_USE_COLORS: "false",
        ...dbtLoginEnv(ctx, ns),
    };
    for (const [name, args] of [
        [`dbt debug --target ${target} with the program's profiles.yml`, ["debug", "--target", target]],
        [`dbt run --target ${target}: a model materialised on Trino`, ["run", "--target", target]],
    ] as const) {
        await report.check(name, async () => {
            const r = await run(tc.python.dbt, [...args], { cwd: project, env, timeoutMs: 600_000 });
            if (r.code !== 0) throw new Error(tail(r.output, 15));
            return tail(r.stdout, 1);
        });
    }
    await report.check(
        `dbt: the model's table ${out.database}.${out.schema}.order_totals holds the totals, read back through Trino`,
        async () => {
            const [r] = await python(ctx, "trino_sql.py", {
                ...trinoClient(ctx),
                catalog: out.database,
                statements: [`SELECT item, total FROM ${out.database}.${out.schema}.order_totals ORDER BY item`],
            });
            if (r.ok !== true) throw new Error(String(r.error));
            const rows = JSON.stringify(r.rows);
            if (
                rows !==
                JSON.stringify([
                    ["dbt", "30.00"],
                    ["garage", "10.50"],
                    ["trino", "20.25"],
                ])
            )
                throw new Error(`got ${rows}`);
            return rows;
        },
    );
}
