// PostgreSQL with postgresTls: the server accepts TLS only, with a certificate from the platform's
// CA, and every client the platform configures verifies it (sslmode=verify-full, the CA mounted).
// What the server and the clients do with these files is the end-to-end suite's and the real
// node's (docs/testing.md); here, what the program hands them.
import { strict as assert } from "assert";
import { load } from "js-yaml";
import { CA_DIR, TRUST_CONFIGMAP } from "../components/certificates";
import { renderHba } from "../components/postgres";
import { DATABASE_LOGIN_CONSUMERS } from "../components/credentials";
import { platformConfigOf } from "../offline/run-stack";
import { run, Run } from "./helpers/stack";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";
const ON = { overrides: { "lakehouse-platform:postgresTls": true } };
const CA_FILE = `${CA_DIR}/ca.crt`;

type Json = Record<string, any>;

function podSpec(r: Run, kind: string, name: string): Json {
    return r.inputs(r.one(`kubernetes:${kind}`, name)).spec.template.spec;
}

/** The CA's file is there: the pod mounts the CA's ConfigMap at CA_DIR in `container`. */
function mountsCa(spec: Json, container: Json): boolean {
    const mount = (container.volumeMounts ?? []).find((m: Json) => m.mountPath === CA_DIR);
    const volume = mount && (spec.volumes ?? []).find((v: Json) => v.name === mount.name);
    return volume?.configMap?.name === TRUST_CONFIGMAP;
}

describe("PostgreSQL with postgresTls", () => {
    const runs: Record<string, Run> = {};
    before(async () => {
        for (const stack of ["dev", "staging"]) runs[stack] = await run(stack, ON);
        runs.off = await run("dev");
    });

    for (const stack of ["dev", "staging"]) {
        describe(`in ${stack}`, () => {
            it("serves TLS only, with the certificate the platform's CA issues for its FQDN", () => {
                const cfg = platformConfigOf(stack);
                const r = runs[stack];
                const spec = podSpec(r, "apps/v1:StatefulSet", "postgres");
                const args: string[] = spec.containers[0].args;
                const settings = Object.fromEntries(
                    args.filter((_, i) => args[i - 1] === "-c").map((a) => a.split("=") as [string, string]),
                );
                assert.equal(settings.ssl, "on");
                assert.equal(settings.ssl_cert_file, "/etc/postgresql/tls/tls.crt");
                assert.equal(settings.ssl_key_file, "/etc/postgresql/tls/tls.key");
                assert.equal(settings.hba_file, "/etc/postgresql/hba/pg_hba.conf");
                const tls = spec.volumes.find((v: Json) => v.name === "tls");
                // PostgreSQL refuses a key file others may read; 0640 root:postgres (fsGroup) it accepts.
                assert.deepEqual(tls.secret, { secretName: "postgres-tls", defaultMode: 0o640 });
                assert.equal(spec.securityContext.fsGroup, 999);
                const hba = r.inputs(r.one(CONFIGMAP, "postgres-hba")).data["pg_hba.conf"];
                const rules = hba.split("\n").filter((l: string) => l !== "" && !l.startsWith("#"));
                assert.deepEqual(
                    rules.map((l: string) => l.split(/\s+/)),
                    [
                        ["local", "all", "postgres", "peer"],
                        ["hostssl", "all", "all", "all", "scram-sha-256"],
                        ["hostnossl", "all", "airbyte", "all", "scram-sha-256"],
                    ],
                    "TLS for every role over the network, but Airbyte's (its chart cannot verify)",
                );
                const rel = r.inputs(r.one(RELEASE, "certificates"));
                const host = `postgres.${cfg.namespaces.database}.svc.${cfg.clusterDomain}`;
                assert.deepEqual(
                    rel.values.servers.find((s: Json) => s.secretName === "postgres-tls"),
                    {
                        secretName: "postgres-tls",
                        namespace: cfg.namespaces.database,
                        generation: 1,
                        dnsNames: [
                            host,
                            `postgres.${cfg.namespaces.database}.svc`,
                            `postgres.${cfg.namespaces.database}`,
                        ],
                    },
                );
                // The CA where a client verifies the server: beside it (init Job, metastore), and Dagster's.
                assert.deepEqual(rel.values.trustNamespaces, [cfg.namespaces.dagster, cfg.namespaces.database].sort());
                assert.ok(!/PRIVATE KEY|BEGIN CERT/.test(JSON.stringify(rel.values)), "no key material in the values");
            });

            it("has every client it configures verify the server against the platform's CA", () => {
                const cfg = platformConfigOf(stack);
                const r = runs[stack];
                const host = `postgres.${cfg.namespaces.database}.svc.${cfg.clusterDomain}`;
                // The init Job, as the superuser.
                const init = podSpec(r, "batch/v1:Job", "postgres-init");
                const env = Object.fromEntries(init.containers[0].env.map((e: Json) => [e.name, e.value]));
                assert.equal(env.PGSSLMODE, "verify-full");
                assert.equal(env.PGSSLROOTCERT, CA_FILE);
                assert.ok(mountsCa(init, init.containers[0]));
                // The metastore: its JDBC URL, in the schema Job and the server.
                const hiveSite = r.inputs(r.one(CONFIGMAP, "hive-metastore-conf")).data["hive-site.xml"];
                assert.ok(
                    hiveSite.includes(
                        `jdbc:postgresql://${host}:5432/metastore?sslmode=verify-full&amp;sslrootcert=${CA_FILE}`,
                    ),
                    "the metastore's JDBC URL verifies the server",
                );
                for (const [kind, name] of [
                    ["batch/v1:Job", "hive-metastore-schema"],
                    ["apps/v1:Deployment", "hive-metastore"],
                ]) {
                    const spec = podSpec(r, kind, name);
                    assert.ok(mountsCa(spec, spec.containers[0]), `${name} mounts the CA`);
                }
                // Dagster: every pod with the instance (webserver, daemon, code location and its runs), and its migration Job.
                const v = r.inputs(r.one(RELEASE, "dagster")).values;
                assert.deepEqual(v.postgresql.postgresqlParams, { sslmode: "verify-full", sslrootcert: CA_FILE });
                for (const pod of [v.dagsterWebserver, v.dagsterDaemon, v["dagster-user-deployments"].deployments[0]])
                    assert.ok(mountsCa(pod, pod), "mounts the CA");
                const migrate = r.ofType("kubernetes:batch/v1:Job").find((j) => j.name === "dagster-migrate")!;
                const mspec = r.inputs(migrate).spec.template.spec;
                assert.ok(mountsCa(mspec, mspec.containers[0]));
                const instance = load(
                    r.inputs(r.one(CONFIGMAP, "dagster-migrate-instance")).data["dagster.yaml"],
                ) as Json;
                assert.deepEqual(instance.storage.postgres.postgres_db.params, {
                    sslmode: "verify-full",
                    sslrootcert: CA_FILE,
                });
                // The wiring check from Dagster's namespace logs in as Dagster does.
                const check = podSpec(r, "batch/v1:Job", "wiring-checks-dagster");
                const psql = check.containers.find((c: Json) => c.name === "psql");
                const penv = Object.fromEntries(psql.env.map((e: Json) => [e.name, e.value]));
                assert.equal(penv.PGSSLMODE, "verify-full");
                assert.equal(penv.PGSSLROOTCERT, CA_FILE);
                assert.ok(mountsCa(check, psql));
            });
        });
    }

    it("leaves PostgreSQL as the image configures it when off (the default): no certificate, no pg_hba.conf of its own", () => {
        const r = runs.off;
        const spec = podSpec(r, "apps/v1:StatefulSet", "postgres");
        assert.ok(!spec.containers[0].args.some((a: string) => a.startsWith("ssl") || a.startsWith("hba_file")));
        assert.ok(!r.ofType(CONFIGMAP).some((c) => c.name === "postgres-hba"));
        assert.ok(!r.ofType(RELEASE).some((x) => x.name === "certificates"));
        const hiveSite = r.inputs(r.one(CONFIGMAP, "hive-metastore-conf")).data["hive-site.xml"];
        assert.match(hiveSite, /jdbc:postgresql:\/\/[^<?]+\/metastore</);
        assert.equal(r.inputs(r.one(RELEASE, "dagster")).values.postgresql.postgresqlParams, undefined);
    });

    it("keeps the CA where Trino's certificate first issued it: the release of a stack that had trinoAuthentication is the same", async () => {
        const both = await run("dev", {
            overrides: { "lakehouse-platform:postgresTls": true, "lakehouse-platform:trinoAuthentication": true },
        });
        const cfg = platformConfigOf("dev");
        const component = both.one("lakehouse:security:Certificates", "certificates");
        assert.ok(
            component.aliases.some(
                (a) => a.name === "trino-certificates" && a.parentUrn?.endsWith("$lakehouse:query:Trino::trino"),
            ),
            "aliased to where trinoAuthentication issued it",
        );
        const rel = both.inputs(both.one(RELEASE, "certificates"));
        assert.equal(rel.namespace, cfg.namespaces.trino);
        assert.deepEqual(
            rel.values.servers.map((s: Json) => s.secretName),
            ["trino-tls", "postgres-tls"],
        );
    });

    it("renews a certificate by its generation (tls/<server>) with no restart: PostgreSQL reloaded by the init Job, Trino reloading by itself", async () => {
        const both = {
            "lakehouse-platform:postgresTls": true,
            "lakehouse-platform:trinoAuthentication": true,
        };
        const before = await run("dev", { overrides: both });
        const after = await run("dev", {
            overrides: { ...both, "lakehouse-platform:credentialGenerations": ["tls/postgres=2", "tls/trino=2"] },
        });
        const servers = (r: Run) =>
            Object.fromEntries(
                r.inputs(r.one(RELEASE, "certificates")).values.servers.map((s: Json) => [s.secretName, s.generation]),
            );
        assert.deepEqual(servers(before), { "trino-tls": 1, "postgres-tls": 1 });
        assert.deepEqual(servers(after), { "trino-tls": 2, "postgres-tls": 2 });
        // Neither server's pods change: nothing restarts.
        assert.deepEqual(
            podSpec(after, "apps/v1:StatefulSet", "postgres"),
            podSpec(before, "apps/v1:StatefulSet", "postgres"),
        );
        const trino = (r: Run) => r.inputs(r.one(RELEASE, "trino")).values;
        assert.deepEqual(trino(after), trino(before));
        // The init Job runs again, waits for the server's copy of the certificate to be the new
        // one, and reloads it; it mounts the certificate, never its key.
        const job = (r: Run) => r.inputs(r.one("kubernetes:batch/v1:Job", "postgres-init")).spec.template;
        assert.notEqual(
            job(after).metadata.annotations["lakehouse-platform/run-checksum"],
            job(before).metadata.annotations["lakehouse-platform/run-checksum"],
        );
        const issued = job(after).spec.volumes.find((v: Json) => v.name === "issued");
        assert.deepEqual(issued.secret, { secretName: "postgres-tls", items: [{ key: "tls.crt", path: "tls.crt" }] });
        assert.match(
            job(after).spec.containers[0].command[2],
            /pg_read_file\(current_setting\('ssl_cert_file'\)\)[\s\S]*pg_reload_conf\(\)/,
        );
    });

    it("admits without TLS only the roles whose clients cannot verify, each named", () => {
        const consumers = DATABASE_LOGIN_CONSUMERS.map((c) => ({ ...c }));
        const exempt = consumers.filter((c) => !c.verifiesTls).map((c) => c.role);
        assert.deepEqual(exempt, ["airbyte"]);
        const all = renderHba(consumers.map((c) => ({ ...c, verifiesTls: true })));
        assert.ok(!/^host(nossl)?\s/m.test(all), "no line admits a connection without TLS");
        assert.match(renderHba(consumers), /^# airbyte: its client cannot verify/m);
    });
});
