// Bad days, for real, on staging (three Garage nodes, NetworkPolicies on, data retained): the CLI
// killed (SIGKILL, with its plugins, as a CI runner's timeout kills a job) at several points of
// `pulumi up`, then the recovery of docs/day-two.md (npm run recover, then pulumi up); the API server
// stopped and started again during an update; two updates of one stack at once. After each, the
// stack converges (`preview --expect-no-changes`), no credential changed value, no volume was
// replaced, the wiring checks passed. Then the changes Kubernetes cannot apply in place to what
// holds data: refused by `pulumi preview` naming the key, and done as the plan says once allowed.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "../../offline/stack-config";
import { run, sleep } from "../e2e/procs";
import { CheckFailed } from "../e2e/report";
import { changed, readEventLog, ResourceStep } from "./events";
import type { Harness } from "./harness";
import { changedSecrets, credentialSnapshot, invalidCredentials, pvcUids, Snapshot } from "./integrity";
import { engine, expectNoChanges, fqn, initStack, offlinePlan, setConfig, up } from "./lifecycle";
import type { FaultRecord } from "./report";
import { namespacesOf } from "./single";

const STACK = "staging";

interface Before {
    secrets: Snapshot;
    volumes: Map<string, string>;
}

async function before(h: Harness, namespaces: string[]): Promise<Before> {
    return { secrets: await credentialSnapshot(h.kube, namespaces), volumes: await pvcUids(h.kube, namespaces) };
}

/** `pulumi up` in a process group of its own, killed (SIGKILL, the group) when `trigger` sees its step begin. */
async function killDuring(
    h: Harness,
    label: string,
    trigger: (s: ResourceStep) => boolean,
): Promise<{ killedAt?: string; seconds: number }> {
    const events = path.join(h.work, "events", `kill-${label.replace(/\W+/g, "-")}.jsonl`);
    fs.mkdirSync(path.dirname(events), { recursive: true });
    const started = Date.now();
    const child: ChildProcess = spawn(
        path.join(h.work, "bin", "pulumi"),
        ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", fqn(STACK), "--event-log", events],
        { cwd: h.project, env: h.cli.env(), stdio: "ignore", detached: true },
    );
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    let killedAt: string | undefined;
    while (child.exitCode === null && Date.now() - started < 10 * 60_000) {
        const step = readEventLog(events).steps.find(trigger);
        if (step) {
            killedAt = `${step.op} ${step.type.split(":").pop()} ${step.urn.split("::").pop()}`;
            process.kill(-child.pid!, "SIGKILL");
            break;
        }
        await sleep(100);
    }
    await exited;
    return { killedAt, seconds: (Date.now() - started) / 1000 };
}

/** The recovery of docs/day-two.md: `npm run recover -- --stack <stack> --yes` (cancel, refresh with the pending creates), then `pulumi up`. */
async function recover(h: Harness): Promise<string[]> {
    const r = await run(
        process.execPath,
        [path.join(PROJECT_DIR, "offline", "launch.mjs"), "recover", "--stack", fqn(STACK), "--yes"],
        {
            cwd: h.project,
            env: h.cli.env(),
            timeoutMs: 10 * 60_000,
            log: path.join(h.work, "logs", "recover.log"),
        },
    );
    if (r.code !== 0) throw new CheckFailed(`npm run recover exited ${r.code}:\n${r.output.slice(-2000)}`);
    const pending = /(\d+) pending operation/.exec(r.stdout)?.[1] ?? "?";
    await up(h, STACK, "up after the recovery");
    return [`npm run recover -- --stack ${fqn(STACK)} --yes (${pending} pending operations)`, "pulumi up"];
}

/** The verdict after a fault and its recovery. */
async function judge(
    h: Harness,
    fault: string,
    recovery: string[],
    b: Before,
    namespaces: string[],
): Promise<FaultRecord> {
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
    const jobs = (await Promise.all(namespaces.map((ns) => h.kube.get("Job", "lakehouse-wiring-check", ns)))).filter(
        Boolean,
    );
    const passed = jobs.length > 0 && jobs.every((j) => ((j!.status as { succeeded?: number }).succeeded ?? 0) > 0);
    const invalid = invalidCredentials(after).invalid;
    const rec: FaultRecord = {
        fault,
        recovery,
        converged: c.code === 0,
        credentialsChanged: changedCredentials.length,
        volumesReplaced: replaced.length,
        wiringChecksPassed: passed,
        detail: [
            changedCredentials.length ? `changed: ${changedCredentials.join(", ")}` : "",
            replaced.length ? `replaced: ${replaced.join(", ")}` : "",
            invalid.length ? `invalid: ${invalid.join("; ")}` : "",
            `${jobs.length} wiring-check Jobs`,
        ]
            .filter(Boolean)
            .join("; "),
    };
    h.report.fault(rec);
    await h.report.check(
        `faults: ${fault}: converged, no credential changed, no volume replaced, the wiring checks passed`,
        () => {
            if (
                !rec.converged ||
                rec.credentialsChanged ||
                rec.volumesReplaced ||
                !rec.wiringChecksPassed ||
                invalid.length
            )
                throw new CheckFailed(JSON.stringify(rec));
            return `${rec.recovery.join("; then ")}; ${rec.detail}`;
        },
    );
    return rec;
}

const kind = (s: ResourceStep, k: string) => s.type.endsWith(`:${k}`);

/** A kill during `pulumi up` at one point, the recovery, the verdict. */
async function killAndRecover(
    h: Harness,
    namespaces: string[],
    fault: string,
    change: Record<string, string | undefined>,
    trigger: (s: ResourceStep) => boolean,
): Promise<void> {
    const b = await before(h, namespaces);
    await setConfig(h, STACK, change);
    const k = await killDuring(h, fault, trigger);
    if (!k.killedAt)
        throw new CheckFailed(`${fault}: the update ended before the point to kill it at (${k.seconds} s)`);
    const recovery = [
        `SIGKILL to the CLI and its plugins at: ${k.killedAt} (${k.seconds.toFixed(1)} s into the update)`,
        ...(await recover(h)),
    ];
    await judge(h, fault, recovery, b, namespaces);
}

async function apiServerRestart(h: Harness, namespaces: string[]): Promise<void> {
    const fault = "the API server stopped and started again during an update";
    const b = await before(h, namespaces);
    await setConfig(h, STACK, { dagsterSize: "large" });
    const events = path.join(h.work, "events", "apiserver-restart.jsonl");
    const cmd = h.cli.run(["up", "--yes", "--skip-preview", "--stack", fqn(STACK), "--event-log", events]);
    let stopped = false;
    const started = Date.now();
    while (!stopped && Date.now() - started < 120_000) {
        if (readEventLog(events).steps.some((s) => s.op === "update")) {
            await h.cluster.stopServer("kube-apiserver");
            stopped = true;
        } else await sleep(100);
    }
    await sleep(8000);
    await h.cluster.startApiServer();
    const first = await cmd;
    const recovery = [
        `kube-apiserver stopped at the first update step, started again 8 s later; that pulumi up exited ${first.code}`,
    ];
    if (first.code !== 0) {
        await up(h, STACK, "up after the API server came back");
        recovery.push("pulumi up");
    }
    await judge(h, fault, recovery, b, namespaces);
}

async function concurrentUpdates(h: Harness, namespaces: string[]): Promise<void> {
    const fault = "two pulumi up on the same stack at once";
    const b = await before(h, namespaces);
    await setConfig(h, STACK, { trinoWorkers: "2" });
    const events = path.join(h.work, "events", "concurrent-first.jsonl");
    const first = h.cli.run(["up", "--yes", "--skip-preview", "--stack", fqn(STACK), "--event-log", events]);
    const t = Date.now();
    while (readEventLog(events).steps.length === 0 && Date.now() - t < 60_000) await sleep(100);
    const second = await h.cli.run(["up", "--yes", "--skip-preview", "--stack", fqn(STACK)]);
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
    await judge(h, fault, ["none: the second update was refused; the first completed"], b, namespaces);
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
    // A Job's template (its image) replaces the Job, and it runs again; a label updates Services in place.
    await setConfig(h, STACK, { "allowDataChanges[0]": undefined, allowDataChanges: undefined });
    await h.report.check(
        "data: a Job's template change replaces the Job (it holds no data) and it runs again",
        async () => {
            await setConfig(h, STACK, { busyboxImage: "busybox:1.37.0-uclibc" });
            const log = await up(h, STACK, "up: busyboxImage");
            const jobs = [...changed(log)].filter(([u]) => u.includes("kubernetes:batch/v1:Job::"));
            if (jobs.length === 0 || jobs.some(([, op]) => op !== "replace"))
                throw new CheckFailed(JSON.stringify(jobs));
            return `replaced: ${jobs.map(([u]) => u.split("::").pop()).join(", ")}`;
        },
    );
}

/** One fault: its failure (the recovery did not work) is recorded as a failed check, and the run goes on. */
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
    }
}

export async function faultRun(h: Harness): Promise<void> {
    await initStack(h, STACK, {
        kubeconfig: h.cluster.files.kubeconfig,
        trinoChart: h.chartFiles.trino,
        airbyteChart: h.chartFiles.airbyte,
        dagsterChart: h.chartFiles.dagster,
    });
    const namespaces = namespacesOf(await offlinePlan(h, STACK));
    // Early: killed during the first update, once its first Secrets exist.
    const early = "the CLI killed early, during the first pulumi up (at its first StatefulSet)";
    await fault(h, early, async () => {
        const k = await killDuring(h, early, (s) => kind(s, "StatefulSet"));
        if (!k.killedAt) throw new CheckFailed(`${early}: the update ended first`);
        const b = await before(h, namespaces);
        const recovery = [
            `SIGKILL to the CLI and its plugins at: ${k.killedAt} (${k.seconds.toFixed(1)} s)`,
            ...(await recover(h)),
        ];
        await judge(h, early, recovery, b, namespaces);
    });
    const kills: [string, Record<string, string>, (s: ResourceStep) => boolean][] = [
        [
            "the CLI killed among the StatefulSets (an update of their pods' resources)",
            { garageCpuLimit: "2", postgresCpuLimit: "2" },
            (s) => kind(s, "StatefulSet") && s.op === "update",
        ],
        [
            "the CLI killed during the Helm releases (Trino's workers)",
            { trinoWorkers: "3" },
            (s) => kind(s, "Release") && s.op === "update",
        ],
        [
            "the CLI killed during the wiring checks (a new curl image runs them again)",
            { curlImage: "curlimages/curl:8.12.1" },
            (s) => s.urn.includes("kubernetes:batch/v1:Job::wiring-checks-"),
        ],
    ];
    for (const [name, change, trigger] of kills)
        await fault(h, name, () => killAndRecover(h, namespaces, name, change, trigger));
    await fault(h, "the API server stopped and started again during an update", () => apiServerRestart(h, namespaces));
    await fault(h, "two pulumi up on the same stack at once", () => concurrentUpdates(h, namespaces));
    await expectNoChanges(h, STACK, "after every fault");
    await dataChanges(h, namespaces);
}
