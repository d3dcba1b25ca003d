// A command and every process it starts, held in a cgroup of their own (cgroup v1's freezer),
// so a fault can be dealt to all of them at once, as a CI runner's timeout or the OOM killer
// deals it to a job's cgroup: the Pulumi CLI starts its language host and each provider in a
// process group of its own, so killing the CLI's group leaves them running. `freeze` stops every
// process of the tree at the same instant (the state the test then reads cannot change under
// it); `killAll` kills them frozen, so none runs another instruction; `killMain` and `signal`
// reach the command alone, as a kill of one pid or a Ctrl-C does.
import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { sleep } from "../e2e/procs";

const FREEZER = "/sys/fs/cgroup/freezer";

let counter = 0;

export class ProcessTree {
    readonly child: ChildProcess;
    readonly exited: Promise<number | null>;
    private readonly cgroup: string;

    constructor(command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; log: string }) {
        // The pid alone is not unique: each run has a PID namespace of its own, where the suite is
        // often pid 1, and a run that died left its cgroups behind (a cold CI run met EEXIST).
        this.cgroup = path.join(
            FREEZER,
            `lakehouse-fault-${process.pid}-${++counter}-${randomBytes(4).toString("hex")}`,
        );
        fs.mkdirSync(this.cgroup);
        const out = fs.openSync(opts.log, "a");
        // The shell joins the cgroup, then becomes the command: the command and all it starts are in it.
        this.child = spawn(
            "sh",
            ["-c", `echo $$ > "${this.cgroup}/cgroup.procs" && exec "$@"`, "sh", command, ...args],
            {
                cwd: opts.cwd,
                env: opts.env,
                stdio: ["ignore", out, out],
            },
        );
        fs.closeSync(out);
        this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
    }

    /** Every process of the tree now. */
    pids(): number[] {
        try {
            return fs
                .readFileSync(path.join(this.cgroup, "cgroup.procs"), "utf8")
                .split("\n")
                .filter(Boolean)
                .map(Number);
        } catch {
            return [];
        }
    }

    /** The tree's processes, with what each runs (for the report). */
    describe(): string[] {
        return this.pids().map((pid) => {
            try {
                const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
                return `${pid} ${path.basename(cmd)}`;
            } catch {
                return `${pid} (gone)`;
            }
        });
    }

    private async setState(state: "FROZEN" | "THAWED"): Promise<void> {
        fs.writeFileSync(path.join(this.cgroup, "freezer.state"), state);
        const deadline = Date.now() + 10_000;
        while (fs.readFileSync(path.join(this.cgroup, "freezer.state"), "utf8").trim() !== state) {
            if (Date.now() > deadline) throw new Error(`the freezer did not reach ${state} in 10 s`);
            await sleep(5);
        }
    }

    /** Stops every process of the tree at once. */
    freeze(): Promise<void> {
        return this.setState("FROZEN");
    }

    thaw(): Promise<void> {
        return this.setState("THAWED");
    }

    /** SIGKILL to every process of the tree, frozen first so that none runs on in between; returns how many. */
    async killAll(): Promise<number> {
        await this.freeze();
        const pids = this.pids();
        for (const pid of pids) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // gone
            }
        }
        await this.thaw();
        await this.exited;
        return pids.length;
    }

    /** SIGKILL to the command alone: what it started lives on. */
    async killMain(): Promise<void> {
        this.child.kill("SIGKILL");
        await this.exited;
    }

    /** A signal to the command alone (SIGINT as Ctrl-C sends it, SIGTERM as a supervisor does). */
    signal(sig: NodeJS.Signals): void {
        this.child.kill(sig);
    }

    /** Ends whatever of the tree is left and removes the cgroup; returns what was left. */
    async close(): Promise<string[]> {
        const left = this.describe();
        if (left.length > 0) {
            await this.thaw().catch(() => undefined);
            for (const pid of this.pids()) {
                try {
                    process.kill(pid, "SIGKILL");
                } catch {
                    // gone
                }
            }
            const deadline = Date.now() + 10_000;
            while (this.pids().length > 0 && Date.now() < deadline) await sleep(50);
        }
        fs.rmdirSync(this.cgroup);
        return left;
    }
}
