import { strict as assert } from "assert";
import { XMLParser } from "fast-xml-parser";
import { metastoreHeapMb } from "../components/hive-metastore";
import { renderInitSql, scramSha256Verifier } from "../components/postgres";
import { platformConfigOf } from "../offline/run-stack";
import { run, Run } from "./helpers/stack";

const T = {
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    deployment: "kubernetes:apps/v1:Deployment",
    service: "kubernetes:core/v1:Service",
    configMap: "kubernetes:core/v1:ConfigMap",
    secret: "kubernetes:core/v1:Secret",
    job: "kubernetes:batch/v1:Job",
};

/** name → value of a Hadoop configuration file, parsed back with an XML parser. */
function hadoopConf(xml: string): Record<string, string> {
    const doc = new XMLParser({ parseTagValue: false, isArray: (name) => name === "property" }).parse(xml);
    return Object.fromEntries(
        (doc.configuration.property as { name: string; value: string }[]).map((p) => [p.name, String(p.value)]),
    );
}

function workloads(r: Run) {
    return r.resources
        .filter((x) => [T.statefulSet, T.deployment, T.job].includes(x.type))
        .map((x) => ({ name: x.name, ...r.inputs(x) }));
}

function containers(w: any): any[] {
    const spec = w.spec.template.spec;
    return [...(spec.initContainers ?? []), ...spec.containers];
}

describe("metadata database and Hive Metastore", () => {
    const runs: Record<string, Run> = {};
    before(async () => {
        for (const stack of ["dev", "staging"]) runs[stack] = await run(stack);
    });

    for (const stack of ["dev", "staging"]) {
        describe(`in ${stack}`, () => {
            it("runs PostgreSQL and the metastore in the database namespace, with their Services", () => {
                const r = runs[stack];
                const ns = platformConfigOf(stack).namespaces.database;
                assert.equal(r.inputs(r.one(T.statefulSet, "postgres")).metadata.namespace, ns);
                assert.equal(r.inputs(r.one(T.deployment, "hive-metastore")).metadata.namespace, ns);
                const services = Object.fromEntries(
                    r
                        .ofType(T.service)
                        .map((s) => r.inputs(s))
                        .filter((s) => s.metadata.namespace === ns)
                        .map((s) => [s.metadata.name, s.spec.ports.map((p: { port: number }) => p.port)]),
                );
                assert.deepEqual(services, { postgres: [5432], "hive-metastore": [9083] });
            });

            it("writes core-site.xml and hive-site.xml with the Garage FQDN, us-east-1, path-style access and the warehouse", () => {
                const r = runs[stack];
                const cfg = platformConfigOf(stack);
                const data = r.inputs(r.one(T.configMap, "hive-metastore-conf")).data;
                const core = hadoopConf(data["core-site.xml"]);
                assert.equal(
                    core["fs.s3a.endpoint"],
                    `http://garage.${cfg.namespaces.garage}.svc.${cfg.clusterDomain}:3900`,
                );
                assert.equal(core["fs.s3a.endpoint.region"], "us-east-1");
                assert.equal(core["fs.s3a.path.style.access"], "true");
                assert.equal(core["fs.s3a.connection.ssl.enabled"], "false");
                // No DeleteObjects of parent markers (Garage answers NoSuchKey and S3A retries for minutes).
                assert.equal(core["fs.s3a.directory.marker.retention"], "keep");
                // What the metastore deletes (a failed create_database's rollback, HIVE-29843) goes to the trash.
                assert.equal(core["fs.trash.interval"], String(7 * 24 * 60));
                const hive = hadoopConf(data["hive-site.xml"]);
                assert.equal(hive["metastore.warehouse.dir"], "s3a://lakehouse/warehouse");
                assert.equal(
                    hive["javax.jdo.option.ConnectionURL"],
                    `jdbc:postgresql://postgres.${cfg.namespaces.database}.svc.${cfg.clusterDomain}:5432/metastore`,
                );
                assert.equal(hive["javax.jdo.option.ConnectionUserName"], "metastore");
                assert.equal(hive["javax.jdo.option.ConnectionPassword"], "${env.METASTORE_DB_PASSWORD}");
            });

            it("runs the metastore as the image documents: service, driver, custom conf, S3A classpath, S3 keys from its Garage Secret", () => {
                const r = runs[stack];
                const d = r.inputs(r.one(T.deployment, "hive-metastore"));
                const c = d.spec.template.spec.containers[0];
                assert.match(c.image, /^apache\/hive:4\.0\.\d+$/);
                const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
                assert.equal(env.SERVICE_NAME.value, "metastore");
                assert.equal(env.DB_DRIVER.value, "postgres");
                assert.equal(env.HADOOP_CLASSPATH.value, "/opt/hadoop/share/hadoop/tools/lib/*");
                assert.deepEqual(env.METASTORE_DB_PASSWORD.valueFrom.secretKeyRef, {
                    name: "hive-metastore-postgres-credentials",
                    key: "password",
                });
                assert.deepEqual(c.envFrom, [{ secretRef: { name: "hive-metastore-garage-credentials" } }]);
                // The entrypoint links regular files from HIVE_CUSTOM_CONF_DIR, so both files are mounted there one by one.
                const mounts = c.volumeMounts.filter((m: any) =>
                    m.mountPath.startsWith(env.HIVE_CUSTOM_CONF_DIR.value),
                );
                assert.deepEqual(mounts.map((m: any) => m.subPath).sort(), ["core-site.xml", "hive-site.xml"]);
                assert.deepEqual(c.readinessProbe.tcpSocket, { port: "thrift" });
                // The JDBC driver is downloaded by an init container into the image's lib directory.
                const init = d.spec.template.spec.initContainers[0];
                assert.equal(init.name, "jdbc-driver");
                assert.ok(c.volumeMounts.some((m: any) => m.mountPath === "/opt/hive/lib/postgresql-jdbc.jar"));
                assert.match(init.command.join(" "), /sha1sum -c/);
            });

            it("initialises the schema once, in a Job, so every replica starts right away on it (the pods skip schematool)", () => {
                const r = runs[stack];
                const jobResource = r.one(T.job, "hive-metastore-schema");
                const job = r.inputs(jobResource);
                const c = job.spec.template.spec.containers[0];
                const deployment = r.inputs(r.one(T.deployment, "hive-metastore")).spec.template.spec.containers[0];
                assert.equal(c.image, deployment.image, "the same Hive as the server");
                assert.match(
                    c.command.join(" "),
                    /"\$HIVE_HOME\/bin\/schematool" -dbType "\$DB_DRIVER" -initOrUpgradeSchema$/,
                );
                const env = (x: any) => Object.fromEntries(x.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
                for (const name of ["DB_DRIVER", "HIVE_CUSTOM_CONF_DIR", "METASTORE_DB_PASSWORD"])
                    assert.deepEqual(env(c)[name], env(deployment)[name], name);
                assert.deepEqual(c.volumeMounts, deployment.volumeMounts, "the same files and driver");
                // The image's entrypoint runs schematool at start unless IS_RESUME is true.
                assert.equal(env(deployment).IS_RESUME, "true");
                assert.equal(env(c).IS_RESUME, undefined);
                assert.ok(
                    r.one(T.deployment, "hive-metastore").dependencies.includes(jobResource.urn),
                    "the pods wait for the schema",
                );
                assert.ok(
                    !jobResource.dependencies.includes(r.one(T.job, "garage-bootstrap").urn),
                    "the schema needs only the database",
                );
                assert.ok(jobResource.dependencies.includes(r.one(T.job, "postgres-init").urn));
            });

            it("runs the schema Job again exactly when the image or the configuration changes", async () => {
                const checksumOf = (x: Run) =>
                    x.inputs(x.one(T.job, "hive-metastore-schema")).spec.template.metadata.annotations[
                        "lakehouse-platform/run-checksum"
                    ];
                const r = runs[stack];
                const again = await run(stack, { overrides: { "lakehouse-platform:hiveMetastoreReplicas": 3 } });
                assert.equal(checksumOf(again), checksumOf(r), "more replicas: no new schema run");
                const upgraded = await run(stack, {
                    overrides: { "lakehouse-platform:hiveMetastoreImage": "apache/hive:4.0.2" },
                });
                assert.notEqual(checksumOf(upgraded), checksumOf(r), "a new image upgrades the schema first");
            });

            it("tells DataNucleus, by the key Hive reads, never to create tables itself", () => {
                const hive = hadoopConf(
                    runs[stack].inputs(runs[stack].one(T.configMap, "hive-metastore-conf")).data["hive-site.xml"],
                );
                assert.equal(hive["datanucleus.schema.autoCreateAll"], "false");
                assert.equal(hive["datanucleus.autoCreateSchema"], undefined, "not a key Hive reads");
                assert.equal(hive["metastore.schema.verification"], "true");
            });

            it("publishes the metastore URI and the PostgreSQL endpoint from the address registry", () => {
                const r = runs[stack];
                const cfg = platformConfigOf(stack);
                const hms = r.one("lakehouse:database:HiveMetastore", "hive-metastore").outputs as any;
                assert.equal(
                    hms.metastoreUri,
                    `thrift://hive-metastore.${cfg.namespaces.database}.svc.${cfg.clusterDomain}:9083`,
                );
                const db = r.one("lakehouse:database:MetadataDatabase", "postgres").outputs as any;
                assert.equal(db.postgresEndpoint, `postgres.${cfg.namespaces.database}.svc.${cfg.clusterDomain}:5432`);
                assert.equal(
                    db.jdbcUrls.dagster,
                    `jdbc:postgresql://postgres.${cfg.namespaces.database}.svc.${cfg.clusterDomain}:5432/dagster`,
                );
            });

            it("delivers each consumer's password as a Secret in the consumer's namespace", () => {
                const r = runs[stack];
                const cfg = platformConfigOf(stack);
                const expected = {
                    "hive-metastore": [cfg.namespaces.database, "password"],
                    airbyte: [cfg.namespaces.airbyte, "password"],
                    dagster: [cfg.namespaces.dagster, "postgresql-password"],
                };
                for (const [consumer, [namespace, key]] of Object.entries(expected)) {
                    const s = r.inputs(r.one(T.secret, `postgres-${consumer}-credentials`));
                    assert.equal(s.metadata.namespace, namespace);
                    assert.deepEqual(Object.keys(s.stringData).sort(), [key, "username"].sort());
                    assert.match(s.stringData[key], /^[A-Za-z0-9]{32}$/);
                }
            });

            it("references every password through a Secret, never as a literal in a ConfigMap or env value", () => {
                const r = runs[stack];
                const passwords = r
                    .ofType("random:index/randomPassword:RandomPassword")
                    .map((p) => r.inputs({ ...p, inputs: p.state }).result as string);
                assert.ok(passwords.length >= 5);
                for (const cm of r.ofType(T.configMap)) {
                    const text = JSON.stringify(r.inputs(cm).data);
                    for (const p of passwords) assert.ok(!text.includes(p), `a password is in ConfigMap ${cm.name}`);
                }
                for (const w of workloads(r)) {
                    for (const c of containers(w)) {
                        for (const e of c.env ?? []) {
                            if (/PASSWORD|SECRET|TOKEN|VERIFIER/.test(e.name))
                                assert.ok(
                                    e.valueFrom?.secretKeyRef,
                                    `${w.name}/${c.name} ${e.name} is not a secretKeyRef`,
                                );
                            if (e.value !== undefined)
                                for (const p of passwords) assert.ok(!e.value.includes(p), `${w.name} ${e.name}`);
                        }
                        const commandLine = JSON.stringify([c.command, c.args]);
                        for (const p of passwords)
                            assert.ok(!commandLine.includes(p), `a password is on ${w.name}'s command line`);
                    }
                }
            });
        });
    }

    it("initialises the databases with a Job that runs the generated SQL as the superuser, after PostgreSQL is up", () => {
        const r = runs.dev;
        const job = r.inputs(r.one(T.job, "postgres-init"));
        const c = job.spec.template.spec.containers[0];
        const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
        assert.equal(env.PGHOST.value, "postgres.database.svc.cluster.local");
        assert.deepEqual(env.PGPASSWORD.valueFrom.secretKeyRef, { name: "postgres-superuser", key: "password" });
        assert.deepEqual(c.envFrom, [{ secretRef: { name: "postgres-role-verifiers" } }]);
        const sql = r.inputs(r.one(T.configMap, "postgres-init")).data["init.sql"];
        for (const role of ["metastore", "airbyte", "dagster"])
            assert.match(sql, new RegExp(`\\\\getenv verifier_${role} PG_VERIFIER_${role.toUpperCase()}`));
        const dependencies = r.one(T.job, "postgres-init").dependencies;
        assert.ok(dependencies.includes(r.one(T.statefulSet, "postgres").urn));
    });

    it("makes the SCRAM-SHA-256 verifier PostgreSQL itself stores for a password", () => {
        // Stored by PostgreSQL 15 for `CREATE ROLE ... PASSWORD 'pencil'` (password_encryption = scram-sha-256).
        const stored =
            "SCRAM-SHA-256$4096:Ip/I589oB+7PVnZAeCY/6Q==$JZaWfiamMEZNgohHp2rrY8FDmdDtItrclhRRr7ANiSg=:KVNF93i3zxJEMuHYiOi3laNnnhHGouYh/egwyoZfWus=";
        assert.equal(scramSha256Verifier("pencil", Buffer.from("Ip/I589oB+7PVnZAeCY/6Q==", "base64")), stored);
        assert.throws(() => scramSha256Verifier("pass word", Buffer.alloc(16)), /printable ASCII/);
    });

    it("refuses identifiers it would have to quote", () => {
        assert.throws(
            () =>
                renderInitSql([
                    {
                        name: "x",
                        component: "database",
                        namespace: "x",
                        database: "Meta-Store",
                        role: "ok",
                        passwordKey: "password",
                        generation: 1,
                        verifiesTls: true,
                    },
                ]),
            /not a plain identifier/,
        );
    });

    it("gives the metastore JVM three quarters of its memory limit", () => {
        assert.equal(metastoreHeapMb("1Gi"), 768);
        assert.equal(metastoreHeapMb("2Gi"), 1536);
    });
});
