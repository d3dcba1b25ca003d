// Bad days, as they happen, on staging (three Garage nodes, NetworkPolicies on, data retained),
// each followed by the recovery of docs/day-two.md and judged. The faults:
//   - the whole process tree of `pulumi up` killed at once (the CLI, its language host and
//     providers: a CI runner's timeout, the OOM killer), at a pending operation the state shows;
//   - the same kill with the state files torn as a cold CI run found them (an empty sidecar beside
//     a whole checkpoint, a half-written temporary): `failed to load checkpoint: EOF` until
//     recovery repairs them; deterministic, whatever the kill's timing;
//   - the CLI alone killed (its plugins live on); Ctrl-C (SIGINT) and SIGTERM, which Pulumi
//     answers by finishing the steps in flight;
//   - kills during a replacement, during `pulumi destroy` and during `pulumi refresh`;
//   - the API server killed (SIGKILL) and etcd stopped during an update;
//   - a foreign object planted with the name of a pending create: not adopted, intact;
//   - a live update: a concurrent recovery refuses to touch it, and it completes;
//   - two updates at once: the second refused by the lock.
// Before each recovery the test asserts what the fault left in the state (the pending operation
// the kill was aimed at, read while the whole tree is frozen), so a kill that came too late
// fails instead of passing. After it: converged (`preview --expect-no-changes`), no credential
// changed, no volume replaced, the wiring checks passed; on a real node also the rows written
// before the fault read back (tests/cluster/platform-probe.ts).
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "../../offline/stack-config";
import { run, sleep } from "../e2e/procs";
import { CheckFailed } from "../e2e/report";
import { changed, readEventLog } from "./events";
import type { Harness } from "./harness";
import { changedSecrets, credentialSnapshot, invalidCredentials, pvcUids, Snapshot } from "./integrity";
import { engine, expectNoChanges, fqn, initStack, offlinePlan, setConfig, up } from "./lifecycle";
import { planted } from "./plants";
import { ProcessTree } from "./process-tree";
import type { FaultRecord } from "./report";
import { namespacesOf } from "./single";

const STACK = "staging";

interface PendingOp {
    type: string;
    resource: {
        urn: string;
        type: string;
        inputs?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } };
    };
}

const short = (urn: string) => urn.split("::").pop()!;
const kindOf = (type: string) => type.split(":").pop()!;
const describeOp = (op: PendingOp) => `${op.type} ${kindOf(op.resource.type)} ${short(op.resource.urn)}`;

/** The stack's checkpoint file in the suite's file backend. */
function checkpointFile(h: Harness): string {
    return path.join(h.cli.backend, ".pulumi", "stacks", "lakehouse-platform", `${STACK}.json`);
}

function locksDir(h: Harness): string {
    return path.join(h.cli.backend, ".pulumi", "locks", "organization", "lakehouse-platform", STACK);
}

function locks(h: Harness): string[] {
    return fs.existsSync(locksDir(h)) ? fs.readdirSync(locksDir(h)).filter((f) => f.endsWith(".json")) : [];
}

/** The pending operations the checkpoint file holds (replaced by a rename: always whole), or undefined before there is one. */
function pendingInCheckpoint(h: Harness): PendingOp[] | undefined {
    try {
        const doc = JSON.parse(fs.readFileSync(checkpointFile(h), "utf8")) as {
            checkpoint: { latest?: { pending_operations?: PendingOp[] } };
        };
        return doc.checkpoint.latest?.pending_operations ?? [];
    } catch {
        return undefined;
    }
}

interface Before {
    secrets: Snapshot;
    volumes: Map<string, string>;
    rows?: string;
}

async function before(h: Harness, namespaces: string[], label: string): Promise<Before> {
    return {
        secrets: await credentialSnapshot(h.kube, namespaces),
        volumes: await pvcUids(h.kube, namespaces),
        // Rows once the platform is there (the first fault interrupts its very first update).
        rows: h.probe ? await h.probe.writeRows(namespaces, label) : undefined,
    };
}

type How = "the whole tree" | "the CLI alone" | "SIGINT" | "SIGTERM";

interface Interrupted {
    /** What the state held at the moment of the fault (read frozen). */
    pendingAtFault: string[];
    /** The state's pending operations afterwards, as `pulumi stack export` gives them (or why it cannot). */
    pendingAfter: string[] | string;
    seconds: number;
    exitCode: number | null;
    /** Processes of the tree left running by the fault (the CLI alone killed). */
    survivors: string[];
}

/**
 * Runs a CLI command as a process tree and deals the fault the moment the state shows a pending
 * operation `at` matches (or, for a refresh, which leaves none, when `atStep` sees its steps):
 * the tree frozen, the state read, then the fault. Fails the check if the command ended first.
 */
async function interrupt(
    h: Harness,
    label: string,
    command: string[],
    how: How,
    at: { op?: (op: PendingOp) => boolean; steps?: number },
): Promise<Interrupted> {
    const events = path.join(h.work, "events", `fault-${label.replace(/\W+/g, "-")}.jsonl`);
    fs.mkdirSync(path.dirname(events), { recursive: true });
    const started = Date.now();
    const tree = new ProcessTree(
        path.join(h.work, "bin", "pulumi"),
        [...command, "--stack", fqn(STACK), "--non-interactive", "--event-log", events],
        { cwd: h.project, env: h.cli.env(), log: path.join(h.work, "logs", "faults.log") },
    );
    let pendingAtFault: string[] | undefined;
    try {
        while (tree.child.exitCode === null && Date.now() - started < 15 * 60_000) {
            const pending = pendingInCheckpoint(h) ?? [];
            const hit = at.op ? pending.some(at.op) : readEventLog(events).steps.length >= (at.steps ?? 1);
            if (hit) {
                // Planted (late-kill): the fault dealt once the operation it aims at has completed.
                const late = planted("late-kill") && at.op;
                while (late && tree.child.exitCode === null && (pendingInCheckpoint(h) ?? []).some(at.op!))
                    await sleep(20);
                await tree.freeze();
                const frozen = pendingInCheckpoint(h) ?? [];
                if (!at.op || late || frozen.some(at.op)) {
                    pendingAtFault = frozen.map(describeOp);
                    break;
                }
                await tree.thaw();
            }
            await sleep(20);
        }
        if (!pendingAtFault) {
            await tree.exited;
            throw new CheckFailed(
                `${label}: \`pulumi ${command[0]}\` ended (exit ${tree.child.exitCode}, ${((Date.now() - started) / 1000).toFixed(1)} s) before the point to interrupt it at`,
            );
        }
        const seconds = (Date.now() - started) / 1000;
        let survivors: string[] = [];
        if (how === "the whole tree") await tree.killAll();
        else if (how === "the CLI alone") {
            await tree.thaw();
            await tree.killMain();
            await sleep(1000);
            survivors = tree.describe();
        } else {
            await tree.thaw();
            tree.signal(how);
            const ended = await Promise.race([tree.exited.then(() => true), sleep(10 * 60_000).then(() => false)]);
            if (!ended) throw new CheckFailed(`${label}: the CLI did not end within 10 min of ${how}`);
        }
        const exported = await h.cli.run(["stack", "export", "--stack", fqn(STACK)]);
        const pendingAfter =
            exported.code === 0
                ? (
                      (JSON.parse(exported.stdout) as { deployment: { pending_operations?: PendingOp[] } }).deployment
                          .pending_operations ?? []
                  ).map(describeOp)
                : `pulumi stack export exited ${exported.code}: ${(exported.stdout + exported.stderr).trim().split("\n").pop()}`;
        return { pendingAtFault, pendingAfter, seconds, exitCode: tree.child.exitCode, survivors };
    } finally {
        await tree.close();
    }
}

/** The recovery of docs/day-two.md: `npm run recover -- --stack <stack> --yes`. */
async function recover(h: Harness, opts: { expectExit?: number } = {}) {
    const r = await run(
        process.execPath,
        [path.join(PROJECT_DIR, "offline", "launch.mjs"), "recover", "--stack", fqn(STACK), "--yes"],
        {
            cwd: h.project,
            env: { ...h.cli.env(), PATH: [path.join(h.work, "bin"), h.tools.bin, process.env.PATH].join(":") },
            timeoutMs: 10 * 60_000,
            log: path.join(h.work, "logs", "recover.log"),
        },
    );
    const want = opts.expectExit ?? 0;
    if (r.code !== want)
        throw new CheckFailed(`npm run recover exited ${r.code}, expected ${want}:\n${r.output.slice(-2500)}`);
    return r;
}

/** Recovery, then `pulumi up`: the steps a user takes, as the record lists them. */
async function recoverAndUp(h: Harness): Promise<string[]> {
    const r = await recover(h);
    const pending = /(\d+) pending operation/.exec(r.stdout)?.[1] ?? "?";
    const repaired = r.stdout.split("\n").filter((l) => /^\s+(removed|moved|restored) /.test(l));
    const imported = r.stdout.split("\n").filter((l) => /: made by the interrupted update/.test(l)).length;
    await up(h, STACK, "up after the recovery");
    return [
        `npm run recover -- --stack ${fqn(STACK)} --yes: ${pending} pending operations, ${imported} imported with proof${repaired.length ? `; state repaired: ${repaired.map((l) => l.trim().split(" (kept)")[0]).join("; ")}` : ""}`,
        "pulumi up",
    ];
}

/** The verdict after a fault and its recovery. */
async function judge(h: Harness, fault: string, recovery: string[], b: Before, namespaces: string[]): Promise<void> {
    const { c } = await engine(
        h,
        STACK,
        `preview --expect-no-changes after: ${fault}`,
        ["preview", "--expect-no-changes"],
        {
            allowFailure: true,
        },
    );
    const after = await credentialSnapshot(h.kube, namespaces);
    const changedCredentials = changedSecrets(b.secrets, after);
    const volumes = await pvcUids(h.kube, namespaces);
    const replaced = [...b.volumes].filter(([k, uid]) => volumes.get(k) !== uid).map(([k]) => k);
    const wiring = await h.wiringVerdict(namespaces);
    const invalid = invalidCredentials(after).invalid;
    const rows = h.probe && b.rows ? await h.probe.readRows(namespaces, b.rows) : undefined;
    const rec: FaultRecord = {
        fault,
        recovery,
        converged: c.code === 0,
        credentialsChanged: changedCredentials.length,
        volumesReplaced: replaced.length,
        wiringChecksPassed: wiring.passed,
        ...(rows ? { rowsReadBack: rows.ok } : {}),
        detail: [
            changedCredentials.length ? `changed: ${changedCredentials.join(", ")}` : "",
            replaced.length ? `replaced: ${replaced.join(", ")}` : "",
            invalid.length ? `invalid: ${invalid.join("; ")}` : "",
            wiring.detail,
            rows ? rows.detail : "",
        ]
            .filter(Boolean)
            .join("; "),
    };
    h.report.fault(rec);
    await h.report.check(
        `faults: ${fault}: converged, no credential changed, no volume replaced, the wiring checks passed${rows ? ", the rows read back" : ""}`,
        () => {
            if (
                !rec.converged ||
                rec.credentialsChanged ||
                rec.volumesReplaced ||
                !rec.wiringChecksPassed ||
                invalid.length ||
                (rows && !rows.ok)
            )
                throw new CheckFailed(JSON.stringify(rec));
            return `${rec.recovery.join("; then ")}; ${rec.detail}`;
        },
    );
}

/** The fault's own assertion: the state held the operation it was aimed at (else it came too late). */
async function assertPending(
    h: Harness,
    fault: string,
    i: Interrupted,
    want: RegExp,
    after: "kept" | "none",
): Promise<void> {
    await h.report.check(`faults: ${fault}: the state shows what the fault interrupted`, () => {
        const hit = i.pendingAtFault.filter((p) => want.test(p));
        if (hit.length === 0)
            throw new CheckFailed(
                `no pending ${want} when the fault came (too late?): ${i.pendingAtFault.join("; ") || "none"}`,
            );
        if (
            after === "none" &&
            (typeof i.pendingAfter === "string" || i.pendingAfter.length > 0 || locks(h).length > 0)
        )
            throw new CheckFailed(
                `after ${fault}, Pulumi should have finished the steps in flight: pending ${JSON.stringify(i.pendingAfter)}, ${locks(h).length} locks`,
            );
        return `at the fault (${i.seconds.toFixed(1)} s in, the tree frozen): ${hit.join("; ")}${i.pendingAtFault.length > hit.length ? ` (+${i.pendingAtFault.length - hit.length} more)` : ""}; afterwards: ${typeof i.pendingAfter === "string" ? i.pendingAfter : `${i.pendingAfter.length} pending`}, exit ${i.exitCode}, ${locks(h).length} lock file(s)${i.survivors.length ? `; left running: ${i.survivors.join(", ")}` : ""}`;
    });
}

/** One fault: its failure is recorded as a failed check, and the run goes on to the next. */
async function fault(h: Harness, name: string, fn: () => Promise<void>): Promise<void> {
    try {
        await fn();
    } catch (e) {
        const detail = e instanceof Error ? e.message : String(e);
        h.report.fault({
            fault: name,
            recovery: [],
            converged: false,
            credentialsChanged: -1,
            volumesReplaced: -1,
            wiringChecksPassed: false,
            detail,
        });
        await h.report.check(`faults: ${name}`, () => {
            throw new CheckFailed(detail);
        });
        // The next fault starts from a stack that works: recover and update it as a user would.
        await recover(h).catch(() => undefined);
        await engine(h, STACK, `up after the failed fault: ${name}`, ["up", "--yes", "--skip-preview"], {
            allowFailure: true,
        });
    }
}

const UP = ["up", "--yes", "--skip-preview"];
const op = (kind: string, type?: string) => (p: PendingOp) =>
    p.resource.type.endsWith(`:${kind}`) && (type === undefined || p.type === type);

/** A kill of the whole tree at a pending operation, the fault's assertion, the recovery, the verdict. */
async function killAndRecover(
    h: Harness,
    namespaces: string[],
    name: string,
    opts: {
        change?: Record<string, string | undefined>;
        command?: string[];
        how?: How;
        at: (p: PendingOp) => boolean;
        want: RegExp;
        /** Something done to the state after the kill, before recovery (the torn files planted). */
        after?: () => Promise<string>;
    },
): Promise<void> {
    const b = await before(h, namespaces, name);
    if (opts.change) await setConfig(h, STACK, opts.change);
    const how = opts.how ?? "the whole tree";
    const i = await interrupt(h, name, opts.command ?? UP, how, { op: opts.at });
    await assertPending(h, name, i, opts.want, "kept");
    const planted = opts.after ? await opts.after() : undefined;
    const recovery = [
        `${how === "the whole tree" ? "SIGKILL to the whole process tree (frozen first)" : "SIGKILL to the CLI alone"} at: ${i.pendingAtFault.filter((p) => opts.want.test(p)).join("; ")} (${i.seconds.toFixed(1)} s in)`,
        ...(planted ? [planted] : []),
        ...(await recoverAndUp(h)),
    ];
    await judge(h, name, recovery, b, namespaces);
}

/** The torn files as the cold CI run of 84747a6 found them: the sidecar empty, a half-written temporary beside the whole checkpoint. */
async function tearStateAsFound(h: Harness): Promise<string> {
    const file = checkpointFile(h);
    const whole = fs.readFileSync(file);
    fs.writeFileSync(`${file}.attrs`, "");
    fs.writeFileSync(`${file}.${Date.now().toString(16)}0a1b.tmp`, whole.subarray(0, Math.floor(whole.length / 2)));
    const c = await h.cli.run(["stack", "export", "--stack", fqn(STACK)]);
    const text = (c.stdout + c.stderr).trim();
    if (c.code === 0 || !/failed to load checkpoint: EOF/.test(text))
        throw new CheckFailed(`the torn files did not reproduce the CI failure: exit ${c.code}: ${text.slice(-300)}`);
    return `the state torn as found (${path.basename(file)}.attrs 0 bytes, a half-written .tmp): \`pulumi stack export\`: "${text.split("\n").pop()}"`;
}

async function gracefully(
    h: Harness,
    namespaces: string[],
    name: string,
    sig: "SIGINT" | "SIGTERM",
    change: Record<string, string>,
    at: (p: PendingOp) => boolean,
    want: RegExp,
): Promise<void> {
    const b = await before(h, namespaces, name);
    await setConfig(h, STACK, change);
    const i = await interrupt(h, name, UP, sig, { op: at });
    await assertPending(h, name, i, want, "none");
    // Pulumi's own state needs nothing; what the steps in flight were doing may (a Helm release
    // Helm still holds locked: "another operation is in progress"): the recovery finds it.
    await judge(
        h,
        name,
        [
            `${sig} to the CLI at: ${i.pendingAtFault.filter((p) => want.test(p)).join("; ")}; it finished the steps in flight and exited ${i.exitCode}, nothing pending, the lock released`,
            ...(await recoverAndUp(h)),
        ],
        b,
        namespaces,
    );
}

async function apiServerKilled(h: Harness, namespaces: string[]): Promise<void> {
    const name = "the API server killed (SIGKILL) during an update";
    const b = await before(h, namespaces, name);
    await setConfig(h, STACK, { airbyteSize: "small" });
    const events = path.join(h.work, "events", "apiserver-kill.jsonl");
    const cmd = h.cli.run([...UP, "--stack", fqn(STACK), "--event-log", events]);
    const started = Date.now();
    let killed = false;
    while (!killed && Date.now() - started < 180_000) {
        if (readEventLog(events).steps.some((s) => s.op === "update")) {
            await h.cluster.killServer("kube-apiserver", "SIGKILL");
            killed = true;
        } else await sleep(50);
    }
    if (!killed) throw new CheckFailed("the update never reached an update step");
    await sleep(8000);
    await h.cluster.startApiServer();
    const first = await cmd;
    const recovery = [
        `kube-apiserver SIGKILLed at the first update step, started again 8 s later; that pulumi up exited ${first.code}`,
    ];
    if (first.code !== 0) recovery.push(...(await recoverAndUp(h)));
    await judge(h, name, recovery, b, namespaces);
}

async function etcdStopped(h: Harness, namespaces: string[]): Promise<void> {
    const name = "etcd stopped during an update";
    const b = await before(h, namespaces, name);
    await setConfig(h, STACK, { airbyteSize: "medium" });
    const events = path.join(h.work, "events", "etcd-stop.jsonl");
    const cmd = h.cli.run([...UP, "--stack", fqn(STACK), "--event-log", events]);
    const started = Date.now();
    let stopped = false;
    while (!stopped && Date.now() - started < 180_000) {
        if (readEventLog(events).steps.some((s) => s.op === "update")) {
            await h.cluster.killServer("etcd", "SIGKILL");
            stopped = true;
        } else await sleep(50);
    }
    if (!stopped) throw new CheckFailed("the update never reached an update step");
    await sleep(10_000);
    await h.cluster.startEtcd();
    const first = await cmd;
    const recovery = [
        `etcd killed at the first update step (every write of the API server failing), started again 10 s later on its data; that pulumi up exited ${first.code}`,
    ];
    if (first.code !== 0) recovery.push(...(await recoverAndUp(h)));
    await judge(h, name, recovery, b, namespaces);
}

async function concurrentUpdates(h: Harness, namespaces: string[]): Promise<void> {
    const name = "two pulumi up on the same stack at once";
    const b = await before(h, namespaces, name);
    await setConfig(h, STACK, { airbyteSize: "large" });
    const events = path.join(h.work, "events", "concurrent-first.jsonl");
    const first = h.cli.run([...UP, "--stack", fqn(STACK), "--event-log", events]);
    const t = Date.now();
    while (readEventLog(events).steps.length === 0 && Date.now() - t < 60_000) await sleep(100);
    const second = await h.cli.run([...UP, "--stack", fqn(STACK)]);
    const done = await first;
    await h.report.check(
        "faults: a second pulumi up while one runs is refused (the stack's lock), not interleaved",
        () => {
            const text = second.stdout + second.stderr;
            if (second.code === 0 || !/locked/i.test(text))
                throw new CheckFailed(`the second up exited ${second.code}:\n${text.slice(-1500)}`);
            if (done.code !== 0) throw new CheckFailed(`the first up exited ${done.code}`);
            return `the second exited ${second.code}: "${/the stack is currently locked[^.]*\./.exec(text)?.[0] ?? "locked"}"; the first completed`;
        },
    );
    await judge(h, name, ["none: the second update was refused; the first completed"], b, namespaces);
}

/** A recovery started beside a live update: it refuses (exit 2, naming the holder), and the update completes. */
async function liveUpdate(h: Harness, namespaces: string[]): Promise<void> {
    const name = "recover run beside a live pulumi up";
    const b = await before(h, namespaces, name);
    await setConfig(h, STACK, { dagsterSize: "medium" });
    const events = path.join(h.work, "events", "live-update.jsonl");
    const tree = new ProcessTree(
        path.join(h.work, "bin", "pulumi"),
        [...UP, "--stack", fqn(STACK), "--non-interactive", "--event-log", events],
        {
            cwd: h.project,
            env: h.cli.env(),
            log: path.join(h.work, "logs", "faults.log"),
        },
    );
    try {
        const t = Date.now();
        while (locks(h).length === 0 && tree.child.exitCode === null && Date.now() - t < 60_000) await sleep(20);
        if (locks(h).length === 0) throw new CheckFailed("the update took no lock");
        const r = await recover(h, { expectExit: 2 });
        const code = await tree.exited;
        await h.report.check(
            "faults: recover refuses to touch a live update, naming its holder, and the update completes",
            () => {
                if (!/may still be running/.test(r.stderr) || !new RegExp(`pid ${tree.child.pid}\\)`).test(r.stderr))
                    throw new CheckFailed(`recover's refusal does not name pid ${tree.child.pid}:\n${r.stderr}`);
                if (code !== 0) throw new CheckFailed(`the live update exited ${code}`);
                return `recover exited 2: "${r.stderr
                    .split("\n")
                    .find((l) => /pid \d+/.test(l))
                    ?.trim()}"; the update exited 0`;
            },
        );
    } finally {
        await tree.close();
    }
    await judge(h, name, ["none: recover refused (exit 2), the update completed"], b, namespaces);
}

/** The labels and annotations the interrupted update was creating `match` with (the pending operation's inputs). */
function programMetadata(
    h: Harness,
    match: (p: PendingOp) => boolean,
): { labels?: Record<string, string>; annotations?: Record<string, string> } {
    const op = (pendingInCheckpoint(h) ?? []).find(match);
    const meta = op?.resource.inputs?.metadata ?? {};
    return { labels: meta.labels, annotations: meta.annotations };
}

/** A foreign object with the name of a pending create: recovery refuses and leaves it as it was; once moved aside, recovery proceeds. */
async function foreignObject(h: Harness, namespaces: string[]): Promise<void> {
    const name = "a foreign object with the name of a pending create";
    const trinoNs = await h.kube.namespaceWith(namespaces, "Service", "trino");
    if (!trinoNs) throw new CheckFailed(`no Service trino in any of ${namespaces.join(", ")}`);
    await setConfig(h, STACK, { verifyWiring: "false" });
    await up(h, STACK, "up: verifyWiring off (before the foreign-object fault)");
    const b = await before(h, namespaces, name);
    await setConfig(h, STACK, { verifyWiring: undefined });
    const job = (p: PendingOp) =>
        p.type === "creating" && p.resource.type.endsWith(":Job") && p.resource.urn.endsWith(`wiring-checks-trino`);
    const i = await interrupt(h, name, UP, "the whole tree", { op: job });
    await assertPending(h, name, i, /creating Job wiring-checks-trino/, "kept");
    // Someone else's Job takes the name: kubectl's field manager, no platform labels.
    await h.kube.delete("Job", "lakehouse-wiring-check", trinoNs, "Background");
    const deadline = Date.now() + 60_000;
    while ((await h.kube.get("Job", "lakehouse-wiring-check", trinoNs)) && Date.now() < deadline) await sleep(200);
    const foreign = await h.kube.create(
        {
            apiVersion: "batch/v1",
            kind: "Job",
            // Planted (adopted-foreign): the provenance recover asks for, the program's labels and annotations.
            metadata: planted("adopted-foreign")
                ? { name: "lakehouse-wiring-check", namespace: trinoNs, ...programMetadata(h, job) }
                : { name: "lakehouse-wiring-check", namespace: trinoNs, labels: { owner: "someone-else" } },
            spec: {
                suspend: true,
                template: {
                    spec: {
                        restartPolicy: "Never",
                        containers: [{ name: "c", image: "busybox:1.37.0", command: ["true"] }],
                    },
                },
            },
        },
        planted("adopted-foreign") ? "pulumi-kubernetes-planted" : "kubectl-create",
    );
    const r = await recover(h, { expectExit: 2 });
    const still = await h.kube.get("Job", "lakehouse-wiring-check", trinoNs);
    await h.report.check(
        "faults: recover does not adopt a foreign object with a pending create's name, and leaves it intact",
        () => {
            // What its owner wrote (the controller keeps the status): same object, generation, labels and spec.
            const own = (o: typeof foreign) =>
                JSON.stringify([
                    o.metadata.uid,
                    (o.metadata as { generation?: number }).generation,
                    o.metadata.labels,
                    o.spec,
                ]);
            if (!still || own(still) !== own(foreign))
                throw new CheckFailed(`the foreign Job changed: ${JSON.stringify(still?.metadata)}`);
            if (
                !/NOT provably made by the interrupted update: no field manager of the Kubernetes provider/.test(
                    r.stdout,
                ) ||
                !/Two ways forward/.test(r.stderr)
            )
                throw new CheckFailed(
                    `recover's output does not name it and the ways forward:\n${r.stdout}\n${r.stderr}`,
                );
            return `exit 2: "${r.stdout
                .split("\n")
                .find((l) => /NOT provably/.test(l))
                ?.trim()
                .slice(0, 200)}"; the foreign Job unchanged (uid, resourceVersion)`;
        },
    );
    // The first way forward: its owner moves it out of the way; recovery and up then make the stack's own.
    await h.kube.delete("Job", "lakehouse-wiring-check", trinoNs, "Background");
    while ((await h.kube.get("Job", "lakehouse-wiring-check", trinoNs)) && Date.now() < deadline + 60_000)
        await sleep(200);
    const recovery = [
        `the whole tree killed at: ${i.pendingAtFault.filter((p) => /wiring-checks-trino/.test(p)).join("; ")}; the Job then replaced by a foreign one (field manager kubectl-create)`,
        "npm run recover: refused, exit 2, the foreign Job untouched",
        "the foreign Job deleted by its owner (the first way forward)",
        ...(await recoverAndUp(h)),
    ];
    await judge(h, name, recovery, b, namespaces);
}

async function refreshKilled(h: Harness, namespaces: string[]): Promise<void> {
    const name = "the whole tree of pulumi refresh killed";
    const b = await before(h, namespaces, name);
    const i = await interrupt(h, name, ["refresh", "--yes", "--skip-preview"], "the whole tree", { steps: 10 });
    await h.report.check(`faults: ${name}: the lock it left`, () => {
        if (locks(h).length === 0) throw new CheckFailed("no lock left: the refresh ended before the kill?");
        return `killed ${i.seconds.toFixed(1)} s in, ${locks(h).length} lock left, state: ${typeof i.pendingAfter === "string" ? i.pendingAfter : `${i.pendingAfter.length} pending`}`;
    });
    await judge(
        h,
        name,
        [
            `SIGKILL to the whole tree of pulumi refresh after 10 resources read (${i.seconds.toFixed(1)} s)`,
            ...(await recoverAndUp(h)),
        ],
        b,
        namespaces,
    );
}

/** The changes the API server cannot apply in place to what holds data: refused, then done as planned. */
async function dataChanges(h: Harness, namespaces: string[]): Promise<void> {
    for (const [key, value] of [
        ["garageDataSize", "30Gi"],
        ["storageClass", "kwok-volume"],
        ["garageNamespace", "objects-staging"],
        ["components", '["garage"]'],
        ["environment", "stage"],
    ] as const) {
        await h.report.check(`data: pulumi preview refuses ${key} = ${value}, naming the key`, async () => {
            const set = key === "components" ? { "components[0]": "garage" } : { [key]: value };
            // The value the stack file has now (the shipped one, say), to put back after.
            const was = await h.cli.run(["config", "get", key, "--stack", fqn(STACK)]);
            await setConfig(h, STACK, set);
            const { c } = await engine(h, STACK, `preview: ${key} changed`, ["preview"], { allowFailure: true });
            const text = c.stdout + c.stderr;
            const named = text.includes(`lakehouse-platform:${key}`) && /allowDataChanges/.test(text);
            await setConfig(h, STACK, {
                [key]: was.code === 0 && key !== "components" ? was.stdout.trim() : undefined,
            });
            if (c.code === 0 || !named) throw new CheckFailed(`exit ${c.code}:\n${text.slice(-1500)}`);
            return `refused (exit ${c.code}): ${(/lakehouse-platform:\w+ = [^\n]*/.exec(text)?.[0] ?? "").slice(0, 160)}...`;
        });
    }
    // Allowed after the procedure of docs/day-two.md, the volume size change does what the plan says: the
    // StatefulSet replaced, its volumes kept. The procedure's step: the StatefulSet deleted with its
    // pods and volumes orphaned (kubectl delete statefulset garage --cascade=orphan); a stack that
    // retains its data never deletes it itself.
    const volumes = await pvcUids(h.kube, namespaces);
    const garageNs = namespaces.find((n) => n.startsWith("garage"))!;
    await h.kube.delete("StatefulSet", "garage", garageNs, "Orphan");
    await setConfig(h, STACK, { garageDataSize: "30Gi", "allowDataChanges[0]": "garageDataSize" });
    await h.report.check(
        "data: with allowDataChanges, a new Garage volume size replaces the StatefulSet and keeps its volumes",
        async () => {
            const log = await up(h, STACK, "up: garageDataSize allowed");
            const ops = changed(log);
            const garage = [...ops].find(([u]) => /kubernetes:apps\/v1:StatefulSet::garage$/.test(u));
            if (garage?.[1] !== "replace")
                throw new CheckFailed(`the StatefulSet garage: ${garage?.[1] ?? "unchanged"}`);
            const now = await pvcUids(h.kube, namespaces);
            const replaced = [...volumes].filter(([k, uid]) => now.get(k) !== uid).map(([k]) => k);
            if (replaced.length > 0) throw new CheckFailed(`replaced: ${replaced.join(", ")}`);
            return `StatefulSet garage replaced (as the plan's Data section says); ${volumes.size} PVCs, same UIDs`;
        },
    );
    await setConfig(h, STACK, { "allowDataChanges[0]": undefined, allowDataChanges: undefined });
}

export async function faultRun(h: Harness): Promise<void> {
    await initStack(h, STACK, {
        kubeconfig: h.cluster.files.kubeconfig,
        trinoChart: h.chartFiles.trino,
        airbyteChart: h.chartFiles.airbyte,
        dagsterChart: h.chartFiles.dagster,
        ...h.stackSettings(STACK),
    });
    const namespaces = namespacesOf(await offlinePlan(h, STACK));
    const F = (name: string, fn: () => Promise<void>) => fault(h, name, fn);

    // The cold CI run's failure, made deterministic: the first update killed (the whole tree) at
    // its first StatefulSet's pending create, the state files then torn as that run found them.
    const torn = "the whole tree killed during the first pulumi up, the state torn as a cold CI run found it";
    await F(torn, async () => {
        const i = await interrupt(h, torn, UP, "the whole tree", { op: op("StatefulSet", "creating") });
        await assertPending(h, torn, i, /^creating StatefulSet/, "kept");
        const planted = await tearStateAsFound(h);
        const b = await before(h, namespaces, torn);
        const recovery = [
            `SIGKILL to the whole process tree at: ${i.pendingAtFault.filter((p) => /StatefulSet/.test(p)).join("; ")} (${i.seconds.toFixed(1)} s in)`,
            planted,
            ...(await recoverAndUp(h)),
        ];
        await judge(h, torn, recovery, b, namespaces);
    });
    await F("the whole tree killed among the StatefulSets (an update of their pods' resources)", () =>
        killAndRecover(
            h,
            namespaces,
            "the whole tree killed among the StatefulSets (an update of their pods' resources)",
            {
                change: { garageCpuLimit: "2", postgresCpuLimit: "2" },
                at: op("StatefulSet", "updating"),
                want: /^updating StatefulSet/,
            },
        ),
    );
    await F("the CLI alone killed during the Helm releases (its plugins live on)", () =>
        killAndRecover(h, namespaces, "the CLI alone killed during the Helm releases (its plugins live on)", {
            change: { airbyteSize: "large" },
            how: "the CLI alone",
            at: op("Release", "updating"),
            want: /^updating Release/,
        }),
    );
    await F("the whole tree killed during a replacement (a Job's new template)", () =>
        killAndRecover(h, namespaces, "the whole tree killed during a replacement (a Job's new template)", {
            change: { busyboxImage: "busybox:1.37.0-uclibc" },
            at: op("Job", "creating"),
            want: /^creating Job/,
        }),
    );
    await F("Ctrl-C (SIGINT) during the wiring checks", () =>
        gracefully(
            h,
            namespaces,
            "Ctrl-C (SIGINT) during the wiring checks",
            "SIGINT",
            { curlImage: "curlimages/curl:8.12.1" },
            (p) => p.resource.urn.includes("wiring-checks-"),
            /Job wiring-checks-/,
        ),
    );
    await F("SIGTERM during the Helm releases", () =>
        gracefully(
            h,
            namespaces,
            "SIGTERM during the Helm releases",
            "SIGTERM",
            { dagsterSize: "small" },
            op("Release", "updating"),
            /^updating Release/,
        ),
    );
    await F("a foreign object with the name of a pending create", () => foreignObject(h, namespaces));
    await F("recover run beside a live pulumi up", () => liveUpdate(h, namespaces));
    await F("the whole tree of pulumi refresh killed", () => refreshKilled(h, namespaces));
    await F("the API server killed (SIGKILL) during an update", () => apiServerKilled(h, namespaces));
    await F("etcd stopped during an update", () => etcdStopped(h, namespaces));
    await F("two pulumi up on the same stack at once", () => concurrentUpdates(h, namespaces));
    // After a destroy cut short, the recovery and `pulumi up` bring back what it had deleted.
    await F("the whole tree of pulumi destroy killed", () =>
        killAndRecover(h, namespaces, "the whole tree of pulumi destroy killed", {
            command: ["destroy", "--yes", "--skip-preview"],
            at: op("Deployment", "deleting"),
            want: /^deleting Deployment/,
        }),
    );
    await expectNoChanges(h, STACK, "after every fault");
    await dataChanges(h, namespaces);
}
