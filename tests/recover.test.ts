// npm run recover: what it proves before it acts. The state's files as a kill leaves them (an
// empty sidecar beside a whole checkpoint and a half-written temporary, as a cold CI run found
// them; a truncated checkpoint), the locks it may and may not break, the objects it may and may
// not adopt, the failures it tells apart, and its dry run without the Pulumi CLI. The real CLI's
// side (the kills, the recovery, `pulumi up` after it) is the fault run's (tests/cluster/faults.ts).
import { strict as assert } from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { judgeObject, judgeRelease } from "../offline/recover/adoption";
import { stackFiles, stackRef } from "../offline/recover/backend";
import { judgeLock, locksFromRefusal } from "../offline/recover/locks";
import type { PendingOperation } from "../offline/recover/plan";
import { kubectlTarget } from "../offline/recover/tools";
import { diagnose, repair } from "../offline/recover/state-files";
import { classify, RECOVER_EXIT } from "../offline/recover/tools";
import { PROJECT_DIR } from "../offline/stack-config";

const REF = stackRef("staging", "lakehouse-platform");

function checkpoint(stack = REF.fqn, pending: PendingOperation[] = []): string {
    return JSON.stringify({
        version: 3,
        checkpoint: {
            stack,
            latest: {
                manifest: { time: "2026-12-06T10:00:00Z", magic: "x", version: "v3.248.0" },
                resources: [
                    {
                        urn: `urn:pulumi:staging::lakehouse-platform::pulumi:pulumi:Stack::lakehouse-platform-staging`,
                        type: "pulumi:pulumi:Stack",
                    },
                ],
                pending_operations: pending,
            },
        },
    });
}

/** A file backend holding staging's checkpoint (and its sidecar, as fileblob writes it). */
function backend(): { root: string; files: ReturnType<typeof stackFiles> } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "recover-backend-"));
    const files = stackFiles(root, REF);
    fs.mkdirSync(files.stacksDir, { recursive: true });
    const cp = path.join(files.stacksDir, "staging.json");
    fs.writeFileSync(cp, checkpoint());
    fs.writeFileSync(
        `${cp}.attrs`,
        JSON.stringify({ "user.content_type": "application/octet-stream", md5: "x" }) + "\n",
    );
    fs.writeFileSync(`${cp}.bak`, checkpoint());
    return { root, files };
}

const secret: PendingOperation = {
    type: "creating",
    resource: {
        urn: "urn:pulumi:staging::lakehouse-platform::lakehouse:garage:Garage$kubernetes:core/v1:Secret::garage-admin",
        type: "kubernetes:core/v1:Secret",
        inputs: {
            metadata: {
                name: "garage-admin",
                namespace: "garage-staging",
                labels: { "app.kubernetes.io/part-of": "lakehouse-platform", "lakehouse-platform/component": "garage" },
            },
        },
    },
};
const STARTED = new Date("2026-12-06T10:00:00.400Z");

describe("npm run recover", () => {
    describe("a state file a kill cut in half (file backend)", () => {
        it("finds the empty sidecar and the half-written temporary a cold CI run found, and repairs them keeping copies", () => {
            const { root, files } = backend();
            const cp = path.join(files.stacksDir, "staging.json");
            const before = fs.readFileSync(cp, "utf8");
            // As found: staging.json.attrs empty (0 bytes), staging.json whole, a .bak, a half-written .tmp.
            fs.writeFileSync(`${cp}.attrs`, "");
            fs.writeFileSync(`${cp}.18f3a2b4c5d6e7f8.tmp`, checkpoint().slice(0, 120));
            const d = diagnose(files, REF);
            assert.equal(d.loadable, false);
            assert.deepEqual(
                d.findings.map((f) => [path.basename(f.file), f.problem.split(":")[0]]),
                [
                    ["staging.json.18f3a2b4c5d6e7f8.tmp", "a write that never finished (120 bytes, never renamed)"],
                    ["staging.json.attrs", "empty sidecar (0 bytes)"],
                ].sort(),
            );
            assert.equal(d.restoreFrom, undefined, "the checkpoint itself is whole: nothing to restore");
            const r = repair(files, d, new Date("2026-12-06T10:05:00Z"));
            assert.equal(fs.readFileSync(cp, "utf8"), before, "the checkpoint is untouched");
            assert.ok(!fs.existsSync(`${cp}.attrs`));
            assert.ok(fs.existsSync(path.join(r.keptIn, ".pulumi/stacks/lakehouse-platform/staging.json.attrs")));
            assert.ok(
                fs.existsSync(
                    path.join(r.keptIn, ".pulumi/stacks/lakehouse-platform/staging.json.18f3a2b4c5d6e7f8.tmp"),
                ),
            );
            assert.equal(diagnose(files, REF).loadable, true);
            assert.ok(r.keptIn.startsWith(path.join(root, ".pulumi", "recover", "lakehouse-platform", "staging")));
        });

        it("restores a truncated checkpoint from the newest whole one, passing over another stack's and a torn one", () => {
            const { files } = backend();
            const cp = path.join(files.stacksDir, "staging.json");
            fs.writeFileSync(cp, checkpoint().slice(0, 200));
            fs.writeFileSync(`${cp}.bak`, checkpoint("organization/lakehouse-platform/prod"));
            fs.mkdirSync(files.backupsDir, { recursive: true });
            fs.mkdirSync(files.historyDir, { recursive: true });
            const older = path.join(files.historyDir, "staging-1765000000000000000.checkpoint.json");
            const newer = path.join(files.backupsDir, "staging.1765000100000000000.json");
            fs.writeFileSync(older, checkpoint());
            fs.writeFileSync(newer, checkpoint(REF.fqn, [secret]));
            fs.utimesSync(older, new Date("2026-12-06T09:00:00Z"), new Date("2026-12-06T09:00:00Z"));
            fs.utimesSync(newer, new Date("2026-12-06T09:30:00Z"), new Date("2026-12-06T09:30:00Z"));
            fs.utimesSync(`${cp}.bak`, new Date("2026-12-06T09:59:00Z"), new Date("2026-12-06T09:59:00Z"));
            const d = diagnose(files, REF);
            assert.equal(d.loadable, false);
            assert.match(d.findings.find((f) => f.file === cp)!.problem, /^truncated or not JSON \(200 bytes\)$/);
            assert.equal(d.restoreFrom?.file, newer);
            assert.equal(d.restoreFrom?.source, "backups");
            assert.match(
                d.passedOver[0].problem,
                /checkpoint of organization\/lakehouse-platform\/prod, not organization\/lakehouse-platform\/staging/,
            );
            const r = repair(files, d);
            assert.equal(fs.readFileSync(cp, "utf8"), fs.readFileSync(newer, "utf8"));
            assert.match(
                r.done.join("\n"),
                /restored .*staging\.json from .*staging\.1765000100000000000\.json \(backups/,
            );
            assert.equal(
                fs.readFileSync(path.join(r.keptIn, ".pulumi/stacks/lakehouse-platform/staging.json"), "utf8").length,
                200,
            );
            assert.equal(diagnose(files, REF).loadable, true);
        });

        it("refuses to repair when no whole checkpoint of the stack is left, and changes nothing", () => {
            const { files } = backend();
            const cp = path.join(files.stacksDir, "staging.json");
            fs.writeFileSync(cp, "");
            fs.writeFileSync(`${cp}.bak`, '{"version":3,"checkp');
            const d = diagnose(files, REF);
            assert.throws(
                () => repair(files, d),
                /no whole checkpoint of this stack to restore: .*staging\.json\.bak: truncated/,
            );
            assert.equal(fs.readFileSync(cp, "utf8"), "");
            assert.ok(!fs.existsSync(files.recoverDir));
        });

        it("leaves another stack's files in the shared folder alone", () => {
            const { files } = backend();
            fs.writeFileSync(path.join(files.stacksDir, "staging-eu.json.attrs"), "");
            fs.writeFileSync(path.join(files.stacksDir, "staging.eu.json.attrs"), "");
            assert.equal(diagnose(files, REF).loadable, true);
        });
    });

    describe("locks: broken only when provably dead", () => {
        const lock = { where: "l.json", pid: 4242, username: "ci", hostname: "runner-1", timestamp: STARTED };
        const at = (min: number) => new Date(STARTED.getTime() + min * 60_000);

        it("a live Pulumi CLI on this machine holds it: not dead, whatever its age", () => {
            const v = judgeLock(lock, {
                hostname: "runner-1",
                now: at(600),
                command: () => "/usr/bin/pulumi up --yes",
            });
            assert.equal(v.dead, false);
            assert.match(v.why, /its process is running on this machine: pid 4242, `\/usr\/bin\/pulumi up --yes`/);
        });

        it("its process gone, or the pid now another program's: dead", () => {
            assert.equal(judgeLock(lock, { hostname: "runner-1", now: at(1), command: () => undefined }).dead, true);
            const reused = judgeLock(lock, { hostname: "runner-1", now: at(1), command: () => "/usr/sbin/sshd -D" });
            assert.equal(reused.dead, true);
            assert.match(reused.why, /now another program .*not the Pulumi CLI/);
        });

        it("taken on another machine: live within the bound, dead beyond it", () => {
            const other = { hostname: "laptop", command: () => undefined };
            assert.equal(judgeLock(lock, { ...other, now: at(59) }).dead, false);
            assert.equal(judgeLock(lock, { ...other, now: at(61) }).dead, true);
            assert.equal(judgeLock(lock, { ...other, now: at(11) }, 10).dead, true);
        });

        it("reads the locks a bucket backend's CLI names when it refuses", () => {
            const text = `error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with \`pulumi cancel\`.\n  s3://state/.pulumi/locks/organization/lakehouse-platform/staging/0b3c.json: created by ci@runner-1 (pid 4242) at 2026-12-06T10:00:00Z\n`;
            const [l] = locksFromRefusal(text);
            assert.deepEqual(
                { ...l, timestamp: l.timestamp.toISOString() },
                {
                    where: "s3://state/.pulumi/locks/organization/lakehouse-platform/staging/0b3c.json",
                    username: "ci",
                    hostname: "runner-1",
                    pid: 4242,
                    timestamp: "2026-12-06T10:00:00.000Z",
                },
            );
        });
    });

    describe("an object is imported only with the proof that the interrupted update made it", () => {
        const made = {
            metadata: {
                name: "garage-admin",
                namespace: "garage-staging",
                creationTimestamp: "2026-12-06T10:00:00Z",
                labels: { ...secret.resource.inputs!.metadata!.labels, extra: "fine" },
                managedFields: [{ manager: "pulumi-kubernetes-58a1c2d3", operation: "Apply" }],
            },
        };

        it("adopts the object with the provider's field manager, made after the update started, with the program's labels", () => {
            const v = judgeObject(secret, made, STARTED);
            assert.equal(v.kind, "adopt");
        });

        it("leaves alone an object of the same name without that proof, saying why", () => {
            const cases: [string, object, RegExp][] = [
                [
                    "kubectl's",
                    { managedFields: [{ manager: "kubectl-create" }] },
                    /no field manager of the Kubernetes provider \(managers: kubectl-create\)/,
                ],
                [
                    "older",
                    { creationTimestamp: "2026-12-06T09:59:59Z" },
                    /created 2026-12-06T09:59:59Z, before the interrupted update started/,
                ],
                [
                    "relabelled",
                    { labels: { "lakehouse-platform/component": "trino" } },
                    /label app\.kubernetes\.io\/part-of=lakehouse-platform missing; label lakehouse-platform\/component=garage is trino/,
                ],
            ];
            for (const [what, change, reason] of cases) {
                const v = judgeObject(secret, { metadata: { ...made.metadata, ...change } }, STARTED);
                assert.equal(v.kind, "foreign", what);
                assert.match(v.kind === "foreign" ? v.reasons.join("; ") : "", reason, what);
            }
            const unknown = judgeObject(secret, made, undefined);
            assert.equal(unknown.kind, "foreign");
        });

        it("an object that is not there is left for the next pulumi up", () => {
            assert.equal(judgeObject(secret, undefined, STARTED).kind, "absent");
        });

        it("a Helm release: adopted on Helm's records made after the update started, not an older install", () => {
            const op: PendingOperation = {
                type: "creating",
                resource: {
                    urn: "urn:x::trino",
                    type: "kubernetes:helm.sh/v3:Release",
                    inputs: { name: "trino", namespace: "trino-staging" },
                },
            };
            const record = (v: number, t: string) => ({
                metadata: {
                    name: `sh.helm.release.v1.trino.v${v}`,
                    creationTimestamp: t,
                    labels: { owner: "helm", name: "trino" },
                },
            });
            assert.equal(judgeRelease(op, [record(1, "2026-12-06T10:01:00Z")], STARTED).kind, "adopt");
            const old = judgeRelease(
                op,
                [record(2, "2026-12-06T10:01:00Z"), record(1, "2026-12-01T08:00:00Z")],
                STARTED,
            );
            assert.equal(old.kind, "foreign");
            assert.equal(judgeRelease(op, [], STARTED).kind, "absent");
        });
    });

    describe("the deletes an interrupted command began are waited for", () => {
        it("names the object kubectl waits for from the provider's type token and id, fully qualified", () => {
            assert.deepEqual(kubectlTarget("kubernetes:apps/v1:Deployment", "database/hive-metastore"), {
                resource: "Deployment.v1.apps",
                name: "hive-metastore",
                namespace: "database",
            });
            assert.deepEqual(kubectlTarget("kubernetes:core/v1:Secret", "garage/garage-admin"), {
                resource: "Secret.v1",
                name: "garage-admin",
                namespace: "garage",
            });
            assert.deepEqual(
                kubectlTarget("kubernetes:networking.k8s.io/v1:NetworkPolicy", "trino/lakehouse-from-dagster"),
                {
                    resource: "NetworkPolicy.v1.networking.k8s.io",
                    name: "lakehouse-from-dagster",
                    namespace: "trino",
                },
            );
            assert.deepEqual(kubectlTarget("kubernetes:core/v1:Namespace", "trino"), {
                resource: "Namespace.v1",
                name: "trino",
                namespace: undefined,
            });
            assert.equal(kubectlTarget("random:index/randomPassword:RandomPassword", "x"), undefined);
        });
    });

    describe("each failure its own exit status", () => {
        it("tells a missing plugin, an unreachable cluster and an unreadable state apart", () => {
            assert.equal(
                classify("error: no resource plugin 'kubernetes-v4.32.0' found in the workspace at version v4.32.0")
                    ?.exit,
                RECOVER_EXIT.plugin,
            );
            assert.equal(
                classify(
                    "error: configured Kubernetes cluster is unreachable: dial tcp 127.0.10.2:6443: connect: connection refused",
                )?.exit,
                RECOVER_EXIT.unreachable,
            );
            assert.equal(classify("error: failed to load checkpoint: EOF")?.exit, RECOVER_EXIT.state);
            assert.equal(
                classify("error: secrets (kind Secret): garage-admin not found"),
                undefined,
                "never a plain 'not found'",
            );
        });
    });

    describe("the command", () => {
        /** recover in a project folder of its own, on a file backend, with only Node.js and the system on PATH (no pulumi). */
        function recover(args: string[], root: string) {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recover-project-"));
            fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
            return spawnSync(process.execPath, [path.join(PROJECT_DIR, "offline", "launch.mjs"), "recover", ...args], {
                cwd: dir,
                encoding: "utf8",
                env: {
                    PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
                    HOME: os.tmpdir(),
                    PULUMI_BACKEND_URL: `file://${root}`,
                },
            });
        }

        it("its dry run needs no Pulumi CLI: it reads the state's files and prints the commands", () => {
            const { root, files } = backend();
            fs.writeFileSync(path.join(files.stacksDir, "staging.json"), checkpoint(REF.fqn, [secret]));
            fs.writeFileSync(path.join(files.stacksDir, "staging.json.attrs"), "");
            const r = recover(["--stack", "staging"], root);
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout, /staging\.json\.attrs: empty sidecar \(0 bytes\)/);
            assert.match(
                r.stdout,
                /1 pending operations in the checkpoint\n {2}creating urn:.*garage-admin: garage-staging\/garage-admin imported if it exists and the interrupted update made it/,
            );
            assert.match(
                r.stdout,
                /\$ pulumi refresh --yes --skip-preview --clear-pending-creates --stack organization\/lakehouse-platform\/staging/,
            );
            assert.equal(
                fs.readFileSync(path.join(files.stacksDir, "staging.json.attrs"), "utf8"),
                "",
                "a dry run changes nothing",
            );
        });

        it("with --yes and no Pulumi CLI: exit 5, saying so, before it changes anything", () => {
            const { root, files } = backend();
            fs.writeFileSync(path.join(files.stacksDir, "staging.json.attrs"), "");
            const r = recover(["--stack", "staging", "--yes"], root);
            assert.equal(r.status, RECOVER_EXIT.toolMissing);
            assert.match(r.stderr, /the Pulumi CLI \(`pulumi`\) is not on PATH/);
            assert.equal(fs.readFileSync(path.join(files.stacksDir, "staging.json.attrs"), "utf8"), "");
        });

        it("stops with exit 2, naming the holder, while a Pulumi CLI on this machine holds the lock", async () => {
            const { root, files } = backend();
            // A process whose command is `pulumi up`, as a colleague's running update shows in /proc.
            const holder = spawn("bash", ["-c", "exec -a pulumi sleep 60", "up"], { stdio: "ignore" });
            try {
                await new Promise((r) => setTimeout(r, 200));
                fs.mkdirSync(files.locksDir, { recursive: true });
                fs.writeFileSync(
                    path.join(files.locksDir, "7c1e.json"),
                    JSON.stringify({
                        pid: holder.pid,
                        username: "colleague",
                        hostname: os.hostname(),
                        timestamp: new Date().toISOString(),
                    }),
                );
                const r = recover(["--stack", "staging"], root);
                assert.equal(r.status, RECOVER_EXIT.refused, r.stdout + r.stderr);
                assert.match(
                    r.stderr,
                    new RegExp(
                        `colleague@${os.hostname()} \\(pid ${holder.pid}\\): its process is running on this machine`,
                    ),
                );
                assert.match(r.stderr, /--force/);
                assert.ok(fs.existsSync(path.join(files.locksDir, "7c1e.json")), "the lock is still there");
            } finally {
                holder.kill("SIGKILL");
            }
        });

        it("bad arguments: exit 2 with the usage", () => {
            const { root } = backend();
            const r = recover(["--stack", "staging", "--lock-max-age", "soon"], root);
            assert.equal(r.status, 2);
            assert.match(r.stderr, /--lock-max-age soon: a number of minutes greater than 0\n\nusage: npm run recover/);
        });
    });
});
