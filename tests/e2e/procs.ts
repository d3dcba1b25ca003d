// Processes of the end-to-end suite: servers started in the background with a log file each,
// commands run to completion with their output kept, ports waited for, everything stopped at the end.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

export interface RunResult {
    code: number | null;
    stdout: string;
    stderr: string;
    /** Both, interleaved in the order they came. */
    output: string;
}

export interface RunOptions {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    /** Given on stdin. */
    input?: string;
    timeoutMs?: number;
    /** Also written to this file. */
    log?: string;
}

/** Runs a command to completion (or its timeout) and returns what it printed. */
export function run(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, {
            cwd: opts.cwd,
            env: opts.env ?? process.env,
            stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        let output = "";
        const log = opts.log ? fs.createWriteStream(opts.log, { flags: "a" }) : undefined;
        child.stdout?.setEncoding("utf8").on("data", (d: string) => {
            stdout += d;
            output += d;
            log?.write(d);
        });
        child.stderr?.setEncoding("utf8").on("data", (d: string) => {
            stderr += d;
            output += d;
            log?.write(d);
        });
        const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
        child.on("error", (e) => {
            if (timer) clearTimeout(timer);
            reject(new Error(`cannot run ${command}: ${e.message}`));
        });
        child.on("close", (code) => {
            if (timer) clearTimeout(timer);
            log?.end();
            resolve({ code, stdout, stderr, output });
        });
        if (child.stdin) {
            // A command that exits without reading its input is no error of ours.
            child.stdin.on("error", () => undefined);
            child.stdin.end(opts.input);
        }
    });
}

/** Runs a command that must succeed; throws with the tail of its output otherwise. */
export async function must(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const r = await run(command, args, opts);
    if (r.code !== 0)
        throw new Error(`${path.basename(command)} ${args.slice(0, 3).join(" ")} exited ${r.code}:\n${tail(r.output)}`);
    return r;
}

export function tail(text: string, lines = 25): string {
    return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Runs a command with the terminal as its stdout and stderr (progress shows as it comes). */
export function runInherit(
    command: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<number | null> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { env: opts.env ?? process.env, stdio: ["ignore", "inherit", "inherit"] });
        child.on("error", (e) => reject(new Error(`cannot run ${command}: ${e.message}`)));
        child.on("close", (code) => resolve(code));
    });
}

/** Servers started by the suite, stopped together. */
export class Processes {
    private readonly children: { name: string; child: ChildProcess; log: string }[] = [];

    /** The processes started and still running: name and pid. */
    running(): { name: string; pid: number }[] {
        return this.children
            .filter((c) => c.child.pid !== undefined && c.child.exitCode === null && c.child.signalCode === null)
            .map((c) => ({ name: c.name, pid: c.child.pid! }));
    }

    private detached = false;

    constructor(private readonly logDir: string) {
        fs.mkdirSync(logDir, { recursive: true });
        // A suite that dies (an uncaught error, a signal) takes its servers with it.
        process.once("exit", () => {
            if (this.detached) return;
            for (const e of this.children) {
                if (e.child.exitCode !== null || e.child.pid === undefined) continue;
                try {
                    process.kill(-e.child.pid, "SIGKILL");
                } catch {
                    // gone
                }
            }
        });
    }

    logOf(name: string): string {
        return path.join(this.logDir, `${name}.log`);
    }

    /** Starts a server in the background; its output goes to `<logDir>/<name>.log`. */
    start(
        name: string,
        command: string,
        args: string[],
        opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
    ): ChildProcess {
        const log = this.logOf(name);
        const out = fs.openSync(log, "a");
        const child = spawn(command, args, {
            cwd: opts.cwd,
            env: opts.env ?? process.env,
            stdio: ["ignore", out, out],
            detached: true,
        });
        fs.closeSync(out);
        this.children.push({ name, child, log });
        return child;
    }

    /** Waits until `host:port` accepts a connection, or fails naming the server and quoting its log. */
    async waitForPort(
        name: string,
        child: ChildProcess | undefined,
        host: string,
        port: number,
        timeoutMs: number,
    ): Promise<number> {
        const start = Date.now();
        while (Date.now() - start < timeoutMs) {
            if (child && child.exitCode !== null)
                throw new Error(
                    `${name} exited (${child.exitCode}) before it listened on ${host}:${port}:\n${tail(this.read(name))}`,
                );
            if (await connects(host, port)) return Date.now() - start;
            await sleep(500);
        }
        throw new Error(
            `${name} did not listen on ${host}:${port} within ${Math.round(timeoutMs / 1000)} s:\n${tail(this.read(name))}`,
        );
    }

    read(name: string): string {
        try {
            return fs.readFileSync(this.logOf(name), "utf8");
        } catch {
            return "";
        }
    }

    /** Stops one server (and what it started). */
    async stop(name: string): Promise<void> {
        const entries = this.children.filter((c) => c.name === name);
        await Promise.all(entries.map((e) => stopChild(e.child)));
    }

    /** Deals one server (and what it started) a signal, as a crash or an OOM kill would, and waits until it is gone. */
    async kill(name: string, signal: NodeJS.Signals): Promise<void> {
        const entries = this.children.filter((c) => c.name === name && c.child.exitCode === null && c.child.pid);
        await Promise.all(
            entries.map(async (e) => {
                const exited = new Promise<void>((resolve) => e.child.once("exit", () => resolve()));
                try {
                    process.kill(-e.child.pid!, signal);
                } catch {
                    return;
                }
                await exited;
            }),
        );
    }

    async stopAll(): Promise<void> {
        await Promise.all(this.children.map((e) => stopChild(e.child)));
    }

    /** Lets the servers outlive this process (their groups' pids, for `stopGroups` later). */
    detach(): Record<string, number> {
        this.detached = true;
        const pids: Record<string, number> = {};
        for (const e of this.children) {
            if (e.child.exitCode !== null || e.child.pid === undefined) continue;
            e.child.unref();
            pids[e.name] = e.child.pid;
        }
        return pids;
    }
}

async function stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
        process.kill(-child.pid, "SIGTERM");
    } catch {
        return;
    }
    const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!killed) {
        try {
            process.kill(-child.pid, "SIGKILL");
        } catch {
            // gone
        }
    }
}

/** Stops process groups another process started and detached (SIGTERM, then SIGKILL after 10 s). */
export async function stopGroups(pids: number[]): Promise<void> {
    const alive = (pid: number) => {
        try {
            process.kill(pid, 0);
            return true;
        } catch {
            return false;
        }
    };
    for (const pid of pids) {
        try {
            process.kill(-pid, "SIGTERM");
        } catch {
            // already gone
        }
    }
    const deadline = Date.now() + 10_000;
    while (pids.some(alive) && Date.now() < deadline) await sleep(200);
    for (const pid of pids.filter(alive)) {
        try {
            process.kill(-pid, "SIGKILL");
        } catch {
            // gone
        }
    }
}

export function connects(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const done = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket.setTimeout(timeoutMs, () => done(false));
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
    });
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
