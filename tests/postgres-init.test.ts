// Runs the generated PostgreSQL init SQL against a real server, twice and with a consumer added
// later, and checks the catalog rows it would change. Needs a disposable server:
//   eval "$(bash .ci/test-postgres.sh start)"   (what .ci/run does)
// Without LAKEHOUSE_TEST_POSTGRES the tests are skipped, with that message.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run, Run } from "./helpers/stack";

const SERVER = process.env.LAKEHOUSE_TEST_POSTGRES;
const ROLES = ["airbyte", "dagster", "metastore"];

interface Psql {
    status: number;
    stdout: string;
    stderr: string;
}

function psql(url: string, args: string[], env: Record<string, string> = {}): Psql {
    const r = spawnSync("psql", [url, "-X", "-q", "-v", "ON_ERROR_STOP=1", ...args], {
        env: { PATH: process.env.PATH, ...env },
        encoding: "utf8",
    });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function sql(query: string, url = SERVER!): string {
    const r = psql(url, ["-At", "-c", query]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
}

/** The init script and its environment (the role verifiers Secret), as a run registered them. */
function initOf(r: Run): { script: string; env: Record<string, string> } {
    const script = r.inputs(r.one("kubernetes:core/v1:ConfigMap", "postgres-init")).data["init.sql"];
    const env = r.inputs(r.one("kubernetes:core/v1:Secret", "postgres-role-verifiers")).stringData;
    return { script, env };
}

function runInit(init: { script: string; env: Record<string, string> }): Psql {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pg-init-")), "init.sql");
    fs.writeFileSync(file, init.script);
    try {
        return psql(SERVER!, ["-f", file], init.env);
    } finally {
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
}

/** The catalog rows the init may write; `xmin` changes with any update of a row. */
function snapshot(): string {
    const list = ROLES.map((x) => `'${x}'`).join(",");
    // One connection for both queries (psql runs each -c in turn).
    const r = psql(SERVER!, [
        "-At",
        "-c",
        `SELECT rolname, xmin::text, rolpassword, rolcanlogin, rolcreatedb FROM pg_authid WHERE rolname IN (${list}) ORDER BY 1`,
        "-c",
        `SELECT datname, xmin::text, pg_get_userbyid(datdba), datacl::text FROM pg_database WHERE datname IN (${list}, 'postgres') ORDER BY 1`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
}

function rowsOf(snap: string, name: string): string[] {
    return snap.split("\n").filter((l) => l.startsWith(`${name}|`));
}

function loginUrl(role: string, password: string, database: string): string {
    const u = new URL(SERVER!);
    u.username = role;
    u.password = password;
    u.pathname = `/${database}`;
    return u.toString();
}

describe("PostgreSQL init SQL on a real server", function () {
    this.timeout(60_000);
    let withoutDagster: Run;
    let full: Run;

    before(async function () {
        if (!SERVER) {
            console.log(
                '    skipped: no PostgreSQL server for the integration test; set LAKEHOUSE_TEST_POSTGRES (eval "$(bash .ci/test-postgres.sh start)"), as .ci/run does',
            );
            this.skip();
        }
        withoutDagster = await run("dev", {
            overrides: { "lakehouse-platform:components": ["garage", "database", "trino", "airbyte"] },
        });
        full = await run("dev");
        // A disposable server: start from a catalog without the platform's roles (one connection;
        // psql runs each -c in turn, DROP DATABASE outside a transaction). DROP OWNED also revokes
        // what a role was granted on shared objects (Airbyte's CONNECT on postgres), which a plain
        // DROP ROLE refuses: the suite can run again on the same server.
        const roles = ROLES.map((x) => `'${x}'`).join(",");
        const reset = psql(SERVER, [
            ...[...ROLES, "temporal_probe"].flatMap((db) => ["-c", `DROP DATABASE IF EXISTS ${db}`]),
            "-c",
            `DO $$DECLARE r text; BEGIN FOR r IN SELECT rolname FROM pg_roles WHERE rolname IN (${roles}) LOOP EXECUTE format('DROP OWNED BY %I', r); EXECUTE format('DROP ROLE %I', r); END LOOP; END$$`,
            "-c",
            "GRANT CONNECT, TEMPORARY ON DATABASE postgres TO PUBLIC",
        ]);
        assert.equal(reset.status, 0, reset.stderr);
    });

    it("creates each database and role once, and the second run changes nothing", () => {
        const init = initOf(withoutDagster);
        const first = runInit(init);
        assert.equal(first.status, 0, first.stderr);
        assert.equal(
            sql(
                "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname IN ('airbyte','dagster','metastore')",
            ),
            "airbyte,metastore",
        );
        assert.equal(
            sql(
                "SELECT string_agg(datname || ':' || pg_get_userbyid(datdba), ',' ORDER BY datname) FROM pg_database WHERE datname IN ('airbyte','dagster','metastore')",
            ),
            "airbyte:airbyte,metastore:metastore",
        );

        const before = snapshot();
        const second = runInit(init);
        assert.equal(second.status, 0, second.stderr);
        assert.equal(snapshot(), before, "the second run wrote to the catalog");
    });

    it("adds a consumer added later without touching the others, and is a no-op after that", () => {
        const before = snapshot();
        const init = initOf(full);
        const added = runInit(init);
        assert.equal(added.status, 0, added.stderr);
        const after = snapshot();
        assert.equal(rowsOf(after, "dagster").length, 2, "dagster's role and database were not created");
        for (const name of ["airbyte", "metastore", "postgres"])
            assert.deepEqual(rowsOf(after, name), rowsOf(before, name), `${name} was touched`);

        const again = runInit(init);
        assert.equal(again.status, 0, again.stderr);
        assert.equal(snapshot(), after);
    });

    it("lets each role log in with the password in its consumer's Secret, to its own database only", () => {
        const secrets: Record<string, { role: string; password: string }> = {};
        for (const [consumer, key] of [
            ["hive-metastore", "password"],
            ["airbyte", "password"],
            ["dagster", "postgresql-password"],
        ]) {
            const data = full.inputs(
                full.one("kubernetes:core/v1:Secret", `postgres-${consumer}-credentials`),
            ).stringData;
            secrets[consumer] = { role: data.username, password: data[key] };
        }
        for (const { role, password } of Object.values(secrets)) {
            assert.equal(
                sql("SELECT current_user || '@' || current_database()", loginUrl(role, password, role)),
                `${role}@${role}`,
            );
            const wrong = psql(loginUrl(role, `${password}x`, role), ["-c", "SELECT 1"]);
            assert.notEqual(wrong.status, 0, "a wrong password was accepted");
        }
        const { role, password } = secrets.airbyte;
        const elsewhere = psql(loginUrl(role, password, "metastore"), ["-c", "SELECT 1"]);
        assert.notEqual(elsewhere.status, 0);
        assert.match(elsewhere.stderr, /permission denied for database "metastore"/);
        for (const consumer of ["hive-metastore", "dagster"]) {
            const denied = psql(loginUrl(secrets[consumer].role, secrets[consumer].password, "postgres"), [
                "-c",
                "SELECT 1",
            ]);
            assert.match(
                denied.stderr,
                /permission denied for database "postgres"/,
                `${consumer} reached the postgres database`,
            );
        }
    });

    it("lets Airbyte's role create Temporal's databases, from the postgres database as Temporal's setup does, and no other role create any", () => {
        const airbyte = full.inputs(full.one("kubernetes:core/v1:Secret", "postgres-airbyte-credentials")).stringData;
        // temporal-sql-tool connects to `postgres` (or `defaultdb`) to create `temporal` and `temporal_visibility`.
        const created = psql(loginUrl("airbyte", airbyte.password, "postgres"), [
            "-c",
            "CREATE DATABASE temporal_probe",
        ]);
        assert.equal(created.status, 0, created.stderr);
        sql("DROP DATABASE temporal_probe");
        const metastore = full.inputs(
            full.one("kubernetes:core/v1:Secret", "postgres-hive-metastore-credentials"),
        ).stringData;
        const denied = psql(loginUrl("metastore", metastore.password, "metastore"), [
            "-c",
            "CREATE DATABASE temporal_probe",
        ]);
        assert.match(denied.stderr, /permission denied to create database/);
    });

    it("stops with a clear error when a role's verifier is missing from the environment", () => {
        const init = initOf(full);
        const env = { ...init.env };
        delete env.PG_VERIFIER_DAGSTER;
        const r = runInit({ script: init.script, env });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /environment variable PG_VERIFIER_DAGSTER is not set/);
    });
});
