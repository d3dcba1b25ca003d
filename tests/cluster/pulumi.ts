// The Pulumi CLI as the suite runs it: its own PULUMI_HOME (the provider plugins installed from
// their files, nothing downloaded), a file backend, a passphrase for the stacks' secrets, no update
// check, no plugin acquisition, no ambient plugins; the real language host beside it. Each command's exit
// code, time and output are kept for the report.
import * as fs from "fs";
import * as path from "path";
import { run, RunResult } from "../e2e/procs";
import type { Provider } from "./tools";

export interface PulumiOptions {
    /** The folder holding the `pulumi` binary. */
    cliBin: string;
    /** The project: where the CLI runs (the suite's own copy of the checkout, so stack files stay out of it). */
    projectDir: string;
    /** The suite's own folder for this run: PULUMI_HOME, the backend, the stack files. */
    workDir: string;
    /** The real `pulumi-language-nodejs` binary. */
    languageHost: string;
    passphrase: string;
    /** Extra environment for every command (e.g. the private /etc/hosts is not needed here). */
    env?: NodeJS.ProcessEnv;
    /**
     * Lets the CLI download the plugins a program needs, as a user's does (`npm run up:local` with
     * the user's own CLI where no provider files are at hand). Off for the suites: they install
     * each provider from its file and must not reach the network.
     */
    acquirePlugins?: boolean;
}

export interface Command {
    args: string[];
    code: number | null;
    seconds: number;
    stdout: string;
    stderr: string;
}

export class PulumiCli {
    readonly home: string;
    readonly backend: string;
    readonly stacksDir: string;
    private readonly hostBin: string;
    readonly history: Command[] = [];

    constructor(readonly opts: PulumiOptions) {
        this.home = path.join(opts.workDir, "pulumi-home");
        this.backend = path.join(opts.workDir, "backend");
        this.stacksDir = path.join(opts.workDir, "stacks");
        this.hostBin = path.join(opts.workDir, "bin");
        for (const d of [this.home, this.backend, this.stacksDir, this.hostBin, path.join(opts.workDir, "logs")])
            fs.mkdirSync(d, { recursive: true });
        // The CLI looks for its Node.js language host beside its own executable ("bundled"): a link
        // to the cached binary in this run's folder, with the host beside it.
        const cli = path.join(this.hostBin, "pulumi");
        fs.rmSync(cli, { force: true });
        try {
            fs.linkSync(path.join(opts.cliBin, "pulumi"), cli);
        } catch {
            fs.copyFileSync(path.join(opts.cliBin, "pulumi"), cli);
            fs.chmodSync(cli, 0o755);
        }
        // Beside it, the real Node.js language host, as a user's installation has it.
        const host = path.join(this.hostBin, "pulumi-language-nodejs");
        fs.rmSync(host, { force: true });
        fs.symlinkSync(opts.languageHost, host);
    }

    env(): NodeJS.ProcessEnv {
        return {
            ...process.env,
            ...this.opts.env,
            PATH: [this.hostBin, process.env.PATH ?? ""].join(":"),
            PULUMI_HOME: this.home,
            PULUMI_BACKEND_URL: `file://${this.backend}`,
            PULUMI_CONFIG_PASSPHRASE: this.opts.passphrase,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            ...(this.opts.acquirePlugins ? {} : { PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" }),
            PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            // `--event-log` (the engine's events, for the report) is a debug flag in 3.248.
            PULUMI_DEBUG_COMMANDS: "true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
            // Colour codes would end up in the report.
            NO_COLOR: "1",
        };
    }

    /** The stack file the suite keeps for a stack (outside the checkout: `--config-file`). */
    configFile(stack: string): string {
        return path.join(this.stacksDir, `Pulumi.${stack}.yaml`);
    }

    async run(args: string[], opts: { timeoutMs?: number; input?: string; log?: string } = {}): Promise<Command> {
        const started = Date.now();
        const r: RunResult = await run(path.join(this.hostBin, "pulumi"), [...args, "--non-interactive"], {
            cwd: this.opts.projectDir,
            env: this.env(),
            timeoutMs: opts.timeoutMs ?? 30 * 60_000,
            input: opts.input,
            log: opts.log,
        });
        const c: Command = {
            args,
            code: r.code,
            seconds: Math.round((Date.now() - started) / 100) / 10,
            stdout: r.stdout,
            stderr: r.stderr,
        };
        this.history.push(c);
        return c;
    }

    /** Runs a command that must exit 0; throws with its output otherwise. */
    async must(args: string[], opts: { timeoutMs?: number; log?: string } = {}): Promise<Command> {
        const c = await this.run(args, opts);
        if (c.code !== 0)
            throw new Error(
                `pulumi ${args.join(" ")} exited ${c.code}:\n${(c.stdout + c.stderr).trim().split("\n").slice(-40).join("\n")}`,
            );
        return c;
    }

    /** `pulumi plugin install resource <name> <version> --file <binary>`: no network. */
    async installPlugins(providers: Provider[]): Promise<void> {
        for (const p of providers)
            await this.must(["plugin", "install", "resource", p.name, `v${p.version}`, "--file", p.bin]);
    }

    async version(): Promise<string> {
        return (await this.must(["version"])).stdout.trim();
    }
}
