import { strict as assert } from "assert";
import {
    AIRBYTE_ADMIN_KEYS,
    AIRBYTE_ADMIN_SECRET,
    AIRBYTE_PODS,
    airbyteSizing,
    CONNECTOR_PODS,
} from "../components/airbyte";
import { parseQuantity } from "../components/config";
import { CREDENTIALS_REVISION } from "../components/k8s";
import { isSecretPointer, isUnusedCredential } from "../policies/lib/rules";
import { platformConfigOf } from "../offline/run-stack";
import { checkValues, chartKeys } from "../policies/lib/chart-values";
import { isSecretValue, run, Run } from "./helpers/stack";

const RELEASE = "kubernetes:helm.sh/v3:Release";

function release(r: Run) {
    return r.inputs(r.one(RELEASE, "airbyte"));
}

describe("Airbyte", () => {
    const runs: Record<string, Run> = {};
    before(async () => {
        for (const stack of ["dev", "staging", "prod"]) runs[stack] = await run(stack);
    });

    for (const stack of ["dev", "staging"]) {
        describe(`in ${stack}`, () => {
            it("installs the pinned chart v2 from its repository as a named Release in the Airbyte namespace", () => {
                const cfg = platformConfigOf(stack);
                const rel = release(runs[stack]);
                assert.equal(rel.namespace, cfg.namespaces.airbyte);
                assert.equal(rel.chart, "airbyte");
                assert.equal(rel.version, cfg.airbyte.chartVersion);
                assert.equal(rel.repositoryOpts.repo, "https://airbytehq.github.io/charts");
                assert.equal(rel.name, "airbyte", "the release name decides the Service names");
            });

            it("stores state, logs and workload output on Garage through the chart's S3-compatible mode", () => {
                const cfg = platformConfigOf(stack);
                const storage = release(runs[stack]).values.global.storage;
                assert.equal(storage.type, "minio");
                assert.equal(
                    storage.minio.endpoint,
                    `http://garage.${cfg.namespaces.garage}.svc.${cfg.clusterDomain}:3900`,
                );
                assert.equal(storage.minio.s3PathStyleAccess, true);
                assert.equal(storage.secretName, "airbyte-garage-credentials");
                assert.deepEqual(new Set(Object.values(storage.bucket)), new Set(["airbyte"]));
                assert.equal(storage.s3, undefined, "the chart's `s3` mode has no endpoint setting");
                assert.equal(release(runs[stack]).values.minio.enabled, false);
            });

            it("uses the platform PostgreSQL by its FQDN, with the role and password from its Secret", () => {
                const cfg = platformConfigOf(stack);
                const values = release(runs[stack]).values;
                const db = values.global.database;
                assert.equal(db.host, `postgres.${cfg.namespaces.database}.svc.${cfg.clusterDomain}`);
                assert.equal(db.port, 5432);
                assert.equal(db.name, "airbyte");
                assert.equal(db.secretName, "airbyte-postgres-credentials");
                assert.equal(db.userSecretKey, "username");
                assert.equal(db.passwordSecretKey, "password");
                assert.deepEqual(db.replica, { userSecretKey: "username", passwordSecretKey: "password" });
                assert.equal(values.postgresql.enabled, false);
                // The Secrets it names exist in Airbyte's namespace, with the keys it names.
                const r = runs[stack];
                const dbSecret = r.inputs(r.one("kubernetes:core/v1:Secret", "postgres-airbyte-credentials"));
                assert.equal(dbSecret.metadata.namespace, cfg.namespaces.airbyte);
                assert.ok("username" in dbSecret.stringData && "password" in dbSecret.stringData);
                const s3Secret = r.inputs(r.one("kubernetes:core/v1:Secret", "garage-airbyte-credentials"));
                assert.equal(s3Secret.metadata.namespace, cfg.namespaces.airbyte);
            });

            it("keeps every password and key out of the values: only Secret names and keys", () => {
                const r = runs[stack];
                const values = JSON.stringify(release(r).values);
                const credentials = ["postgres-airbyte-credentials", "garage-airbyte-credentials"].flatMap((name) =>
                    Object.values<string>(r.inputs(r.one("kubernetes:core/v1:Secret", name)).stringData),
                );
                for (const c of credentials.filter((c) => c.length > 12))
                    assert.ok(!values.includes(c), "a credential is in Airbyte's values");
                // Where the chart insists on a credential of its own, the values say where the real one is.
                const cfg = platformConfigOf(stack);
                const secrets = r
                    .ofType("kubernetes:core/v1:Secret")
                    .map((x) => r.inputs(x))
                    .filter((x) => x.metadata.namespace === cfg.namespaces.airbyte);
                for (const m of values.matchAll(/"(password|secretAccessKey|accessKeyId)":"([^"]*)"/g)) {
                    // Keycloak's (enterprise only) say why there is none.
                    if (isUnusedCredential(m[2])) continue;
                    assert.ok(isSecretPointer(m[2]), `${m[1]} holds ${JSON.stringify(m[2])}`);
                    const [, secret, key] = /^see Secret (\S+) key (\S+)$/.exec(m[2])!;
                    const target = secrets.find((x) => x.metadata.name === secret);
                    assert.ok(
                        target && key in target.stringData,
                        `${m[1]} points at ${secret}/${key}, which Airbyte's namespace does not hold`,
                    );
                }
            });

            it("leaves no default credential in the chart's own Secret: every value it defaults from is set, and to no credential", () => {
                // The chart renders <release>-airbyte-secrets (a pre-install hook) whatever the pods
                // read, from these values, each with a default credential when empty (upstream
                // templates/config/_storage.tpl and _database.tpl of charts/v2/airbyte).
                const CHART_DEFAULTS: Record<string, string> = {
                    "global.storage.minio.accessKeyId": "minio",
                    "global.storage.minio.secretAccessKey": "minio123",
                    "global.database.password": "airbyte",
                    // templates/config/_keycloak.tpl: rendered into the same Secret in every edition.
                    "keycloak.auth.adminPassword": "airbyte123",
                    "keycloak.database.password": "airbyte",
                };
                const values = release(runs[stack]).values;
                const at = (p: string) => p.split(".").reduce<any>((v, k) => v?.[k], values);
                for (const [path, fallback] of Object.entries(CHART_DEFAULTS)) {
                    const v = at(path);
                    assert.equal(
                        typeof v,
                        "string",
                        `${path} is not set: the chart would write ${JSON.stringify(fallback)}`,
                    );
                    assert.ok(
                        v !== "" && v !== fallback && (isSecretPointer(v) || isUnusedCredential(v)),
                        `${path} = ${JSON.stringify(v)}`,
                    );
                }
                // The user the chart writes beside it is the role the pods log in as (not a credential alone).
                const r = runs[stack];
                assert.equal(
                    at("global.database.user"),
                    r.inputs(r.one("kubernetes:core/v1:Secret", "postgres-airbyte-credentials")).stringData.username,
                );
            });

            it("publishes the server endpoint of the Service the chart creates, and the S3 destination to land data", () => {
                const cfg = platformConfigOf(stack);
                const out = runs[stack].one("lakehouse:ingestion:Airbyte", "airbyte").outputs as any;
                assert.equal(
                    out.serverUrl,
                    `http://airbyte-airbyte-server-svc.${cfg.namespaces.airbyte}.svc.${cfg.clusterDomain}:8001`,
                );
                assert.deepEqual(out.s3Destination, {
                    destinationType: "s3",
                    s3_endpoint: `http://garage.${cfg.namespaces.garage}.svc.${cfg.clusterDomain}:3900`,
                    s3_bucket_name: "lakehouse",
                    s3_bucket_path: "raw/airbyte",
                    s3_bucket_region: "us-east-1",
                    pathStyleAccess: true,
                    credentials: {
                        secretNamespace: cfg.namespaces.airbyte,
                        secretName: "airbyte-garage-credentials",
                        accessKeyIdKey: "AWS_ACCESS_KEY_ID",
                        secretAccessKeyKey: "AWS_SECRET_ACCESS_KEY",
                    },
                });
            });
        });
    }

    it("keeps Airbyte's auth on, with an instance admin the platform generates, read by the chart's bootloader from a Secret", () => {
        const r = runs.dev;
        const cfg = platformConfigOf("dev");
        const values = release(r).values;
        assert.deepEqual(values.global.auth, { enabled: true, secretName: AIRBYTE_ADMIN_SECRET });
        const secrets = r
            .ofType("kubernetes:core/v1:Secret")
            .filter((s) => r.inputs(s).metadata.name === AIRBYTE_ADMIN_SECRET);
        assert.equal(secrets.length, 1);
        const secret = r.inputs(secrets[0]);
        assert.equal(secret.metadata.namespace, cfg.namespaces.airbyte);
        const data = secret.stringData as Record<string, string>;
        assert.deepEqual(Object.keys(data).sort(), Object.values(AIRBYTE_ADMIN_KEYS).sort());
        assert.match(data[AIRBYTE_ADMIN_KEYS.password], /^[A-Za-z0-9]{32}$/);
        assert.match(data[AIRBYTE_ADMIN_KEYS.clientId], /^[0-9a-f-]{36}$/);
        assert.match(data[AIRBYTE_ADMIN_KEYS.jwtSignature], /^[A-Za-z0-9]{64}$/);
        // The password is the stack's secret output, and appears in no value of the chart.
        assert.ok(isSecretValue(r.raw.outputs.airbyteAdminPassword), "a secret output");
        assert.equal(r.outputs.airbyteAdminPassword, data[AIRBYTE_ADMIN_KEYS.password]);
        for (const v of Object.values(data))
            assert.ok(!JSON.stringify(values).includes(v), "no credential in the values");
    });

    it("issues a new instance admin with a new generation of airbyte-admin, and the same one otherwise", async () => {
        const again = await run("dev", { overrides: { "lakehouse-platform:airbyteSize": "medium" } });
        const rotated = await run("dev", {
            overrides: { "lakehouse-platform:credentialGenerations": ["airbyte-admin=2"] },
        });
        const password = (r: Run) => r.outputs.airbyteAdminPassword;
        assert.equal(password(again), password(runs.dev), "stable across an update (the offline engine's seeds)");
        const keepers = (r: Run) =>
            r.inputs(r.one("random:index/randomPassword:RandomPassword", "airbyte-admin-password")).keepers;
        assert.equal(keepers(runs.dev), undefined);
        assert.deepEqual(keepers(rotated), { generation: "2" });
        // The release upgrades (its pods' revision), so Airbyte's bootloader copies the new values.
        const revision = (r: Run) => release(r).values.airbyteBootloader.podAnnotations[CREDENTIALS_REVISION];
        assert.match(revision(rotated), /,airbyte-admin=2$/);
        assert.doesNotMatch(revision(runs.dev), /airbyte-admin/);
    });

    it("sets only keys the pinned chart version reads", () => {
        // Key paths of airbyte 2.2.0's default values.yaml and of every value its templates read,
        // copied from the upstream chart (tests/fixtures/chart-keys/airbyte-2.2.0.json, `npm run chart-keys`).
        for (const stack of ["dev", "staging", "prod"]) {
            const rel = release(runs[stack]);
            const report = checkValues(rel.values, chartKeys("airbyte", rel.version)!);
            assert.deepEqual(report.unknown, [], `${stack}: keys the chart never reads`);
            // The pod security contexts are read whole into the pod spec (their defaults set only
            // fsGroup): what is set there must be fields of a Kubernetes PodSecurityContext.
            const podFields = new Set(["runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "seccompProfile"]);
            for (const p of report.readWhole) {
                const m = /^(\w+)\.podSecurityContext\.(\w+)$/.exec(p);
                // Pod annotations are a map read whole by design: only the credentials revision goes there.
                const annotation = p.endsWith(`.podAnnotations.${CREDENTIALS_REVISION}`);
                assert.ok(
                    (m && podFields.has(m[2])) || annotation,
                    `${stack}: ${p} is accepted only because a parent is read whole`,
                );
            }
            assert.deepEqual(report.unread, [], `${stack}: keys the defaults have but no template reads`);
        }
    });

    it("gives every pod it configures, and the connector pods it launches, requests and limits scaled by airbyteSize", () => {
        for (const stack of ["dev", "staging", "prod"]) {
            const values = release(runs[stack]).values;
            const sizing = airbyteSizing(platformConfigOf(stack).airbyte.size);
            for (const pod of AIRBYTE_PODS) assert.deepEqual(values[pod].resources, sizing[pod], `${stack} ${pod}`);
            for (const pod of CONNECTOR_PODS) {
                assert.deepEqual(values.global.workloads.resources[pod], {
                    cpu: { request: sizing[pod].requests.cpu, limit: sizing[pod].limits.cpu },
                    memory: { request: sizing[pod].requests.memory, limit: sizing[pod].limits.memory },
                });
            }
            for (const s of Object.values(sizing)) {
                assert.ok(parseQuantity(s.limits.memory)! >= parseQuantity(s.requests.memory)!);
                assert.ok(parseQuantity(s.limits.cpu)! >= parseQuantity(s.requests.cpu)!);
            }
        }
        assert.deepEqual(airbyteSizing("large").server, {
            requests: { cpu: "1000m", memory: "4Gi" },
            limits: { cpu: "4", memory: "8Gi" },
        });
    });

    it("installs only once Garage's keys are imported and its database exists", () => {
        const r = runs.dev;
        const dependencies = r.one(RELEASE, "airbyte").dependencies;
        for (const job of ["garage-bootstrap", "postgres-init"]) {
            assert.ok(
                dependencies.includes(r.one("kubernetes:batch/v1:Job", job).urn),
                `the Release does not wait for ${job}`,
            );
        }
    });
});
