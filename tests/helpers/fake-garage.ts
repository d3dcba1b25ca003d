// Runs the Garage bootstrap Job's script, exactly as a run registered it (the script from its
// ConfigMap, the environment from the Job spec with Secret references resolved), against the fake
// `garage` CLI and `wget` in tests/fixtures/fake-garage, which ask the fake cluster in
// fake-garage-cli.ts, served from this process for the length of the run.
import { spawn, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CommandResult, garage, wget } from "./fake-garage-cli";
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

/**
 * The fake cluster, as tests/fixtures/fake-garage/call.sh asks it: over two named pipes in `dir`,
 * one command per round (a request of lines: the tool, GARAGE_RPC_HOST, GARAGE_RPC_SECRET, each
 * argument; an answer: the exit status, then the output). The client uses shell builtins only, so
 * a command costs its script a fork and no program start.
 */
class FakeCluster {
    private readonly request: string;
    private readonly answer: string;
    private stopped = false;
    private readonly served: Promise<void>;

    constructor(
        private readonly state: FakeGarageState,
        dir: string,
    ) {
        this.request = path.join(dir, "request");
        this.answer = path.join(dir, "answer");
        const made = spawnSync("mkfifo", [this.request, this.answer]);
        if (made.status !== 0) throw new Error(`mkfifo: ${made.stderr?.toString() ?? made.error?.message}`);
        this.served = this.serve();
    }

    private async serve(): Promise<void> {
        for (;;) {
            // Opening a pipe waits for the other end: the next command, or stop().
            const request = await fs.promises.readFile(this.request, "utf8");
            if (this.stopped) return;
            const [tool, host, secret, ...argv] = request.replace(/\n$/, "").split("\n");
            const answer: CommandResult =
                tool === "garage"
                    ? garage(this.state, argv, { host, secret })
                    : tool === "wget"
                      ? wget(this.state, argv)
                      : { status: 1, output: `no fake command ${tool}\n` };
            await fs.promises.writeFile(this.answer, `${answer.status}\n${answer.output}`);
        }
    }

    /** Ends the service: the pending open of the request pipe is given a writer that sends nothing. */
    async stop(): Promise<void> {
        this.stopped = true;
        await fs.promises.writeFile(this.request, "");
        await this.served;
    }
}

/** Runs a Job's script once with `sh` against the state, and returns it updated. */
export async function runBootstrap(job: JobEnv, initial: FakeGarageState): Promise<ScriptRun> {
    const state = JSON.parse(JSON.stringify(initial)) as FakeGarageState;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "garage-bootstrap-"));
    const cluster = new FakeCluster(state, dir);
    try {
        const scriptFile = path.join(dir, "bootstrap.sh");
        fs.writeFileSync(scriptFile, job.script);
        const child = spawn("sh", [scriptFile], {
            env: {
                ...job.env,
                PATH: `${FAKE_BIN}:${process.env.PATH}`,
                FAKE_GARAGE_DIR: dir,
                BOOTSTRAP_RETRY_SECONDS: "0",
                BOOTSTRAP_ATTEMPTS: "5",
            },
            stdio: ["ignore", "ignore", "pipe"],
            timeout: 60_000,
        });
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
        const status = await new Promise<number>((resolve, reject) => {
            child.once("error", reject);
            child.once("close", (code) => resolve(code ?? -1));
        });
        return { status, stderr, state };
    } finally {
        await cluster.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Commands of a run's log that change the cluster (grants are idempotent settings, listed apart). */
export function creations(log: string[]): string[] {
    return log.filter((l) => /^(layout assign|layout apply|bucket create|key import)\b/.test(l));
}
