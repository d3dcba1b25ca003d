// Day two: rotating a generated credential is raising its generation in the stack config. The next
// run issues the new credential, orders the rollout (issuer first, then the consumer's Secret, then
// its pods) and retires the old one; and the bootstrap refuses a Garage that holds another secret.
import { strict as assert } from "assert";
import { ConfigError, parsePlatformConfig } from "../components/config";
import { credentialName, garageKeyIdHex, generationKeepers } from "../components/credentials";
import { CREDENTIALS_REVISION } from "../components/k8s";
import { ProgramError } from "../offline/engine";
import { platformConfigOf } from "../offline/run-stack";
import { bootstrapJob, freshCluster, retireJob, runBootstrap } from "./helpers/fake-garage";
import { beyondTlsAdvisories, judgeRun } from "./helpers/policy";
import { run, Run, runFailing } from "./helpers/stack";

const P = "lakehouse-platform";
const T = {
    secret: "kubernetes:core/v1:Secret",
    job: "kubernetes:batch/v1:Job",
    release: "kubernetes:helm.sh/v3:Release",
    sts: "kubernetes:apps/v1:StatefulSet",
    deployment: "kubernetes:apps/v1:Deployment",
    configMap: "kubernetes:core/v1:ConfigMap",
};

const rotated = (...entries: string[]) => ({ overrides: { [`${P}:credentialGenerations`]: entries } });

/** Does `a` wait for `b`, directly or through what it waits for? */
function waitsFor(r: Run, a: { urn: string }, b: { urn: string }): boolean {
    const seen = new Set<string>();
    const stack = [a.urn];
    while (stack.length > 0) {
        const urn = stack.pop()!;
        if (urn === b.urn) return true;
        if (seen.has(urn)) continue;
        seen.add(urn);
        stack.push(...(r.byUrn(urn)?.dependencies ?? []));
    }
    return false;
}

const stringData = (r: Run, name: string) => r.inputs(r.one(T.secret, name)).stringData as Record<string, string>;
const podAnnotations = (r: Run, type: string, name: string) =>
    r.inputs(r.one(type, name)).spec.template.metadata.annotations as Record<string, string>;

describe("credential rotation", () => {
    let base: Run;
    before(async () => {
        base = await run("dev");
    });

    describe("the config", () => {
        const parse = (entries: unknown, extra: Record<string, string> = {}) =>
            parsePlatformConfig(
                { kubeContext: "kind-dev", credentialGenerations: JSON.stringify(entries), ...extra },
                P,
                "dev",
            );
        const problems = (entries: unknown, extra: Record<string, string> = {}) => {
            try {
                parse(entries, extra);
            } catch (e) {
                if (e instanceof ConfigError) return e.problems.map((p) => p.expected);
                throw e;
            }
            return [];
        };

        it("takes <credential>=<generation> for every credential the stack issues, 1 when unlisted", () => {
            const cfg = parse([
                "garage-key/trino=2",
                "database-login/airbyte=3",
                "garage-admin-token=2",
                "garage-rpc-secret=4",
            ]);
            assert.deepEqual(cfg.credentialGenerations, {
                "garage-key/trino": 2,
                "database-login/airbyte": 3,
                "garage-admin-token": 2,
                "garage-rpc-secret": 4,
            });
            assert.deepEqual(parse([]).credentialGenerations, {});
        });

        it("refuses unknown credentials (listing the real ones), malformed entries, repeats and bad numbers", () => {
            assert.match(
                problems(["garage-key/trinno=2"]).join("\n"),
                /"garage-key\/trinno" is not a credential the platform generates; they are garage-key\/hive-metastore, garage-key\/trino/,
            );
            assert.match(problems(["trino"]).join("\n"), /"trino" is not <credential>=<generation>/);
            assert.match(
                problems(["garage-key/trino=2", "garage-key/trino=3"]).join("\n"),
                /garage-key\/trino is listed twice/,
            );
            assert.match(problems(["garage-key/trino=0"]).join("\n"), /an integer from 1 to 1,000/);
            assert.match(problems(["garage-key/trino=1001"]).join("\n"), /an integer from 1 to 1,000/);
            assert.match(problems("garage-key/trino=2").join("\n"), /a list of strings/);
        });

        it("refuses a credential the stack does not issue: in a split, each stack rotates its own", () => {
            const query = {
                components: JSON.stringify(["trino"]),
                upstreamStacks: JSON.stringify(["acme/lakehouse-platform/storage-dev"]),
            };
            assert.match(
                problems(["garage-key/trino=2"], query).join("\n"),
                /garage-key\/trino is not issued by this stack/,
            );
            const storage = {
                components: JSON.stringify(["garage", "database"]),
                downstreamComponents: JSON.stringify(["trino"]),
            };
            assert.deepEqual(problems(["garage-key/trino=2"], storage), []);
            assert.match(
                problems(["garage-key/airbyte=2"], storage).join("\n"),
                /garage-key\/airbyte is not issued by this stack/,
            );
        });

        it("fails the run before any resource is registered, like every config problem", async () => {
            const err = await runFailing("dev", rotated("garage-key/nobody=2"));
            assert.ok(err instanceof ProgramError);
            assert.match(err.message, /lakehouse-platform:credentialGenerations/);
            assert.equal(err.resources.filter((r) => r.type.startsWith("kubernetes:")).length, 0);
        });
    });

    describe("generation 1 is the credential a stack already has", () => {
        it("no keepers at generation 1, so stacks created before rotation keep every value", async () => {
            assert.equal(generationKeepers(1), undefined);
            assert.deepEqual(generationKeepers(2), { generation: "2" });
            const explicit = await run(
                "dev",
                rotated("garage-key/trino=1", "database-login/airbyte=1", "garage-admin-token=1"),
            );
            for (const name of ["garage-trino-credentials", "postgres-airbyte-credentials", "garage-daemon"])
                assert.deepEqual(stringData(explicit, name), stringData(base, name), name);
        });

        it("derives each later key id from the first, so earlier ids stay nameable", () => {
            const first = "0123456789abcdef01234567";
            assert.equal(garageKeyIdHex(first, 1), first);
            const ids = [2, 3, 4].map((g) => garageKeyIdHex(first, g));
            assert.equal(new Set([first, ...ids]).size, 4);
            for (const id of ids) assert.match(id, /^[0-9a-f]{24}$/);
            assert.equal(garageKeyIdHex(first, 3), ids[1], "the same every run");
        });
    });

    describe("one consumer's Garage key", () => {
        let r: Run;
        before(async () => {
            r = await run("dev", rotated("garage-key/trino=2"));
        });

        it("issues trino a new key id and secret, and nobody else anything new", () => {
            const before = stringData(base, "garage-trino-credentials");
            const after = stringData(r, "garage-trino-credentials");
            assert.notEqual(after.AWS_ACCESS_KEY_ID, before.AWS_ACCESS_KEY_ID);
            assert.notEqual(after.AWS_SECRET_ACCESS_KEY, before.AWS_SECRET_ACCESS_KEY);
            assert.equal(after.AWS_ACCESS_KEY_ID, `GK${garageKeyIdHex(before.AWS_ACCESS_KEY_ID.slice(2), 2)}`);
            for (const other of ["hive-metastore", "airbyte", "dagster"])
                assert.deepEqual(
                    stringData(r, `garage-${other}-credentials`),
                    stringData(base, `garage-${other}-credentials`),
                    other,
                );
        });

        it("writes trino's Secret only after the bootstrap put the key into Garage, and rolls only Trino", () => {
            assert.ok(waitsFor(r, r.one(T.secret, "garage-trino-credentials"), r.one(T.job, "garage-bootstrap")));
            const values = (run: Run, release: string) => run.inputs(run.one(T.release, release)).values;
            assert.equal(values(r, "trino").coordinator.annotations[CREDENTIALS_REVISION], "garage-key/trino=2");
            assert.equal(values(r, "trino").worker.annotations[CREDENTIALS_REVISION], "garage-key/trino=2");
            assert.equal(values(base, "trino").coordinator.annotations[CREDENTIALS_REVISION], "garage-key/trino=1");
            assert.deepEqual(values(r, "airbyte"), values(base, "airbyte"));
            assert.deepEqual(
                podAnnotations(r, T.deployment, "hive-metastore"),
                podAnnotations(base, T.deployment, "hive-metastore"),
            );
        });

        it("retires the old key only after every consumer of this stack runs with its new one", () => {
            assert.equal(
                base.ofType(T.job).filter((j) => j.name === "garage-retire-keys").length,
                0,
                "nothing to retire without a rotation",
            );
            const retire = r.one(T.job, "garage-retire-keys");
            for (const [type, name] of [
                [T.release, "trino"],
                [T.deployment, "hive-metastore"],
                [T.release, "airbyte"],
                [T.release, "dagster"],
                [T.job, "garage-bootstrap"],
            ]) {
                assert.ok(waitsFor(r, retire, r.one(type, name)), `the retirement waits for ${name}`);
            }
            const job = retireJob(r);
            assert.deepEqual(job.script.match(/^retire .*$/gm), ['retire trino "$KEY_TRINO_G1_ID"']);
            assert.equal(job.env.KEY_TRINO_G1_ID, stringData(base, "garage-trino-credentials").AWS_ACCESS_KEY_ID);
        });

        it("on Garage: the new key works beside the old until the retirement deletes the old one", async () => {
            const job1 = bootstrapJob(base);
            const first = await runBootstrap(job1, freshCluster(job1, 1, 1));
            assert.equal(first.status, 0, first.stderr);
            const oldId = stringData(base, "garage-trino-credentials").AWS_ACCESS_KEY_ID;
            const newId = stringData(r, "garage-trino-credentials").AWS_ACCESS_KEY_ID;

            const second = await runBootstrap(bootstrapJob(r), { ...first.state, log: [] });
            assert.equal(second.status, 0, second.stderr);
            assert.equal(
                second.state.keys[newId].secret,
                stringData(r, "garage-trino-credentials").AWS_SECRET_ACCESS_KEY,
            );
            const rw = { read: true, write: true, owner: false };
            assert.deepEqual(second.state.buckets.lakehouse.keys[newId], rw);
            assert.deepEqual(
                second.state.buckets.lakehouse.keys[oldId],
                rw,
                "the old key keeps working until the pods rolled",
            );

            const retired = await runBootstrap(retireJob(r), { ...second.state, log: [] });
            assert.equal(retired.status, 0, retired.stderr);
            assert.equal(retired.state.keys[oldId].deleted, true);
            assert.equal(retired.state.buckets.lakehouse.keys[oldId], undefined);
            assert.deepEqual(retired.state.buckets.lakehouse.keys[newId], rw);
            // Run again: the key is gone already, which is done.
            const again = await runBootstrap(retireJob(r), { ...retired.state, log: [] });
            assert.equal(again.status, 0, again.stderr);
            assert.match(again.stderr, /already retired/);
        });

        it("a consumer another stack deploys keeps its previous key: this stack cannot wait for that stack's pods", async () => {
            const storage = await run("dev", {
                overrides: {
                    [`${P}:components`]: ["garage", "database"],
                    [`${P}:downstreamComponents`]: ["trino", "airbyte", "dagster"],
                    [`${P}:credentialGenerations`]: ["garage-key/trino=2"],
                },
            });
            assert.equal(
                storage.ofType(T.job).filter((j) => j.name === "garage-retire-keys").length,
                0,
                "generation 1 is kept while 2 is new",
            );
            const third = await run("dev", {
                overrides: {
                    [`${P}:components`]: ["garage", "database"],
                    [`${P}:downstreamComponents`]: ["trino", "airbyte", "dagster"],
                    [`${P}:credentialGenerations`]: ["garage-key/trino=3"],
                },
            });
            const job = retireJob(third);
            assert.deepEqual(
                job.script.match(/^retire .*$/gm),
                ['retire trino "$KEY_TRINO_G1_ID"'],
                "retires generation 1, keeps generation 2",
            );
            assert.equal(job.env.KEY_TRINO_G1_ID, stringData(base, "garage-trino-credentials").AWS_ACCESS_KEY_ID);
            assert.equal((third.outputs.components as any).garage.credentials.trino.generation, 3);
        });
    });

    describe("the bootstrap verifies what Garage holds", () => {
        it("fails naming the consumer when Garage holds its key with another secret, and says how to recover", async () => {
            const job = bootstrapJob(base);
            const first = (await runBootstrap(job, freshCluster(job, 1, 1))).state;
            const id = job.env.KEY_TRINO_ID;
            // A restored stack, or a replaced random secret: Garage still holds the first one.
            first.keys[id].secret = "f".repeat(64);
            const result = await runBootstrap(job, { ...first, log: [] });
            assert.notEqual(result.status, 0);
            assert.match(
                result.stderr,
                new RegExp(
                    `consumer trino: Garage holds its key ${id} with another secret than Secret trino/trino-garage-credentials`,
                ),
            );
            assert.match(result.stderr, /rotate it: set credentialGenerations garage-key\/trino=2/);
            assert.ok(
                !result.stderr.includes(job.env.KEY_TRINO_SECRET) && !result.stderr.includes("f".repeat(64)),
                "no secret in the log",
            );
        });

        it("fails naming the consumer when its key id was deleted: Garage never imports it again", async () => {
            const job = bootstrapJob(base);
            const first = (await runBootstrap(job, freshCluster(job, 1, 1))).state;
            first.keys[job.env.KEY_DAGSTER_ID].deleted = true;
            const result = await runBootstrap(job, { ...first, log: [] });
            assert.notEqual(result.status, 0);
            assert.match(
                result.stderr,
                /consumer dagster: its key GK[0-9a-f]{24} was deleted from Garage, which never imports a deleted key id again; rotate it: set credentialGenerations garage-key\/dagster=2/,
            );
        });
    });

    describe("one database login", () => {
        let r: Run;
        before(async () => {
            r = await run("dev", rotated("database-login/airbyte=2"));
        });

        it("issues a new password (with a new salt), and gives the existing role its new verifier", () => {
            assert.notEqual(
                stringData(r, "postgres-airbyte-credentials").password,
                stringData(base, "postgres-airbyte-credentials").password,
            );
            assert.deepEqual(
                stringData(r, "postgres-dagster-credentials"),
                stringData(base, "postgres-dagster-credentials"),
            );
            const verifiers = (run: Run) => stringData(run, "postgres-role-verifiers");
            assert.notEqual(verifiers(r).PG_VERIFIER_AIRBYTE, verifiers(base).PG_VERIFIER_AIRBYTE);
            assert.equal(verifiers(r).PG_VERIFIER_DAGSTER, verifiers(base).PG_VERIFIER_DAGSTER);
            // The init Job runs again (its checksum follows the verifiers) and ALTERs a role that exists.
            assert.notEqual(
                podAnnotations(r, T.job, "postgres-init")["lakehouse-platform/run-checksum"],
                podAnnotations(base, T.job, "postgres-init")["lakehouse-platform/run-checksum"],
            );
            assert.match(
                r.inputs(r.one(T.configMap, "postgres-init")).data["init.sql"],
                /ALTER ROLE %I WITH LOGIN CREATEDB PASSWORD %L', rolname, :'verifier_airbyte'\) FROM pg_catalog.pg_authid\n WHERE rolname = 'airbyte' AND \(rolpassword IS DISTINCT FROM/,
            );
        });

        it("orders the rollout: the server gets the verifier, then the Secret changes, then Airbyte's pods roll", () => {
            assert.ok(waitsFor(r, r.one(T.secret, "postgres-airbyte-credentials"), r.one(T.job, "postgres-init")));
            const values = r.inputs(r.one(T.release, "airbyte")).values;
            for (const pod of ["server", "worker", "workloadLauncher", "temporal", "cron"]) {
                assert.equal(
                    values[pod].podAnnotations[CREDENTIALS_REVISION],
                    `${credentialName.garageKey("airbyte")}=1,${credentialName.databaseLogin("airbyte")}=2`,
                    pod,
                );
            }
            assert.ok(waitsFor(r, r.one(T.release, "airbyte"), r.one(T.secret, "postgres-airbyte-credentials")));
            assert.equal(
                r.ofType(T.job).filter((j) => j.name === "garage-retire-keys").length,
                0,
                "PostgreSQL keeps one password per role: nothing to retire",
            );
        });
    });

    describe("Garage's admin token and rpc secret", () => {
        it("a new generation replaces the value and restarts the nodes; the bootstrap runs again with it", async () => {
            for (const [credential, key] of [
                ["garage-admin-token", "admin-token"],
                ["garage-rpc-secret", "rpc-secret"],
            ]) {
                const r = await run("dev", rotated(`${credential}=2`));
                assert.notEqual(
                    stringData(r, "garage-daemon")[key],
                    stringData(base, "garage-daemon")[key],
                    credential,
                );
                assert.notEqual(
                    podAnnotations(r, T.sts, "garage")["lakehouse-platform/secrets-checksum"],
                    podAnnotations(base, T.sts, "garage")["lakehouse-platform/secrets-checksum"],
                );
                assert.equal(
                    podAnnotations(r, T.sts, "garage")["lakehouse-platform/config-checksum"],
                    podAnnotations(base, T.sts, "garage")["lakehouse-platform/config-checksum"],
                );
                assert.notEqual(
                    podAnnotations(r, T.job, "garage-bootstrap")["lakehouse-platform/run-checksum"],
                    podAnnotations(base, T.job, "garage-bootstrap")["lakehouse-platform/run-checksum"],
                );
                assert.deepEqual(
                    stringData(r, "garage-trino-credentials"),
                    stringData(base, "garage-trino-credentials"),
                    "consumers' keys stay",
                );
            }
        });
    });

    it("a rotating stack passes the policy pack, in an update and in a first preview (the revisions are known there)", async () => {
        for (const preview of [false, true]) {
            const r = await run("staging", {
                preview,
                ...rotated(
                    "garage-key/trino=2",
                    "garage-key/airbyte=3",
                    "database-login/dagster=2",
                    "garage-admin-token=2",
                ),
            });
            assert.ok(r.ofType(T.job).some((j) => j.name === "garage-retire-keys"));
            const report = await judgeRun(r.raw);
            assert.deepEqual(beyondTlsAdvisories(report.violations), [], preview ? "preview" : "update");
        }
    });

    it("every stack of the project starts at generation 1 for every credential", () => {
        for (const stack of ["dev", "staging", "prod"])
            assert.deepEqual(platformConfigOf(stack).credentialGenerations, {}, stack);
    });
});
