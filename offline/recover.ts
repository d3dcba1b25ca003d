// npm run recover -- --stack <stack> [--yes] [--force] [--lock-max-age <minutes>]
//
// After `pulumi up` was interrupted (killed by a CI timeout, an OOM kill, a lost laptop), the
// stack may be locked, its state holds pending operations (what the engine had asked a provider
// to do when it died), and, on a file backend, a write may have been cut in half. The CLI then
// says to check each operation and refresh; this does it, proving each step safe before it acts
// (offline/recover/: backend.ts, state-files.ts, locks.ts, adoption.ts, plan.ts, tools.ts):
//
//   1. the state's files (file backend): a torn sidecar or an unfinished write is moved aside, an
//      unreadable checkpoint replaced by the newest whole one (.bak, backups, history), every
//      touched file kept under .pulumi/recover/;
//   2. the locks: broken (pulumi cancel) only when provably dead (its process gone, or taken
//      elsewhere longer ago than the bound); a live one stops recovery, naming its holder;
//   3. each pending create of a Kubernetes object: imported only when the object carries the proof
//      that the interrupted update made it (the provider's field manager, created after the update
//      started, the program's labels); any other object of that name stops recovery, named;
//   4. the refresh with the pending creates cleared, the edits of replacements, the imports.
//
// Without --yes it prints what it found and the commands, and needs no Pulumi CLI for that.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { load } from "js-yaml";
import { answersHelp } from "./exit";
import { ClusterObject, judgeObject, judgePending, judgeRelease, pendingRecords, Verdict } from "./recover/adoption";
import { Backend, resolveBackend, stackFiles, StackRef, stackRef } from "./recover/backend";
import {
    judgeLock,
    Lock,
    LOCK_MAX_AGE_MINUTES,
    LockVerdict,
    locksFromRefusal,
    processCommand,
    readLockFiles,
} from "./recover/locks";
import {
    ExportedState,
    HELM_RELEASE,
    importCommand,
    kubernetesId,
    PendingOperation,
    recoveryPlan,
} from "./recover/plan";
import { checkpointProblem, diagnose, repair } from "./recover/state-files";
import { ClusterAccess, Kubectl, Pulumi, RECOVER_EXIT, RecoverError, which } from "./recover/tools";

export { importCommand, kubernetesId, recoveryPlan } from "./recover/plan";
export { RECOVER_EXIT } from "./recover/tools";

/** How long recover waits for an object the interrupted command was deleting to be gone (its pods stopping). */
const DELETE_WAIT_SECONDS = 300;

const USAGE = `usage: npm run recover -- --stack <stack> [--yes] [--force] [--lock-max-age <minutes>]

Recovers a stack after an interrupted \`pulumi up\` (or destroy, refresh), proving each step safe
before it acts: repairs a state file the kill cut in half (file backend; every touched file kept
under .pulumi/recover/), breaks the stack's lock only when its update is provably dead (pulumi
cancel), refreshes the state from the cluster with the pending creates cleared, and imports each
Kubernetes object only when it proves the interrupted update made it (kubectl reads it). Then run
\`pulumi up\` again. Without --yes it prints what it found and the commands (no Pulumi CLI needed).

  --yes               run the commands
  --force             break a lock that may belong to a live update (only when you know it is gone:
                      two writers corrupt the state)
  --lock-max-age N    minutes after which a lock taken on another machine counts as dead
                      (default ${LOCK_MAX_AGE_MINUTES})

Exit status: 0 recovered (or, without --yes, nothing refused); 2 refused (bad arguments, a live
lock, an object the update did not provably make: each named, with the ways forward); 3 a command
failed; 4 the state cannot be loaded or restored; 5 pulumi or kubectl not on PATH; 6 a provider
plugin missing; 7 the cluster unreachable.`;

interface Options {
    stack: string;
    yes: boolean;
    force: boolean;
    lockMaxAge: number;
}

function parse(argv: string[]): Options {
    const { values } = parseArgs({
        args: argv,
        options: {
            stack: { type: "string" },
            yes: { type: "boolean" },
            force: { type: "boolean" },
            "lock-max-age": { type: "string" },
        },
        strict: true,
    });
    if (!values.stack) throw new RecoverError(RECOVER_EXIT.refused, "--stack is required");
    const age = values["lock-max-age"] === undefined ? LOCK_MAX_AGE_MINUTES : Number(values["lock-max-age"]);
    if (!Number.isFinite(age) || age <= 0)
        throw new RecoverError(
            RECOVER_EXIT.refused,
            `--lock-max-age ${values["lock-max-age"]}: a number of minutes greater than 0`,
        );
    return { stack: values.stack, yes: values.yes ?? false, force: values.force ?? false, lockMaxAge: age };
}

function projectName(dir: string): string {
    const file = path.join(dir, "Pulumi.yaml");
    if (!fs.existsSync(file))
        throw new RecoverError(RECOVER_EXIT.refused, `no Pulumi.yaml in ${dir}: run recover in the project's folder`);
    return (load(fs.readFileSync(file, "utf8")) as { name: string }).name;
}

/** What recovery says and does, in order; `out` prints. */
class Recovery {
    private readonly cwd = process.cwd();
    private readonly ref: StackRef;
    private readonly backend?: Backend;
    private readonly pulumi?: Pulumi;
    private kubectlClient?: Kubectl;

    constructor(
        private readonly o: Options,
        private readonly out: (s: string) => void,
    ) {
        this.ref = stackRef(o.stack, projectName(this.cwd));
        this.backend = resolveBackend(process.env, this.cwd);
        const bin = which("pulumi");
        this.pulumi = bin ? new Pulumi(bin) : undefined;
    }

    private cmd(args: string[]): string {
        return `$ pulumi ${args.join(" ")}`;
    }

    private needPulumi(): Pulumi {
        if (this.pulumi) return this.pulumi;
        throw new RecoverError(
            RECOVER_EXIT.toolMissing,
            "the Pulumi CLI (`pulumi`) is not on PATH: install it (https://www.pulumi.com/docs/iac/download-install/) or add its folder to PATH, then run recover again",
        );
    }

    /** Step 1: the state's files, on a file backend. */
    private stateFiles(): void {
        const b = this.backend;
        if (!b) {
            this.out("backend: none found (no PULUMI_BACKEND_URL, no backend.url in Pulumi.yaml, no `pulumi login`)");
            return;
        }
        if (b.kind !== "file") {
            this.out(
                `backend: ${b.url} (${b.kind === "bucket" ? "an object store writes each object and its metadata at once: no torn sidecar to repair; a checkpoint the CLI cannot load is named, not rewritten" : "the service keeps the state and its history"})`,
            );
            return;
        }
        const files = stackFiles(b.root, this.ref);
        const d = diagnose(files, this.ref);
        this.out(
            `backend: ${b.url}; state ${d.checkpoint ?? "(no checkpoint)"}: ${d.loadable ? "loadable" : "NOT loadable"}`,
        );
        for (const f of d.findings) this.out(`  ${path.relative(b.root, f.file)}: ${f.problem}`);
        if (d.loadable) return;
        if (d.restoreFrom)
            this.out(
                `  newest whole checkpoint: ${path.relative(b.root, d.restoreFrom.file)} (${d.restoreFrom.source})`,
            );
        for (const p of d.passedOver) this.out(`  passed over ${path.relative(b.root, p.file)}: ${p.problem}`);
        if (!this.o.yes) {
            this.out("  (with --yes: repaired, every touched file kept under .pulumi/recover/)");
            return;
        }
        try {
            const r = repair(files, d);
            for (const line of r.done) this.out(`  ${line}`);
            this.out(`  copies of every touched file: ${path.relative(b.root, r.keptIn)}`);
        } catch (e) {
            throw new RecoverError(RECOVER_EXIT.state, `the state cannot be repaired: ${(e as Error).message}`);
        }
    }

    /** Step 2: the locks, each judged; returns when the interrupted update started (the newest dead lock's time). */
    private locks(): { verdicts: LockVerdict[]; started?: Date } {
        const b = this.backend;
        let locks: Lock[] = [];
        if (b?.kind === "file") {
            const r = readLockFiles(stackFiles(b.root, this.ref).locksDir);
            locks = r.locks;
            if (r.unreadable.length > 0)
                throw new RecoverError(
                    RECOVER_EXIT.state,
                    `lock files that cannot be read: ${r.unreadable.join(", ")}; whose update they belong to is unknown`,
                );
        } else if (b?.kind === "bucket" && this.pulumi) {
            // The CLI names the locks when it refuses to take one: a refresh preview asks first and reads nothing else then.
            const r = this.pulumi.run(["refresh", "--preview-only", "--stack", this.ref.fqn]);
            locks = locksFromRefusal(r.stdout + r.stderr);
        } else if (b?.kind === "service") {
            this.out(
                "locks: the service holds them; an update whose CLI died is cancelled by the service when its lease lapses (about 5 min); `pulumi cancel` would cancel a live one too: recover does not run it there",
            );
            return { verdicts: [] };
        }
        const machine = { hostname: os.hostname(), now: new Date(), command: processCommand };
        const verdicts = locks.map((l) => judgeLock(l, machine, this.o.lockMaxAge));
        if (verdicts.length === 0) this.out("locks: none");
        for (const v of verdicts)
            this.out(
                `lock: ${v.lock.username}@${v.lock.hostname} (pid ${v.lock.pid}) since ${v.lock.timestamp.toISOString()}: ${v.dead ? "dead" : "MAY BE LIVE"}: ${v.why}`,
            );
        const live = verdicts.filter((v) => !v.dead);
        if (live.length > 0 && !this.o.force)
            throw new RecoverError(
                RECOVER_EXIT.refused,
                [
                    `an update of ${this.ref.fqn} may still be running; recover breaks no lock it cannot prove dead:`,
                    ...live.map((v) => `  ${v.lock.username}@${v.lock.hostname} (pid ${v.lock.pid}): ${v.why}`),
                    "Wait for it to end (it releases the lock), or stop it (Ctrl-C, or `kill -INT <pid>` on its machine: Pulumi finishes the steps in flight and releases the lock), then run recover again.",
                    "If you know it is gone (its machine lost, its job killed), run recover with --force: a second writer beside a live update corrupts the state.",
                ].join("\n"),
            );
        const dead = verdicts.filter((v) => v.dead || this.o.force);
        const started =
            dead.length > 0 ? new Date(Math.max(...dead.map((v) => v.lock.timestamp.getTime()))) : undefined;
        return { verdicts, started: started ?? this.backupTime() };
    }

    /** Without a lock: when the newest update started, as the file backend's backup made at its start says. */
    private backupTime(): Date | undefined {
        if (this.backend?.kind !== "file") return undefined;
        const dir = stackFiles(this.backend.root, this.ref).backupsDir;
        if (!fs.existsSync(dir)) return undefined;
        const times = fs
            .readdirSync(dir)
            .map((f) => /\.(\d{16,})\.json/.exec(f)?.[1])
            .filter((t): t is string => t !== undefined)
            .map((t) => Number(BigInt(t) / 1_000_000n));
        return times.length > 0 ? new Date(Math.max(...times)) : undefined;
    }

    /** The state as the CLI exports it, or (dry run without the CLI, file backend) as the checkpoint holds it. */
    private exported(): ExportedState | undefined {
        if (this.pulumi) {
            const r = this.pulumi.must(["stack", "export", "--stack", this.ref.fqn]);
            return JSON.parse(r.stdout) as ExportedState;
        }
        if (this.backend?.kind !== "file") return undefined;
        // The checkpoint as it is (a torn sidecar does not tear it), or the one the repair would restore.
        const d = diagnose(stackFiles(this.backend.root, this.ref), this.ref);
        const file = d.checkpoint && !checkpointProblem(d.checkpoint, this.ref) ? d.checkpoint : d.restoreFrom?.file;
        if (!file || file.endsWith(".gz") || file.endsWith(".zst")) return undefined;
        const doc = JSON.parse(fs.readFileSync(file, "utf8")) as {
            checkpoint: { latest?: ExportedState["deployment"] };
        };
        return { deployment: doc.checkpoint.latest };
    }

    private access(): ClusterAccess {
        const get = (key: string): string | undefined => {
            if (!this.pulumi) return undefined;
            const r = this.pulumi.run(["config", "get", key, "--stack", this.ref.fqn]);
            return r.code === 0 && r.stdout.trim() !== "" ? r.stdout.replace(/\n$/, "") : undefined;
        };
        return { kubeconfig: get("kubeconfig"), context: get("kubeContext") };
    }

    /** kubectl on the stack's cluster, made the first time it is needed. */
    private kubectl(why: string): Kubectl {
        if (this.kubectlClient) return this.kubectlClient;
        const bin = which("kubectl");
        if (!bin)
            throw new RecoverError(
                RECOVER_EXIT.toolMissing,
                `kubectl is not on PATH: recover reads ${why} from the cluster before it changes anything; install kubectl, then run recover again`,
            );
        this.kubectlClient = new Kubectl(bin, this.access());
        return this.kubectlClient;
    }

    /** Step 3: each candidate's object read and judged. */
    private proofs(candidates: PendingOperation[], started: Date | undefined): Map<PendingOperation, Verdict> {
        const out = new Map<PendingOperation, Verdict>();
        if (candidates.length === 0) return out;
        const kubectl = this.kubectl(
            `each of the ${candidates.length} objects the interrupted update may have created, to prove it made them before importing any`,
        );
        for (const op of candidates) {
            const objects = kubectl.objectsOf(op);
            out.set(
                op,
                HELM_RELEASE.test(op.resource.type)
                    ? judgeRelease(op, objects, started)
                    : judgeObject(op, objects[0], started),
            );
        }
        return out;
    }

    /**
     * Step 3b: the stack's Helm releases Helm still holds locked (a revision left pending by the
     * killed update: Helm refuses every later change until it is gone). The interrupted update's
     * own pending revisions are removed (their records kept), so that the next upgrade starts
     * from the last deployed revision; one older than the update is someone else's: refused.
     */
    private stuckReleases(
        state: ExportedState,
        started: Date | undefined,
    ): { namespace: string; record: ClusterObject; why: string }[] {
        const releases = new Map<string, { namespace: string; name: string }>();
        for (const r of state.deployment?.resources ?? [])
            if (r.type && HELM_RELEASE.test(r.type) && r.inputs?.name && r.inputs.namespace)
                releases.set(`${r.inputs.namespace}/${r.inputs.name}`, {
                    namespace: r.inputs.namespace,
                    name: r.inputs.name,
                });
        for (const op of state.deployment?.pending_operations ?? []) {
            const i = op.resource.inputs;
            if (HELM_RELEASE.test(op.resource.type) && i?.name && i.namespace)
                releases.set(`${i.namespace}/${i.name}`, { namespace: i.namespace, name: i.name });
        }
        if (releases.size === 0) return [];
        const kubectl = this.kubectl(
            `the records of the stack's ${releases.size} Helm releases, to find one the interrupted update left locked`,
        );
        const stuck: { namespace: string; record: ClusterObject; why: string }[] = [];
        const foreign: string[] = [];
        for (const { namespace, name } of releases.values()) {
            for (const record of pendingRecords(kubectl.releaseRecords(namespace, name))) {
                const v = judgePending(record, started);
                if (v.ours) stuck.push({ namespace, record, why: v.why });
                else foreign.push(`${namespace}/${name}: ${v.why}`);
            }
        }
        for (const s of stuck)
            this.out(
                `  Helm release record ${s.namespace}/${s.why}: left locked; removed (a copy kept), the next up upgrades from the last deployed revision`,
            );
        if (foreign.length > 0)
            throw new RecoverError(
                RECOVER_EXIT.refused,
                [
                    "a Helm release of this stack has an operation in progress that the interrupted update did not start; left alone, nothing was changed:",
                    ...foreign.map((f) => `  ${f}`),
                    "Wait for that operation (`helm status <release> -n <namespace>`), or, if it is dead, roll it back (`helm rollback <release> -n <namespace>`); then run recover again.",
                ].join("\n"),
            );
        return stuck;
    }

    /** Removes the records, each kept as a file first. */
    private unlockReleases(stuck: { namespace: string; record: ClusterObject }[]): void {
        if (stuck.length === 0) return;
        const keep =
            this.backend?.kind === "file"
                ? path.join(
                      stackFiles(this.backend.root, this.ref).recoverDir,
                      new Date().toISOString().replace(/[:.]/g, "-"),
                      "helm",
                  )
                : fs.mkdtempSync(path.join(os.tmpdir(), "recover-helm-"));
        fs.mkdirSync(keep, { recursive: true, mode: 0o700 });
        const kubectl = this.kubectl("the Helm records");
        for (const { namespace, record } of stuck) {
            fs.writeFileSync(
                path.join(keep, `${namespace}.${record.metadata.name}.json`),
                JSON.stringify(record, null, 2),
                { mode: 0o600 },
            );
            this.out(
                `$ kubectl delete secret ${record.metadata.name} -n ${namespace}   # copy: ${path.join(keep, `${namespace}.${record.metadata.name}.json`)}`,
            );
            kubectl.deleteSecret(namespace, record.metadata.name);
        }
    }

    run(): number {
        const o = this.o;
        // Everything or nothing: without the CLI, --yes stops before the first change.
        if (o.yes) this.needPulumi();
        this.out(`recovering ${this.ref.fqn}${o.yes ? "" : " (dry run: nothing is changed; --yes to run)"}`);
        this.stateFiles();
        const { verdicts, started } = this.locks();
        const state = this.exported();
        if (!this.pulumi) {
            if (state) {
                const plan = recoveryPlan(state);
                this.out(`${state.deployment?.pending_operations?.length ?? 0} pending operations in the checkpoint`);
                for (const d of plan.described) this.out(`  ${d}`);
            }
            this.out("pulumi is not on PATH: the commands recovery runs, each after its proof:");
            for (const c of [
                ["cancel", "--yes", "--stack", this.ref.fqn],
                ["refresh", "--yes", "--skip-preview", "--clear-pending-creates", "--stack", this.ref.fqn],
                [
                    "import",
                    "<type>",
                    "<name>",
                    "<id>",
                    "--parent",
                    "parent=<urn>",
                    "--provider",
                    "provider=<urn>",
                    "...",
                ],
            ])
                this.out(`  ${this.cmd(c)}`);
            this.out(
                "(the cancel only for a lock proven dead; an import only for an object proven made by the interrupted update, read from the cluster with the stack's kubeconfig, which needs the CLI)",
            );
            return RECOVER_EXIT.ok;
        }
        if (!state) throw new RecoverError(RECOVER_EXIT.state, "the state could not be exported");
        const pending = state.deployment?.pending_operations ?? [];
        const plan = recoveryPlan(state);
        this.out(`${pending.length} pending operation${pending.length === 1 ? "" : "s"} in ${this.ref.fqn}'s state`);
        for (const d of plan.described) this.out(`  ${d}`);
        if (started) this.out(`the interrupted update started ${started.toISOString()}`);

        const verdictsOf = this.proofs(plan.candidates, started);
        const stuck = this.stuckReleases(state, started);
        const foreign = [...verdictsOf].filter(([, v]) => v.kind === "foreign");
        for (const [op, v] of verdictsOf) {
            const id = kubernetesId(op);
            if (v.kind === "absent") this.out(`  ${id}: not in the cluster (the next pulumi up creates it)`);
            if (v.kind === "adopt")
                this.out(`  ${id}: made by the interrupted update (${v.evidence.join("; ")}): imported`);
            if (v.kind === "foreign")
                this.out(`  ${id}: NOT provably made by the interrupted update: ${v.reasons.join("; ")}`);
        }
        if (foreign.length > 0)
            throw new RecoverError(
                RECOVER_EXIT.refused,
                [
                    `${foreign.length} object${foreign.length === 1 ? "" : "s"} in the cluster bear${foreign.length === 1 ? "s" : ""} the name of a resource the interrupted update was creating, without the proof that it made ${foreign.length === 1 ? "it" : "them"}; left alone, and nothing was changed:`,
                    ...foreign.map(([op]) => `  ${op.resource.type} ${kubernetesId(op)} (${op.resource.urn})`),
                    "Two ways forward:",
                    "  - it is not this stack's: move it out of the way (rename it, or delete it if its owner agrees), run recover again, and the next pulumi up creates the stack's own;",
                    "  - it is this stack's after all (made by hand, or by an update recover cannot see): adopt it on purpose with",
                    ...foreign.map(([op]) => `      ${this.cmd([...importCommand(op)!, "--stack", this.ref.fqn])}`),
                    "    then run recover again.",
                ].join("\n"),
            );

        const stack = ["--stack", this.ref.fqn];
        const commands: string[][] = [];
        const cancel = verdicts.length > 0;
        if (cancel) commands.push(["cancel", "--yes", ...stack]);
        let editedFile: string | undefined;
        if (plan.edited) {
            // A replacement whose original the engine had deleted (pendingReplacement) and whose new
            // object it was creating: the resource stays, marked as existing; the refresh reads it.
            editedFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "recover-")), "state.json");
            fs.writeFileSync(editedFile, JSON.stringify(plan.edited), { mode: 0o600 });
            commands.push(["stack", "import", "--file", editedFile, ...stack]);
        }
        const refresh = [
            "refresh",
            "--yes",
            "--skip-preview",
            ...(plan.clear ? ["--clear-pending-creates"] : []),
            ...stack,
        ];
        commands.push(refresh);
        for (const [op, v] of verdictsOf) if (v.kind === "adopt") commands.push([...importCommand(op)!, ...stack]);
        // The deletes the interrupted command had begun finish first: the refresh then drops what
        // they deleted, and the next `pulumi up` creates it again instead of patching a vanishing object.
        const deleting = pending
            .filter((op) => op.type === "deleting" && !HELM_RELEASE.test(op.resource.type))
            .map((op) => ({ type: op.resource.type, id: kubernetesId(op) }))
            .filter((d): d is { type: string; id: string } => d.id !== undefined);
        if (o.yes && deleting.length > 0) {
            const kubectl = this.kubectl(
                `whether the ${deleting.length} objects the interrupted command was deleting are gone`,
            );
            for (const { type, id } of deleting) {
                const left = kubectl.waitGone(type, id, DELETE_WAIT_SECONDS);
                this.out(
                    left
                        ? `still there after ${DELETE_WAIT_SECONDS} s (the refresh reads it as it is): ${left}`
                        : `deleted, as the interrupted command began: ${type} ${id}`,
                );
            }
        }
        for (const c of commands) {
            if (c === refresh && o.yes) this.unlockReleases(stuck);
            else if (c === refresh)
                for (const s of stuck)
                    this.out(
                        `$ kubectl delete secret ${s.record.metadata.name} -n ${s.namespace}   # (a copy kept first)`,
                    );
            this.out(this.cmd(c));
            if (!o.yes) continue;
            this.needPulumi().must(c, c[0] === "refresh");
        }
        if (editedFile) fs.rmSync(path.dirname(editedFile), { recursive: true, force: true });
        this.kubectlClient?.close();
        this.out(o.yes ? "recovered: run `pulumi up` again" : "(run again with --yes to run them, then `pulumi up`)");
        return RECOVER_EXIT.ok;
    }
}

export function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): number {
    if (answersHelp(argv, USAGE, out)) return RECOVER_EXIT.ok;
    try {
        return new Recovery(parse(argv), out).run();
    } catch (e) {
        if (e instanceof RecoverError) {
            err(e.exit === RECOVER_EXIT.refused && /^--/.test(e.message) ? `${e.message}\n\n${USAGE}` : e.message);
            return e.exit;
        }
        if ((e as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
            err(`${(e as Error).message}\n\n${USAGE}`);
            return RECOVER_EXIT.refused;
        }
        throw e;
    }
}
