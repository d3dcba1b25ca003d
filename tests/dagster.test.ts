import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { load } from "js-yaml";

const parseYaml = (text: string): any => load(text);
import { dagsterSizing, grpcArgs } from "../components/dagster";
import { S3_REGION } from "../components/garage";
import { platformConfigOf } from "../offline/run-stack";
import { chartKeys, chartKeysDir, checkValues, readChartKeysFrom } from "../policies/lib/chart-values";
import { recordChartKeys } from "../offline/chart-keys";
import { run, Run, runFailing } from "./helpers/stack";

const RELEASE = "kubernetes:helm.sh/v3:Release";

function release(r: Run) {
    return r.inputs(r.one(RELEASE, "dagster"));
}

function codeLocation(r: Run) {
    return release(r).values["dagster-user-deployments"].deployments[0];
}

describe("Dagster", () => {
    const runs: Record<string, Run> = {};
    before(async () => {
        for (const stack of ["dev", "staging", "prod"]) runs[stack] = await run(stack);
    });

    for (const stack of ["dev", "staging"]) {
        describe(`in ${stack}`, () => {
            it("installs the pinned dagster chart (this repository's, its values schema self-contained) as a named Release in the Dagster namespace", () => {
                const cfg = platformConfigOf(stack);
                const rel = release(runs[stack]);
                assert.equal(rel.namespace, cfg.namespaces.dagster);
                assert.equal(rel.chart, "charts/dagster");
                assert.equal(rel.version, cfg.dagster.chartVersion);
                assert.equal(rel.repositoryOpts, undefined);
                assert.equal(rel.name, "dagster");
            });

            it("uses the platform PostgreSQL by FQDN instead of the bundled one, with the password Secret in the form the chart reads", () => {
                const cfg = platformConfigOf(stack);
                const r = runs[stack];
                const v = release(r).values;
                assert.equal(v.postgresql.enabled, false);
                assert.equal(
                    v.postgresql.postgresqlHost,
                    `postgres.${cfg.namespaces.database}.svc.${cfg.clusterDomain}`,
                );
                assert.equal(v.postgresql.postgresqlUsername, "dagster");
                assert.equal(v.postgresql.postgresqlDatabase, "dagster");
                assert.equal(v.postgresql.service.port, 5432);
                assert.equal(v.generatePostgresqlPasswordSecret, false);
                assert.equal(v.global.postgresqlSecretName, "dagster-postgres-credentials");
                const secret = r.inputs(r.one("kubernetes:core/v1:Secret", "postgres-dagster-credentials"));
                assert.equal(secret.metadata.namespace, cfg.namespaces.dagster);
                assert.ok("postgresql-password" in secret.stringData, "the chart reads the key postgresql-password");
            });

            it("gives the code location (and its runs) the platform's addresses, as FQDNs, and its Garage key by reference", () => {
                const cfg = platformConfigOf(stack);
                const code = codeLocation(runs[stack]);
                const env = Object.fromEntries(code.env.map((e: { name: string; value: string }) => [e.name, e.value]));
                assert.equal(env.TRINO_HOST, `trino.${cfg.namespaces.trino}.svc.${cfg.clusterDomain}`);
                assert.equal(env.TRINO_PORT, "8080");
                assert.equal(env.TRINO_CATALOG, "lakehouse");
                assert.equal(
                    env.LAKEHOUSE_S3_ENDPOINT,
                    `http://garage.${cfg.namespaces.garage}.svc.${cfg.clusterDomain}:3900`,
                );
                assert.equal(env.LAKEHOUSE_BUCKET, "lakehouse");
                assert.equal(
                    env.AIRBYTE_API_URL,
                    `http://airbyte-airbyte-server-svc.${cfg.namespaces.airbyte}.svc.${cfg.clusterDomain}:8001/api/public/v1`,
                );
                assert.equal(env.DBT_PROFILES_DIR, "/opt/dagster/dbt");
                assert.deepEqual(code.envSecrets, [{ name: "dagster-garage-credentials" }]);
                assert.deepEqual(code.includeConfigInLaunchedRuns, { enabled: true });
                assert.equal(code.image.repository, cfg.dagster.userCode.image);
                assert.equal(code.image.tag, cfg.dagster.userCode.tag);
                assert.deepEqual(code.dagsterApiGrpcArgs, grpcArgs(cfg.dagster.userCode.module));
            });

            it("keeps the compute logs in Garage's lakehouse bucket, written and read with Dagster's key by reference, and calls no one home", () => {
                const cfg = platformConfigOf(stack);
                const v = release(runs[stack]).values;
                assert.equal(v.computeLogManager.type, "S3ComputeLogManager");
                const s3 = v.computeLogManager.config.s3ComputeLogManager;
                assert.equal(s3.endpointUrl, `http://garage.${cfg.namespaces.garage}.svc.${cfg.clusterDomain}:3900`);
                assert.equal(s3.bucket, "lakehouse");
                assert.equal(s3.prefix, "dagster/compute-logs");
                // The webserver reads the logs and the daemon's runs write them: both get the key's
                // Secret (its keys are the AWS variable names boto3 reads) and Garage's region.
                for (const pod of [v.dagsterWebserver, v.dagsterDaemon]) {
                    assert.deepEqual(pod.envSecrets, [{ name: "dagster-garage-credentials" }]);
                    assert.deepEqual(pod.env, [{ name: "AWS_REGION", value: S3_REGION }]);
                }
                assert.equal(v.telemetry.enabled, false);
            });
            it("writes a dbt profile for the environment's target, on Trino's FQDN and port, mounted where dbt looks", () => {
                const cfg = platformConfigOf(stack);
                const r = runs[stack];
                const map = r.inputs(r.one("kubernetes:core/v1:ConfigMap", "dagster-dbt-profiles"));
                assert.equal(map.metadata.namespace, cfg.namespaces.dagster);
                const profile = parseYaml(map.data["profiles.yml"]).lakehouse;
                assert.equal(profile.target, stack);
                const target = profile.outputs[stack];
                assert.equal(target.type, "trino");
                assert.equal(target.host, `trino.${cfg.namespaces.trino}.svc.${cfg.clusterDomain}`);
                assert.equal(target.port, 8080);
                assert.equal(target.database, "lakehouse", "dbt-trino's database is the Trino catalog");
                assert.equal(target.schema, "analytics");
                const code = codeLocation(r);
                assert.deepEqual(code.volumes, [{ name: "dbt-profiles", configMap: { name: "dagster-dbt-profiles" } }]);
                assert.deepEqual(code.volumeMounts, [
                    { name: "dbt-profiles", mountPath: "/opt/dagster/dbt", readOnly: true },
                ]);
                const out = r.one("lakehouse:orchestration:Dagster", "dagster").outputs as any;
                assert.equal(out.dbtProfiles, map.data["profiles.yml"]);
            });

            it("publishes the webserver endpoint of the Service the chart creates for release `dagster`", () => {
                const cfg = platformConfigOf(stack);
                const out = runs[stack].one("lakehouse:orchestration:Dagster", "dagster").outputs as any;
                assert.equal(
                    out.webserverUrl,
                    `http://dagster-dagster-webserver.${cfg.namespaces.dagster}.svc.${cfg.clusterDomain}:80`,
                );
            });

            it("puts no password in the values", () => {
                const r = runs[stack];
                const values = JSON.stringify(release(r).values);
                for (const name of ["postgres-dagster-credentials", "garage-dagster-credentials"]) {
                    for (const v of Object.values<string>(
                        r.inputs(r.one("kubernetes:core/v1:Secret", name)).stringData,
                    )) {
                        if (v.length > 12) assert.ok(!values.includes(v), `a value of ${name} is in Dagster's values`);
                    }
                }
                assert.doesNotMatch(values, /"postgresqlPassword"/);
            });
        });
    }

    it("sets only keys the pinned chart version reads, in the chart and in the code location", () => {
        // Key paths of dagster 1.9.4's default values.yaml (with its user-deployments subchart and the
        // keys of its example code location) and every value its templates read, copied from the upstream
        // chart (tests/fixtures/chart-keys/dagster-1.9.4.json, `npm run chart-keys`).
        for (const stack of ["dev", "staging", "prod"]) {
            const rel = release(runs[stack]);
            const report = checkValues(rel.values, chartKeys("dagster", rel.version)!);
            assert.deepEqual(report.unknown, [], `${stack}: keys the chart never reads`);
            assert.deepEqual(report.unread, [], `${stack}: keys the defaults have but no template reads`);
        }
    });

    it("sizes the webserver, daemon, code location and run pods by dagsterSize", () => {
        for (const stack of ["dev", "staging", "prod"]) {
            const v = release(runs[stack]).values;
            const sizing = dagsterSizing(platformConfigOf(stack).dagster.size);
            assert.deepEqual(v.dagsterWebserver.resources, sizing.webserver);
            assert.deepEqual(v.dagsterDaemon.resources, sizing.daemon);
            assert.deepEqual(codeLocation(runs[stack]).resources, sizing.codeLocation);
            assert.deepEqual(v.runLauncher.config.k8sRunLauncher.resources, sizing.run);
        }
    });

    it("loads a module or a file, as configured", () => {
        assert.deepEqual(grpcArgs("/example_project/example_repo/repo.py"), [
            "--python-file",
            "/example_project/example_repo/repo.py",
        ]);
        assert.deepEqual(grpcArgs("lakehouse_pipelines.definitions"), [
            "--module-name",
            "lakehouse_pipelines.definitions",
        ]);
    });

    it("installs from wherever dagsterChart says: a chart repository, an OCI reference, or another directory", async () => {
        const fromRepo = release(
            await run("dev", {
                overrides: { "lakehouse-platform:dagsterChart": "https://charts.example.com/dagster/" },
            }),
        );
        assert.deepEqual(
            { chart: fromRepo.chart, version: fromRepo.version, repo: fromRepo.repositoryOpts.repo },
            { chart: "dagster", version: "1.9.4", repo: "https://charts.example.com/dagster" },
        );
        const fromOci = release(
            await run("dev", {
                overrides: { "lakehouse-platform:dagsterChart": "oci://registry.example.com/charts/dagster" },
            }),
        );
        assert.deepEqual(
            { chart: fromOci.chart, version: fromOci.version, repositoryOpts: fromOci.repositoryOpts },
            { chart: "oci://registry.example.com/charts/dagster", version: "1.9.4", repositoryOpts: undefined },
        );
        const fromDir = release(
            await run("dev", {
                overrides: { "lakehouse-platform:dagsterChart": "./tests/fixtures/local-chart/dagster" },
            }),
        );
        assert.equal(fromDir.chart, "./tests/fixtures/local-chart/dagster");
        assert.equal(fromDir.repositoryOpts, undefined);
    });

    it("migrates its database once per Dagster version, in a Job that runs before the Release installs or upgrades", async () => {
        const r = runs.dev;
        const cfg = platformConfigOf("dev");
        const jobResource = r.one("kubernetes:batch/v1:Job", "dagster-migrate");
        const job = r.inputs(jobResource);
        assert.equal(job.metadata.name, `dagster-instance-migrate-${cfg.dagster.chartVersion.replace(/\./g, "-")}`);
        const c = job.spec.template.spec.containers[0];
        const values = release(r).values;
        // The Dagster of the webserver and the daemon, stated in the values so all three agree.
        assert.equal(c.image, `${values.dagsterWebserver.image.repository}:${values.dagsterWebserver.image.tag}`);
        assert.deepEqual(values.dagsterDaemon.image, values.dagsterWebserver.image);
        assert.equal(values.dagsterWebserver.image.tag, cfg.dagster.chartVersion);
        assert.deepEqual(c.command, ["dagster", "instance", "migrate"]);
        // The chart's own migrate Job stays off: it is a plain Job that a later upgrade could not patch.
        assert.equal(values.migrate, undefined);
        // Its instance file is the storage the chart configures, from the same values.
        const instance = parseYaml(
            r.inputs(r.one("kubernetes:core/v1:ConfigMap", "dagster-migrate-instance")).data["dagster.yaml"],
        );
        const pg = instance.storage.postgres.postgres_db;
        assert.deepEqual(
            { username: pg.username, hostname: pg.hostname, db_name: pg.db_name, port: pg.port },
            {
                username: values.postgresql.postgresqlUsername,
                hostname: values.postgresql.postgresqlHost,
                db_name: values.postgresql.postgresqlDatabase,
                port: values.postgresql.service.port,
            },
        );
        assert.deepEqual(pg.password, { env: "DAGSTER_PG_PASSWORD" });
        const pw = c.env.find((e: any) => e.name === "DAGSTER_PG_PASSWORD");
        assert.deepEqual(pw.valueFrom.secretKeyRef, {
            name: values.global.postgresqlSecretName,
            key: "postgresql-password",
        });
        assert.ok(
            r.one(RELEASE, "dagster").dependencies.includes(jobResource.urn),
            "the Release waits for the migration",
        );
        assert.ok(
            jobResource.dependencies.includes(r.one("kubernetes:batch/v1:Job", "postgres-init").urn),
            "the migration waits for its database",
        );
        // A new Dagster version is a new Job (replaced, so it runs again); anything else leaves it be.
        const sized = await run("dev", { overrides: { "lakehouse-platform:dagsterSize": "medium" } });
        assert.deepEqual(
            sized.inputs(sized.one("kubernetes:batch/v1:Job", "dagster-migrate")),
            job,
            "a new size does not run the migration again",
        );
        // Another chart version is installed once its value paths are recorded (docs/day-two.md).
        const upgrade = {
            overrides: {
                "lakehouse-platform:dagsterChart": "https://charts.example.com/dagster",
                "lakehouse-platform:dagsterChartVersion": "1.9.5",
                "lakehouse-platform:dagsterUserCodeTag": "1.9.5",
            },
        };
        const refused = await runFailing("dev", upgrade);
        assert.match(refused.message, /dagsterChartVersion.*1\.9\.5.*npm run chart-keys -- dagster/s);
        const keysDir = fs.mkdtempSync(path.join(os.tmpdir(), "chart-keys-"));
        fs.cpSync(chartKeysDir(), keysDir, { recursive: true });
        const pulled = path.join(keysDir, "pulled", "dagster");
        fs.cpSync(path.resolve(__dirname, "..", "charts", "dagster"), pulled, { recursive: true });
        const chartYaml = path.join(pulled, "Chart.yaml");
        fs.writeFileSync(chartYaml, fs.readFileSync(chartYaml, "utf8").replace(/^version: .*$/m, "version: 1.9.5"));
        recordChartKeys(pulled, keysDir);
        readChartKeysFrom(keysDir);
        try {
            const newer = await run("dev", upgrade);
            assert.equal(
                newer.inputs(newer.one("kubernetes:batch/v1:Job", "dagster-migrate")).metadata.name,
                "dagster-instance-migrate-1-9-5",
            );
        } finally {
            readChartKeysFrom(undefined);
        }
    });

    it("waits for its database and Garage key, not for Trino or Airbyte to be up", () => {
        const r = runs.dev;
        const dependencies = r.one(RELEASE, "dagster").dependencies;
        for (const job of ["garage-bootstrap", "postgres-init"])
            assert.ok(dependencies.includes(r.one("kubernetes:batch/v1:Job", job).urn), job);
        assert.ok(!dependencies.includes(r.one("kubernetes:helm.sh/v3:Release", "airbyte").urn));
        assert.ok(!dependencies.includes(r.one("kubernetes:helm.sh/v3:Release", "trino").urn));
    });
});
