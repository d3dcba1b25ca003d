// Runs the Garage bootstrap Job's script, exactly as a run registered it (the script from its
// ConfigMap, the environment from the Job spec with Secret references resolved), against the fake
// `garage` CLI and `wget` in tests/fixtures/fake-garage.
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { Run } from "./stack";

const FAKE_BIN = path.join(__dirname, "..", "fixtures", "fake-garage");

export interface FakeGarageState {
    rpcSecret: string;
    adminToken: string;
    replicationFactor: number;
    nodes: { id: string; hostname: string; addr: string }[];
    availableNodes: number;
    nodesJoinOnStatus?: boolean;
    adminDownFor: number;
    failOn?: string;
    layout: {
        version: number;
        roles: Record<string, { zone: string; capacity: number }>;
        staged: Record<string, { zone: string; capacity: number }>;
    };
    buckets: Record<string, { keys: Record<string, { read: boolean; write: boolean; owner: boolean }> }>;
    keys: Record<string, { name: string; secret: string; deleted?: boolean }>;
    log: string[];
}

export interface JobEnv {
    script: string;
    env: Record<string, string>;
}

/** A Garage Job's script and resolved environment, from a run's recorded resources. */
export function garageJob(run: Run, jobName: string, file: string): JobEnv {
    const job = run.one("kubernetes:batch/v1:Job", jobName);
    const spec = run.inputs(job).spec.template.spec;
    const container = spec.containers[0];
    const scriptsVolume = spec.volumes.find((v: { name: string }) => v.name === "scripts");
    const scriptMap = run
        .ofType("kubernetes:core/v1:ConfigMap")
        .find((c) => run.inputs(c).metadata.name === scriptsVolume.configMap.name);
    if (!scriptMap) throw new Error(`${jobName}: its scripts ConfigMap is not in the run`);
    const namespace = run.inputs(job).metadata.namespace;
    const secrets = run.ofType("kubernetes:core/v1:Secret").map((s) => run.inputs(s));
    const env: Record<string, string> = {};
    for (const e of container.env as {
        name: string;
        value?: string;
        valueFrom?: { secretKeyRef: { name: string; key: string } };
    }[]) {
        if (e.name === "PATH") continue;
        if (e.value !== undefined) {
            env[e.name] = e.value;
        } else if (e.valueFrom) {
            const ref = e.valueFrom.secretKeyRef;
            const secret = secrets.find((s) => s.metadata.name === ref.name && s.metadata.namespace === namespace);
            if (!secret) throw new Error(`Secret ${ref.name} of ${e.name} is not in ${namespace}`);
            const value = secret.stringData?.[ref.key];
            if (value === undefined) throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
            env[e.name] = value;
        }
    }
    return { script: run.inputs(scriptMap).data[file], env };
}

/** The bootstrap Job's script and resolved environment. */
export function bootstrapJob(run: Run): JobEnv {
    return garageJob(run, "garage-bootstrap", "bootstrap.sh");
}

/** The key retirement Job's script and resolved environment. */
export function retireJob(run: Run): JobEnv {
    return garageJob(run, "garage-retire-keys", "retire.sh");
}

function nodeId(i: number): string {
    return createHash("sha256").update(`node-${i}`).digest("hex");
}

/** A fresh cluster: `nodes` Garage nodes running, no layout, no bucket, no key. */
export function freshCluster(job: JobEnv, nodes: number, replicationFactor: number): FakeGarageState {
    return {
        rpcSecret: job.env.GARAGE_RPC_SECRET,
        adminToken: job.env.GARAGE_ADMIN_TOKEN,
        replicationFactor,
        nodes: Array.from({ length: nodes }, (_, i) => ({
            id: nodeId(i),
            hostname: `garage-${i}`,
            addr: `10.42.0.${10 + i}:3901`,
        })),
        availableNodes: nodes,
        adminDownFor: 0,
        layout: { version: 0, roles: {}, staged: {} },
        buckets: {},
        keys: {},
        log: [],
    };
}

export interface ScriptRun {
    status: number;
    stderr: string;
    state: FakeGarageState;
}

/** Runs a Job's script once with `sh` against the state (which it updates). */
export function runBootstrap(job: JobEnv, state: FakeGarageState): ScriptRun {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "garage-bootstrap-"));
    try {
        const stateFile = path.join(dir, "state.json");
        fs.writeFileSync(stateFile, JSON.stringify(state));
        const scriptFile = path.join(dir, "bootstrap.sh");
        fs.writeFileSync(scriptFile, job.script);
        const result = spawnSync("sh", [scriptFile], {
            env: {
                ...job.env,
                PATH: `${FAKE_BIN}:${process.env.PATH}`,
                FAKE_GARAGE_STATE: stateFile,
                BOOTSTRAP_RETRY_SECONDS: "0",
                BOOTSTRAP_ATTEMPTS: "5",
            },
            encoding: "utf8",
            timeout: 60_000,
        });
        if (result.error) throw result.error;
        return {
            status: result.status ?? -1,
            stderr: result.stderr,
            state: JSON.parse(fs.readFileSync(stateFile, "utf8")) as FakeGarageState,
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Commands of a run's log that change the cluster (grants are idempotent settings, listed apart). */
export function creations(log: string[]): string[] {
    return log.filter((l) => /^(layout assign|layout apply|bucket create|key import)\b/.test(l));
}
