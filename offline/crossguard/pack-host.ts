// Starts a policy pack exactly as `pulumi preview --policy-pack <dir>` starts it, and talks to it
// over `pulumirpc.Analyzer` as the engine does (facts: the CLI's analyzer plugin host and
// @pulumi/policy's server):
// - `node <@pulumi/pulumi/cmd/run-policy-pack, resolved from the pack folder upwards> <engine
//   address> .`, in the pack folder, with the stack's config and names in the environment;
// - the pack prints its gRPC port on stdout; the engine connects, then Handshake (the Node.js SDK
//   answers UNIMPLEMENTED), ConfigureStack, GetPluginInfo, GetAnalyzerInfo, Configure, then
//   Remediate/Analyze per resource, AnalyzeStack, Cancel.
// The engine address is a real gRPC server playing the engine's `Log` service.
import * as grpc from "@grpc/grpc-js";
import { ChildProcess, spawn } from "child_process";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as path from "path";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { EngineService } from "@pulumi/pulumi/proto/engine_grpc_pb";
import type { LogRequest } from "@pulumi/pulumi/proto/engine_pb";
import type { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import { PROJECT_DIR } from "../stack-config";
import { EngineResource } from "./engine-view";
import {
    ENFORCEMENT_LEVELS,
    EnforcementLevel,
    GivenPolicyConfig,
    JsonSchema,
    PackConfig,
    PolicyInfo,
} from "./pack-config";

/** The pack folder this project ships (`pulumi preview --policy-pack policies`), from source or from `.build/`. */
export const PACK_DIR = path.join(PROJECT_DIR, "policies");

/** Raised messages of gRPC errors can be large (the SDK sends a policy's stack trace). */
const MAX_MESSAGE = 1024 * 1024 * 400;

const LEVEL_OF: Record<number, EnforcementLevel> = {
    [analyzer.EnforcementLevel.ADVISORY]: "advisory",
    [analyzer.EnforcementLevel.MANDATORY]: "mandatory",
    [analyzer.EnforcementLevel.REMEDIATE]: "remediate",
    [analyzer.EnforcementLevel.DISABLED]: "disabled",
};
const LEVEL_TO: Record<EnforcementLevel, analyzer.EnforcementLevel> = {
    advisory: analyzer.EnforcementLevel.ADVISORY,
    mandatory: analyzer.EnforcementLevel.MANDATORY,
    remediate: analyzer.EnforcementLevel.REMEDIATE,
    disabled: analyzer.EnforcementLevel.DISABLED,
};

/** The pack did not start (missing package.json, a crash while loading, no port printed). */
export class PackStartError extends Error {}

/** An RPC failed: a policy threw, which fails `pulumi preview`. */
export class PackRpcError extends Error {
    constructor(
        public readonly method: string,
        public readonly code: grpc.status | undefined,
        message: string,
    ) {
        super(`${method}: ${message}`);
        this.name = "PackRpcError";
    }
}

export interface StackIdentity {
    organization: string;
    project: string;
    stack: string;
    /** `pulumi preview` (true) or `pulumi up` (false). */
    dryRun: boolean;
    /** The stack's config as the CLI hands it to a pack (PULUMI_CONFIG): fully qualified keys, string values. */
    config: Record<string, string>;
    /** Keys of `config` that are secret. */
    secretKeys?: string[];
}

export interface AnalyzerInfo {
    name: string;
    version: string;
    supportsConfig: boolean;
    policies: PolicyInfo[];
    initialConfig: Record<string, GivenPolicyConfig>;
}

export interface RawDiagnostic {
    policyName: string;
    policyPackName: string;
    policyPackVersion: string;
    description: string;
    message: string;
    enforcementLevel: EnforcementLevel;
    urn: string;
}

export interface RawRemediation {
    policyName: string;
    description: string;
    /** The rewritten inputs, wire values (secrets wrapped); undefined when the remediation reported instead. */
    properties?: Record<string, unknown>;
    /** A remediation that could not run (in a preview, on an unknown value). */
    diagnostic: string;
}

// Converting properties to a Struct is most of what a request costs: a resource's inputs are often
// its outputs too, and a provider's inputs travel with every resource it manages, so each object is
// converted once (by identity; engine views are not mutated once built).
const structs = new WeakMap<object, Struct>();

function toStruct(value: Record<string, unknown>): Struct {
    let s = structs.get(value);
    if (!s) {
        s = Struct.fromJavaScript(value as Parameters<typeof Struct.fromJavaScript>[0]);
        structs.set(value, s);
    }
    return s;
}

function fromStruct(struct: Struct | undefined): Record<string, unknown> {
    return struct ? struct.toJavaScript() : {};
}

function resourceOptions(r: EngineResource): analyzer.AnalyzerResourceOptions {
    const o = new analyzer.AnalyzerResourceOptions();
    o.setProtect(r.options.protect);
    o.setIgnorechangesList(r.options.ignoreChanges);
    o.setDeletebeforereplace(r.options.deleteBeforeReplace ?? false);
    o.setDeletebeforereplacedefined(r.options.deleteBeforeReplace !== undefined);
    o.setAdditionalsecretoutputsList(r.options.additionalSecretOutputs);
    o.setAliasesList(r.options.aliases);
    const t = new analyzer.AnalyzerResourceOptions.CustomTimeouts();
    t.setCreate(r.options.customTimeouts?.create ?? 0);
    t.setUpdate(r.options.customTimeouts?.update ?? 0);
    t.setDelete(r.options.customTimeouts?.delete ?? 0);
    o.setCustomtimeouts(t);
    if (r.parent) o.setParent(r.parent);
    return o;
}

function providerOf(
    r: EngineResource,
    byUrn: ReadonlyMap<string, EngineResource>,
): analyzer.AnalyzerProviderResource | undefined {
    const p = r.provider ? byUrn.get(r.provider) : undefined;
    if (!p) return undefined;
    const out = new analyzer.AnalyzerProviderResource();
    out.setUrn(p.urn);
    out.setType(p.type);
    out.setName(p.name);
    out.setProperties(toStruct(p.inputs));
    return out;
}

/** The request Analyze and Remediate take: one resource's inputs. */
export function analyzeRequest(
    r: EngineResource,
    inputs: Record<string, unknown>,
    byUrn: ReadonlyMap<string, EngineResource>,
): analyzer.AnalyzeRequest {
    const req = new analyzer.AnalyzeRequest();
    req.setUrn(r.urn);
    req.setType(r.type);
    req.setName(r.name);
    req.setProperties(toStruct(inputs));
    req.setOptions(resourceOptions(r));
    const provider = providerOf(r, byUrn);
    if (provider) req.setProvider(provider);
    return req;
}

/** One resource of AnalyzeStack: its outputs, parent and dependencies. */
export function stackResource(
    r: EngineResource,
    outputs: Record<string, unknown>,
    byUrn: ReadonlyMap<string, EngineResource>,
): analyzer.AnalyzerResource {
    const out = new analyzer.AnalyzerResource();
    out.setUrn(r.urn);
    out.setType(r.type);
    out.setName(r.name);
    out.setProperties(toStruct(outputs));
    out.setOptions(resourceOptions(r));
    const provider = providerOf(r, byUrn);
    if (provider) out.setProvider(provider);
    if (r.parent) out.setParent(r.parent);
    out.setDependenciesList(r.dependencies);
    const deps = out.getPropertydependenciesMap();
    for (const [k, urns] of Object.entries(r.propertyDependencies)) {
        if (urns.length === 0) continue;
        const d = new analyzer.AnalyzerPropertyDependencies();
        d.setUrnsList(urns);
        deps.set(k, d);
    }
    return out;
}

function diagnosticsOf(resp: analyzer.AnalyzeResponse): RawDiagnostic[] {
    return resp.getDiagnosticsList().map((d) => ({
        policyName: d.getPolicyname(),
        policyPackName: d.getPolicypackname(),
        policyPackVersion: d.getPolicypackversion(),
        description: d.getDescription(),
        message: d.getMessage(),
        enforcementLevel: LEVEL_OF[d.getEnforcementlevel()] ?? "advisory",
        urn: d.getUrn(),
    }));
}

function policyInfoOf(p: analyzer.PolicyInfo, supportsConfig: boolean): PolicyInfo {
    const schema = p.getConfigschema();
    return {
        name: p.getName(),
        description: p.getDescription(),
        enforcementLevel: LEVEL_OF[p.getEnforcementlevel()] ?? "advisory",
        kind: p.getPolicyType() === analyzer.PolicyType.POLICY_TYPE_STACK ? "stack" : "resource",
        ...(supportsConfig && schema
            ? {
                  configSchema: {
                      properties: fromStruct(schema.getProperties()) as Record<string, JsonSchema>,
                      required: schema.getRequiredList(),
                  },
              }
            : {}),
    };
}

/** The engine's side the pack calls back (Log), on a port of its own, as the CLI serves it. */
async function startEngine(logs: string[]): Promise<{ engine: grpc.Server; enginePort: number }> {
    const engine = new grpc.Server();
    engine.addService(EngineService, {
        log: (call: grpc.ServerUnaryCall<LogRequest, Empty>, cb: grpc.sendUnaryData<Empty>) => {
            logs.push(call.request.getMessage());
            cb(null, new Empty());
        },
    });
    const enginePort = await new Promise<number>((resolve, reject) =>
        engine.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
            e ? reject(e) : resolve(p),
        ),
    );
    return { engine, enginePort };
}

/**
 * The pack's environment as the CLI sets it: the stack's identity. Not its config
 * (PULUMI_CONFIG): one pack process here serves every stack of a run, so the stack's settings
 * reach it as a config layer instead (offline/run-stack.ts `stackPolicyDoc`), which a unit test
 * holds equal to what the pack reads from PULUMI_CONFIG under the CLI (tests/policies/stacks.test.ts).
 */
function packEnv(identity: StackIdentity): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    const set = (k: string, v: string) => {
        if (v !== "") {
            env[k] = v;
            // The Node.js SDK reads the PULUMI_NODEJS_ variants; the CLI sets both.
            if (["ORGANIZATION", "PROJECT", "STACK", "DRY_RUN"].some((s) => k === `PULUMI_${s}`))
                env[`PULUMI_NODEJS_${k.slice(7)}`] = v;
        }
    };
    delete env.PULUMI_CONFIG;
    set("PULUMI_ORGANIZATION", identity.organization);
    set("PULUMI_PROJECT", identity.project);
    set("PULUMI_STACK", identity.stack);
    set("PULUMI_DRY_RUN", String(identity.dryRun));
    return env;
}

/** The port the pack prints on stdout, as the CLI reads it; its stderr goes to `logs`. */
function portOf(child: ChildProcess, logs: string[]): Promise<number> {
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        logs.push(d);
    });
    return new Promise<number>((resolve, reject) => {
        let out = "";
        const timer = setTimeout(
            () =>
                reject(
                    new PackStartError(`the policy pack printed no port within 60 s${stderr ? `:\n${stderr}` : ""}`),
                ),
            60_000,
        );
        child.stdout?.setEncoding("utf8").on("data", (d: string) => {
            out += d;
            const line = /^(\d+)\s*$/m.exec(out);
            if (line) {
                clearTimeout(timer);
                resolve(Number(line[1]));
            }
        });
        child.once("exit", (code, signal) => {
            clearTimeout(timer);
            reject(
                new PackStartError(
                    `the policy pack exited (${signal ?? `code ${code}`}) before it served${stderr ? `:\n${stderr.trim()}` : ""}`,
                ),
            );
        });
        child.once("error", (e) => {
            clearTimeout(timer);
            reject(new PackStartError(`the policy pack could not be started: ${e.message}`));
        });
    });
}

/** A running pack and the gRPC client the engine holds. */
export class PackHost {
    /** Everything the pack logged through the engine's Log service, and printed on stderr. */
    readonly logs: string[] = [];
    private closed = false;

    private constructor(
        private readonly child: ChildProcess,
        private readonly client: AnalyzerClient,
        private readonly engine: grpc.Server,
        /** Milliseconds from spawn to the port on stdout. */
        readonly startMs: number,
    ) {}

    /** Spawns the pack in `packDir` as the CLI does and connects to it. */
    static async start(identity: StackIdentity, packDir = PACK_DIR): Promise<PackHost> {
        const logs: string[] = [];
        const { engine, enginePort } = await startEngine(logs);
        let runner: string;
        try {
            runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] });
        } catch {
            engine.forceShutdown();
            throw new PackStartError(
                `the policy pack's dependencies are not installed: @pulumi/pulumi is not found from ${packDir} (run npm ci)`,
            );
        }
        const started = process.hrtime.bigint();
        const child = spawn(process.execPath, [runner, `127.0.0.1:${enginePort}`, "."], {
            cwd: packDir,
            env: packEnv(identity),
            stdio: ["ignore", "pipe", "pipe"],
        });
        const port = await portOf(child, logs).catch((e: unknown) => {
            child.kill("SIGKILL");
            engine.forceShutdown();
            throw e;
        });
        const startMs = Number(process.hrtime.bigint() - started) / 1e6;
        // Later output of the pack is kept (the CLI shows it), not parsed.
        child.stdout?.removeAllListeners("data").on("data", (d: string) => logs.push(d));
        child.unref();
        (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
        (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();

        const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
            "grpc.max_receive_message_length": MAX_MESSAGE,
            "grpc.max_send_message_length": MAX_MESSAGE,
        });
        const host = new PackHost(child, client, engine, startMs);
        host.logs.push(...logs);
        await host.handshake(packDir, enginePort);
        await host.configureStack(identity);
        return host;
    }

    private call<Resp>(
        method: string,
        invoke: (callback: (err: grpc.ServiceError | null, resp: Resp) => void) => unknown,
    ): Promise<Resp> {
        return new Promise((resolve, reject) => {
            invoke((err, resp) => {
                if (err) reject(new PackRpcError(method, err.code, err.details || err.message));
                else resolve(resp);
            });
        });
    }

    private async handshake(packDir: string, enginePort: number): Promise<void> {
        const req = new analyzer.AnalyzerHandshakeRequest();
        req.setEngineAddress(`127.0.0.1:${enginePort}`);
        req.setRootDirectory(packDir);
        req.setProgramDirectory(packDir);
        try {
            await this.call<analyzer.AnalyzerHandshakeResponse>("Handshake", (cb) => this.client.handshake(req, cb));
        } catch (e) {
            // The Node.js policy SDK does not implement Handshake; the engine carries on.
            if (!(e instanceof PackRpcError && e.code === grpc.status.UNIMPLEMENTED)) throw e;
        }
    }

    /** ConfigureStack: the stack's names and config (a pack may serve several stacks in tests). */
    async configureStack(identity: StackIdentity): Promise<void> {
        const req = new analyzer.AnalyzerStackConfigureRequest();
        req.setStack(identity.stack);
        req.setProject(identity.project);
        req.setOrganization(identity.organization);
        req.setDryRun(identity.dryRun);
        const map = req.getConfigMap();
        for (const [k, v] of Object.entries(identity.config)) map.set(k, v);
        req.setConfigSecretKeysList(identity.secretKeys ?? []);
        try {
            await this.call<analyzer.AnalyzerStackConfigureResponse>("ConfigureStack", (cb) =>
                this.client.configureStack(req, cb),
            );
        } catch (e) {
            if (!(e instanceof PackRpcError && e.code === grpc.status.UNIMPLEMENTED)) throw e;
        }
    }

    async pluginVersion(): Promise<string> {
        return (
            await this.call<PluginInfo>("GetPluginInfo", (cb) => this.client.getPluginInfo(new Empty(), cb))
        ).getVersion();
    }

    async analyzerInfo(): Promise<AnalyzerInfo> {
        const info = await this.call<analyzer.AnalyzerInfo>("GetAnalyzerInfo", (cb) =>
            this.client.getAnalyzerInfo(new Empty(), cb),
        );
        const supportsConfig = info.getSupportsconfig();
        const initialConfig: Record<string, GivenPolicyConfig> = {};
        info.getInitialconfigMap().forEach((v, k) => {
            initialConfig[k] = {
                enforcementLevel: LEVEL_OF[v.getEnforcementlevel()],
                properties: fromStruct(v.getProperties()),
            };
        });
        return {
            name: info.getName(),
            version: info.getVersion(),
            supportsConfig,
            policies: info.getPoliciesList().map((p) => policyInfoOf(p, supportsConfig)),
            initialConfig,
        };
    }

    async configure(config: PackConfig): Promise<void> {
        const req = new analyzer.ConfigureAnalyzerRequest();
        const map = req.getPolicyconfigMap();
        for (const [name, c] of Object.entries(config)) {
            if (!(ENFORCEMENT_LEVELS as readonly string[]).includes(c.enforcementLevel))
                throw new Error(`invalid enforcement level ${JSON.stringify(c.enforcementLevel)}`);
            const pc = new analyzer.PolicyConfig();
            pc.setEnforcementlevel(LEVEL_TO[c.enforcementLevel]);
            pc.setProperties(toStruct(c.properties));
            map.set(name, pc);
        }
        await this.call<Empty>("Configure", (cb) => this.client.configure(req, cb));
    }

    async analyze(req: analyzer.AnalyzeRequest): Promise<RawDiagnostic[]> {
        return diagnosticsOf(
            await this.call<analyzer.AnalyzeResponse>("Analyze", (cb) => this.client.analyze(req, cb)),
        );
    }

    async remediate(req: analyzer.AnalyzeRequest): Promise<RawRemediation[]> {
        const resp = await this.call<analyzer.RemediateResponse>("Remediate", (cb) => this.client.remediate(req, cb));
        return resp.getRemediationsList().map((r) => ({
            policyName: r.getPolicyname(),
            description: r.getDescription(),
            properties: r.getProperties() ? fromStruct(r.getProperties()) : undefined,
            diagnostic: r.getDiagnostic(),
        }));
    }

    async analyzeStack(resources: analyzer.AnalyzerResource[]): Promise<RawDiagnostic[]> {
        const req = new analyzer.AnalyzeStackRequest();
        req.setResourcesList(resources);
        return diagnosticsOf(
            await this.call<analyzer.AnalyzeResponse>("AnalyzeStack", (cb) => this.client.analyzeStack(req, cb)),
        );
    }

    /** Cancel (the SDK may not implement it), then stop the pack and the engine's server. */
    async close(): Promise<void> {
        if (this.closed) return;
        this.closed = true;
        try {
            await this.call<Empty>("Cancel", (cb) => this.client.cancel(new Empty(), cb));
        } catch {
            // UNIMPLEMENTED in the Node.js policy SDK, or the pack is gone: the CLI stops it either way.
        }
        this.client.close();
        this.child.kill("SIGTERM");
        this.engine.forceShutdown();
    }

    /** Stops the pack now (process exit). */
    kill(): void {
        this.closed = true;
        this.child.kill("SIGKILL");
    }
}
