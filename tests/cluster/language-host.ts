// pulumi-language-nodejs, as the real-engine suite runs it. The Pulumi CLI starts a language host
// for the program's runtime and asks it, over pulumirpc.LanguageRuntime, which plugins the program
// needs, to run the program against the engine's resource monitor, and to start policy packs. The
// real host is a Go module of its own (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
// that the Go module proxy here does not serve at any version, so the suite runs this one: the same
// service, starting the same entry points of the program's own @pulumi/pulumi (`cmd/run` for the
// program, `cmd/run-policy-pack` for a pack) with the arguments and environment those entry points
// read. Everything the program and the pack do from there on is the SDK's and the engine's. The
// suite's report lists it as a substitution.
//
// Started by the CLI as `pulumi-language-nodejs <engine address>`; prints its port on stdout.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";

/* eslint-disable @typescript-eslint/no-require-imports */
// The generated protocol modules of the SDK (plain JavaScript, no types).
const langService: any = require("@pulumi/pulumi/proto/language_grpc_pb.js");
const langProto: any = require("@pulumi/pulumi/proto/language_pb.js");
const pluginProto: any = require("@pulumi/pulumi/proto/plugin_pb.js");
const emptyProto: any = require("google-protobuf/google/protobuf/empty_pb.js");

/** What the SDK's `cmd/run` returns when the program failed and already said why. */
const BAIL_EXIT = 32;

let engineAddress = process.argv[process.argv.length - 1];

interface ProgramInfo {
    root: string;
    dir: string;
    entry: string;
    options: Record<string, unknown>;
}

function programInfo(info: any, fallbackDir: string): ProgramInfo {
    if (!info) return { root: fallbackDir, dir: fallbackDir, entry: ".", options: {} };
    const options = info.getOptions() ? (info.getOptions().toJavaScript() as Record<string, unknown>) : {};
    return {
        root: info.getRootDirectory() || fallbackDir,
        dir: info.getProgramDirectory() || fallbackDir,
        entry: info.getEntryPoint() || ".",
        options,
    };
}

/** An entry point of the program's own @pulumi/pulumi, resolved from its folder upwards (as node would). */
function sdkEntry(dir: string, entry: string): string {
    return require.resolve(`@pulumi/pulumi/${entry}`, { paths: [dir] });
}

/** Every package under node_modules that says it is a resource plugin (`"pulumi": {"resource": true}`). */
function resourcePackages(dir: string): { name: string; version: string; server?: string }[] {
    const found = new Map<string, { name: string; version: string; server?: string }>();
    const visit = (modules: string, depth: number) => {
        if (depth > 4 || !fs.existsSync(modules)) return;
        for (const entry of fs.readdirSync(modules)) {
            if (entry.startsWith(".")) continue;
            const pkgs = entry.startsWith("@")
                ? fs.readdirSync(path.join(modules, entry)).map((e) => path.join(modules, entry, e))
                : [path.join(modules, entry)];
            for (const pkg of pkgs) {
                const file = path.join(pkg, "package.json");
                if (!fs.existsSync(file)) continue;
                try {
                    const json = JSON.parse(fs.readFileSync(file, "utf8")) as {
                        version?: string;
                        pulumi?: { resource?: boolean; name?: string; version?: string; server?: string };
                    };
                    const p = json.pulumi;
                    if (p?.resource && p.name) {
                        const version = p.version ?? json.version ?? "";
                        found.set(`${p.name}@${version}`, { name: p.name, version, server: p.server });
                    }
                } catch {
                    // not a package we can read: not a plugin either
                }
                visit(path.join(pkg, "node_modules"), depth + 1);
            }
        }
    };
    for (let d = dir; ; d = path.dirname(d)) {
        visit(path.join(d, "node_modules"), 0);
        if (path.dirname(d) === d) break;
    }
    return [...found.values()];
}

type Callback = (err: grpc.ServiceError | null, value?: unknown) => void;

function unimplemented(cb: Callback): void {
    cb({
        code: grpc.status.UNIMPLEMENTED,
        details: "not implemented by this host",
        name: "",
        message: "",
    } as grpc.ServiceError);
}

const service = {
    handshake(call: { request: any }, cb: Callback) {
        engineAddress = call.request.getEngineAddress() || engineAddress;
        cb(null, new langProto.LanguageHandshakeResponse());
    },

    getPluginInfo(_call: unknown, cb: Callback) {
        const info = new pluginProto.PluginInfo();
        const pkg = JSON.parse(fs.readFileSync(require.resolve("@pulumi/pulumi/package.json"), "utf8")) as {
            version: string;
        };
        info.setVersion(pkg.version);
        cb(null, info);
    },

    getRequiredPlugins(call: { request: any }, cb: Callback) {
        const info = programInfo(call.request.getInfo(), call.request.getPwd?.() ?? process.cwd());
        const res = new langProto.GetRequiredPluginsResponse();
        for (const p of resourcePackages(info.dir)) {
            const dep = new pluginProto.PluginDependency();
            dep.setName(p.name);
            dep.setKind("resource");
            dep.setVersion(p.version.startsWith("v") ? p.version : `v${p.version}`);
            if (p.server) dep.setServer(p.server);
            res.addPlugins(dep);
        }
        cb(null, res);
    },

    getRequiredPackages(call: { request: any }, cb: Callback) {
        const info = programInfo(call.request.getInfo(), process.cwd());
        const res = new langProto.GetRequiredPackagesResponse();
        for (const p of resourcePackages(info.dir)) {
            const dep = new pluginProto.PackageDependency();
            dep.setName(p.name);
            dep.setKind("resource");
            dep.setVersion(p.version.startsWith("v") ? p.version : `v${p.version}`);
            if (p.server) dep.setServer(p.server);
            res.addPackages(dep);
        }
        cb(null, res);
    },

    /** `node <sdk>/cmd/run --monitor ... <entry point>`, with the config in the environment, as the SDK reads it. */
    run(call: { request: any }, cb: Callback) {
        const req = call.request;
        const info = programInfo(req.getInfo(), req.getPwd());
        const args = [
            sdkEntry(info.dir, "cmd/run"),
            `--monitor=${req.getMonitorAddress()}`,
            `--engine=${engineAddress}`,
            `--organization=${req.getOrganization()}`,
            `--project=${req.getProject()}`,
            `--stack=${req.getStack()}`,
            `--pwd=${req.getPwd() || info.dir}`,
            `--root-directory=${info.root}`,
            ...(req.getDryrun() ? ["--dry-run"] : []),
            ...(req.getParallel() > 0 ? [`--parallel=${req.getParallel()}`] : []),
            info.entry,
            ...req.getArgsList(),
        ];
        const config: Record<string, string> = {};
        req.getConfigMap().forEach((v: string, k: string) => (config[k] = v));
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            PULUMI_CONFIG: JSON.stringify(config),
            PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
        };
        if (info.options.typescript === true || info.options.typescript === "true")
            env.PULUMI_NODEJS_TYPESCRIPT = "true";
        if (typeof info.options.tsconfig === "string") env.PULUMI_NODEJS_TSCONFIG_PATH = info.options.tsconfig;
        const nodeargs =
            typeof info.options.nodeargs === "string" ? info.options.nodeargs.split(/\s+/).filter(Boolean) : [];
        const child = spawn(process.execPath, [...nodeargs, ...args], {
            cwd: req.getPwd() || info.dir,
            env,
            stdio: ["ignore", "inherit", "inherit"],
        });
        child.on("error", (e) => {
            const res = new langProto.RunResponse();
            res.setError(`could not start node: ${e.message}`);
            cb(null, res);
        });
        child.on("close", (code, signal) => {
            const res = new langProto.RunResponse();
            if (code === BAIL_EXIT) res.setBail(true);
            else if (code !== 0) res.setError(`Program exited with non-zero exit code: ${code ?? signal}`);
            cb(null, res);
        });
    },

    /** A policy pack: `node <sdk>/cmd/run-policy-pack <engine> <pack folder>` in the pack folder, its output streamed. */
    runPlugin(call: grpc.ServerWritableStream<any, any>) {
        const req = call.request;
        const info = programInfo(req.getInfo(), req.getPwd());
        const entry = req.getKind() === "analyzer" || req.getKind() === "" ? "cmd/run-policy-pack" : "cmd/run-plugin";
        const env: NodeJS.ProcessEnv = { ...process.env };
        for (const kv of req.getEnvList() as string[]) {
            const at = kv.indexOf("=");
            if (at > 0) env[kv.slice(0, at)] = kv.slice(at + 1);
        }
        const child = spawn(process.execPath, [sdkEntry(info.dir, entry), ...req.getArgsList(), info.dir], {
            cwd: info.dir,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        const send = (set: "setStdout" | "setStderr", chunk: Buffer) => {
            const msg = new langProto.RunPluginResponse();
            msg[set](new Uint8Array(chunk));
            call.write(msg);
        };
        child.stdout.on("data", (c: Buffer) => send("setStdout", c));
        child.stderr.on("data", (c: Buffer) => send("setStderr", c));
        child.on("close", (code) => {
            const msg = new langProto.RunPluginResponse();
            msg.setExitcode(code ?? 1);
            call.write(msg);
            call.end();
        });
        call.on("cancelled", () => child.kill("SIGTERM"));
    },

    about(_call: unknown, cb: Callback) {
        const res = new langProto.AboutResponse();
        res.setExecutable(process.execPath);
        res.setVersion(process.version);
        cb(null, res);
    },

    getProgramDependencies(_call: unknown, cb: Callback) {
        cb(null, new langProto.GetProgramDependenciesResponse());
    },

    installDependencies(call: grpc.ServerWritableStream<any, any>) {
        // The suite installs with `npm ci` before it runs the CLI; nothing to do here.
        call.end();
    },

    cancel(_call: unknown, cb: Callback) {
        cb(null, new emptyProto.Empty());
    },

    runtimeOptionsPrompts: (_c: unknown, cb: Callback) => unimplemented(cb),
    template: (_c: unknown, cb: Callback) => unimplemented(cb),
    generateProgram: (_c: unknown, cb: Callback) => unimplemented(cb),
    generateProject: (_c: unknown, cb: Callback) => unimplemented(cb),
    generatePackage: (_c: unknown, cb: Callback) => unimplemented(cb),
    pack: (_c: unknown, cb: Callback) => unimplemented(cb),
    link: (_c: unknown, cb: Callback) => unimplemented(cb),
};

const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
server.addService(langService.LanguageRuntimeService, service);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
        process.stderr.write(`language host: ${err.message}\n`);
        process.exit(1);
    }
    process.stdout.write(`${port}\n`);
});
