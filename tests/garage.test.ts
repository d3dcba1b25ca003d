import { strict as assert } from "assert";
import { parse as parseToml } from "smol-toml";
import { parseQuantity } from "../components/config";
import { isSecretValue, maskSecrets, SECRET_MASK } from "../offline/engine";
import { platformConfigOf } from "../offline/run-stack";
import { bootstrapJob, creations, freshCluster, runBootstrap } from "./helpers/fake-garage";
import { run, Run } from "./helpers/stack";

const T = {
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    service: "kubernetes:core/v1:Service",
    configMap: "kubernetes:core/v1:ConfigMap",
    secret: "kubernetes:core/v1:Secret",
    job: "kubernetes:batch/v1:Job",
    garage: "lakehouse:storage:Garage",
};

/** Every credential value the stack generated (random secrets and key ids). */
function credentialValues(r: Run): string[] {
    const values: string[] = [];
    for (const x of r.resources) {
        const state = r.inputs({ ...x, inputs: x.state });
        if (x.type === "random:index/randomBytes:RandomBytes") values.push(state.hex, state.base64);
        if (x.type === "random:index/randomPassword:RandomPassword") values.push(state.result);
    }
    return values.filter((v) => typeof v === "string" && v.length >= 16);
}

function containersOf(podSpec: any): any[] {
    return [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])];
}

describe("Garage", () => {
    const runs: Record<string, Run> = {};
    before(async () => {
        for (const stack of ["dev", "staging"]) runs[stack] = await run(stack);
    });

    for (const stack of ["dev", "staging"]) {
        describe(`in ${stack}`, () => {
            it("puts the StatefulSet, Services, ConfigMap and its Secrets in the Garage namespace", () => {
                const r = runs[stack];
                const ns = platformConfigOf(stack).namespaces.garage;
                const sts = r.inputs(r.one(T.statefulSet, "garage"));
                assert.equal(sts.metadata.namespace, ns);
                const services = r
                    .ofType(T.service)
                    .map((s) => r.inputs(s))
                    .filter((s) => s.metadata.namespace === ns);
                assert.deepEqual(services.map((s) => s.metadata.name).sort(), ["garage", "garage-headless"]);
                const s3 = services.find((s) => s.metadata.name === "garage")!;
                assert.equal(s3.spec.type, "ClusterIP");
                assert.deepEqual(
                    s3.spec.ports.map((p: { port: number }) => p.port),
                    [3900],
                );
                assert.equal(sts.spec.serviceName, "garage-headless");
                assert.equal(r.inputs(r.one(T.configMap, "garage-config")).metadata.namespace, ns);
                for (const name of ["garage-daemon", "garage-consumer-keys"])
                    assert.equal(r.inputs(r.one(T.secret, name)).metadata.namespace, ns);
            });

            it("writes garage.toml with the replication factor, region, ports and data paths the config asks for", () => {
                const r = runs[stack];
                const cfg = platformConfigOf(stack);
                const toml = parseToml(r.inputs(r.one(T.configMap, "garage-config")).data["garage.toml"]) as any;
                assert.equal(toml.replication_factor, cfg.garage.replicationFactor);
                assert.equal(toml.s3_api.s3_region, "us-east-1");
                assert.equal(toml.s3_api.api_bind_addr, "[::]:3900");
                assert.equal(toml.rpc_bind_addr, "[::]:3901");
                assert.equal(toml.admin.api_bind_addr, "[::]:3903");
                assert.equal(toml.kubernetes_discovery.namespace, cfg.namespaces.garage);
                assert.equal(
                    toml.rpc_secret,
                    undefined,
                    "the rpc secret comes from the environment, not the ConfigMap",
                );
                assert.equal(toml.admin.admin_token, undefined);
                // The paths in the file are where the volumes are mounted, and the volumes have the configured sizes.
                const sts = r.inputs(r.one(T.statefulSet, "garage"));
                const mounts = Object.fromEntries(
                    sts.spec.template.spec.containers[0].volumeMounts.map((m: { name: string; mountPath: string }) => [
                        m.name,
                        m.mountPath,
                    ]),
                );
                assert.equal(mounts.meta, toml.metadata_dir);
                assert.equal(mounts.data, toml.data_dir);
                const claims = Object.fromEntries(
                    sts.spec.volumeClaimTemplates.map((c: any) => [c.metadata.name, c.spec.resources.requests.storage]),
                );
                assert.deepEqual(claims, { meta: cfg.garage.metadataSize, data: cfg.garage.dataSize });
                assert.equal(sts.spec.replicas, cfg.garage.replicas);
            });

            it("runs Garage with probes, requests and limits, a pinned image and secrets from a Secret", () => {
                const r = runs[stack];
                const cfg = platformConfigOf(stack);
                const c = r.inputs(r.one(T.statefulSet, "garage")).spec.template.spec.containers[0];
                assert.equal(c.image, cfg.garage.image);
                assert.ok(c.readinessProbe && c.livenessProbe);
                assert.deepEqual(c.resources, {
                    requests: cfg.garage.resources.requests,
                    limits: cfg.garage.resources.limits,
                });
                const env = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
                assert.deepEqual(env.GARAGE_RPC_SECRET.valueFrom.secretKeyRef, {
                    name: "garage-daemon",
                    key: "rpc-secret",
                });
                assert.deepEqual(env.GARAGE_ADMIN_TOKEN.valueFrom.secretKeyRef, {
                    name: "garage-daemon",
                    key: "admin-token",
                });
            });

            it("delivers one credentials Secret per consumer, in the consumer's namespace", () => {
                const r = runs[stack];
                const cfg = platformConfigOf(stack);
                const expected: Record<string, string> = {
                    "hive-metastore": cfg.namespaces.database,
                    trino: cfg.namespaces.trino,
                    airbyte: cfg.namespaces.airbyte,
                    dagster: cfg.namespaces.dagster,
                };
                for (const [consumer, namespace] of Object.entries(expected)) {
                    const secret = r.inputs(r.one(T.secret, `garage-${consumer}-credentials`));
                    assert.equal(secret.metadata.namespace, namespace);
                    assert.equal(secret.metadata.name, `${consumer}-garage-credentials`);
                    assert.deepEqual(Object.keys(secret.stringData).sort(), [
                        "AWS_ACCESS_KEY_ID",
                        "AWS_SECRET_ACCESS_KEY",
                    ]);
                    assert.match(secret.stringData.AWS_ACCESS_KEY_ID, /^GK[0-9a-f]{24}$/);
                    assert.match(secret.stringData.AWS_SECRET_ACCESS_KEY, /^[0-9a-f]{64}$/);
                }
                const outputs = r.one(T.garage, "garage").outputs as any;
                assert.deepEqual(
                    Object.fromEntries(
                        Object.entries(outputs.credentialSecrets).map(([k, v]: [string, any]) => [k, v.namespace]),
                    ),
                    expected,
                );
            });

            it("publishes the S3 endpoint from the address registry, and marks every credential secret", () => {
                const r = runs[stack];
                const cfg = platformConfigOf(stack);
                const outputs = r.one(T.garage, "garage").outputs as any;
                assert.equal(
                    outputs.s3Endpoint,
                    `http://garage.${cfg.namespaces.garage}.svc.${cfg.clusterDomain}:3900`,
                );
                assert.equal(outputs.region, "us-east-1");
                assert.deepEqual(outputs.buckets, ["lakehouse", "airbyte"]);
                assert.ok(isSecretValue(outputs.credentials), "the consumers' credentials are not marked secret");
                assert.deepEqual(Object.keys((outputs.credentials as { value: object }).value).sort(), [
                    "airbyte",
                    "dagster",
                    "hive-metastore",
                    "trino",
                ]);
            });

            it("puts no credential in a ConfigMap, a command line or a plain output", () => {
                const r = runs[stack];
                const credentials = credentialValues(r);
                assert.ok(credentials.length >= 6);
                const exposed: string[] = [];
                const check = (where: string, text: string) => {
                    for (const c of credentials) if (text.includes(c)) exposed.push(where);
                };
                for (const cm of r.ofType(T.configMap))
                    check(`ConfigMap ${cm.name}`, JSON.stringify(r.inputs(cm).data));
                for (const x of r.resources.filter((x) => [T.job, T.statefulSet].includes(x.type))) {
                    for (const c of containersOf(r.inputs(x).spec.template.spec)) {
                        check(`${x.name} command`, JSON.stringify([c.command, c.args]));
                        for (const e of c.env ?? [])
                            if (e.value !== undefined) check(`${x.name} env ${e.name}`, e.value);
                    }
                }
                // Outputs with every secret masked must not contain a credential.
                for (const x of r.raw.resources)
                    if (x.outputs) check(`outputs of ${x.type} ${x.name}`, JSON.stringify(maskSecrets(x.outputs)));
                assert.deepEqual(exposed, []);
                assert.ok(JSON.stringify(maskSecrets(r.one(T.garage, "garage").outputs)).includes(SECRET_MASK));
            });
        });
    }

    describe("bootstrap Job", () => {
        it("runs the pinned Garage image's CLI with the stack's script, rerun when the script changes", () => {
            const r = runs.dev;
            const job = r.inputs(r.one(T.job, "garage-bootstrap"));
            const c = job.spec.template.spec.containers[0];
            assert.equal(c.image, platformConfigOf("dev").garage.image);
            assert.match(job.spec.template.metadata.annotations["lakehouse-platform/run-checksum"], /^[0-9a-f]{16}$/);
            assert.equal(job.metadata.namespace, "garage");
        });

        for (const stack of ["dev", "staging"]) {
            it(`${stack}: creates the layout, buckets and keys on the first run and changes nothing on the second`, async () => {
                const cfg = platformConfigOf(stack);
                const job = bootstrapJob(runs[stack]);
                const first = await runBootstrap(
                    job,
                    freshCluster(job, cfg.garage.replicas, cfg.garage.replicationFactor),
                );
                assert.equal(first.status, 0, first.stderr);

                const s = first.state;
                assert.equal(s.layout.version, 1);
                assert.equal(Object.keys(s.layout.roles).length, cfg.garage.replicas);
                for (const role of Object.values(s.layout.roles)) {
                    assert.deepEqual(role, { zone: stack, capacity: parseQuantity(cfg.garage.dataSize) });
                }
                assert.deepEqual(Object.keys(s.buckets).sort(), ["airbyte", "lakehouse"]);

                // Keys are the ones in the consumers' Secrets, each allowed exactly its buckets.
                const r = runs[stack];
                const byName = Object.fromEntries(
                    Object.entries(s.keys).map(([id, k]) => [k.name, { id, secret: k.secret }]),
                );
                assert.deepEqual(Object.keys(byName).sort(), ["airbyte", "dagster", "hive-metastore", "trino"]);
                const rw = { read: true, write: true, owner: false };
                const none = { read: false, write: false, owner: false };
                const expected: Record<string, Record<string, object>> = {
                    "hive-metastore": { lakehouse: rw, airbyte: none },
                    trino: { lakehouse: rw, airbyte: none },
                    airbyte: { lakehouse: rw, airbyte: rw },
                    dagster: { lakehouse: rw, airbyte: none },
                };
                for (const [name, perms] of Object.entries(expected)) {
                    const secret = r.inputs(r.one(T.secret, `garage-${name}-credentials`)).stringData;
                    assert.equal(byName[name].id, secret.AWS_ACCESS_KEY_ID);
                    assert.equal(byName[name].secret, secret.AWS_SECRET_ACCESS_KEY);
                    for (const [bucket, p] of Object.entries(perms))
                        assert.deepEqual(s.buckets[bucket].keys[byName[name].id], p, `${name} on ${bucket}`);
                }

                const second = await runBootstrap(job, { ...s, log: [] });
                assert.equal(second.status, 0, second.stderr);
                assert.deepEqual({ ...second.state, log: [] }, { ...s, log: [] }, "the second run changed the cluster");
                assert.deepEqual(creations(second.state.log), []);
            });
        }

        it("waits for the admin API and for every node before assigning the layout", async () => {
            const job = bootstrapJob(runs.staging);
            const state = { ...freshCluster(job, 3, 3), adminDownFor: 2, availableNodes: 0, nodesJoinOnStatus: true };
            const result = await runBootstrap(job, state);
            assert.equal(result.status, 0, result.stderr);
            assert.match(result.stderr, /waiting for the Garage admin API/);
            assert.match(result.stderr, /waiting for Garage nodes: [12] of 3 up/);
            assert.equal(Object.keys(result.state.layout.roles).length, 3);
        });

        it("gives up with a clear error when the nodes never come up", async () => {
            const job = bootstrapJob(runs.staging);
            const result = await runBootstrap(job, { ...freshCluster(job, 3, 3), availableNodes: 2 });
            assert.notEqual(result.status, 0);
            assert.match(result.stderr, /only 2 of 3 Garage nodes are up after 5 attempts/);
            assert.equal(result.state.layout.version, 0);
        });

        it("fails loudly on an unexpected error, and tolerates 'already exists'", async () => {
            const job = bootstrapJob(runs.dev);
            const broken = await runBootstrap(job, { ...freshCluster(job, 1, 1), failOn: "bucket create lakehouse" });
            assert.notEqual(broken.status, 0);
            assert.match(broken.stderr, /Internal error: injected failure/);
            assert.match(broken.stderr, /ERROR: failed: bucket lakehouse/);

            // `bucket info` fails, so the script tries to create a bucket that is there: that is fine.
            const done = (await runBootstrap(job, freshCluster(job, 1, 1))).state;
            const racing = await runBootstrap(job, { ...done, failOn: "bucket info lakehouse", log: [] });
            assert.equal(racing.status, 0, racing.stderr);
            assert.match(racing.stderr, /already done: bucket lakehouse/);
        });

        it("imports only the new key when a consumer is added later", async () => {
            const smaller = await run("dev", {
                overrides: { "lakehouse-platform:components": ["garage", "database", "trino"] },
            });
            const firstJob = bootstrapJob(smaller);
            const before = await runBootstrap(firstJob, freshCluster(firstJob, 1, 1));
            assert.equal(before.status, 0, before.stderr);
            assert.deepEqual(
                Object.values(before.state.keys)
                    .map((k) => k.name)
                    .sort(),
                ["hive-metastore", "trino"],
            );

            const job = bootstrapJob(runs.dev);
            assert.notEqual(job.script, firstJob.script);
            const after = await runBootstrap(job, { ...before.state, log: [] });
            assert.equal(after.status, 0, after.stderr);
            assert.deepEqual(creations(after.state.log), [
                `key import ${job.env.KEY_AIRBYTE_ID}`,
                `key import ${job.env.KEY_DAGSTER_ID}`,
            ]);
        });
    });
});
