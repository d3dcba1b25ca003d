// Runs the Pulumi program offline under the SDK's own mock monitor (`pulumi.runtime.setMocks`):
// the real SDK and the real component code, with the engine's part played here. It records every
// registration with its options (parent, provider, dependencies, protect, retainOnDelete) so tests,
// the plan and the policy check see what the engine would receive.
//
// What differs from a real `pulumi up` (also in docs/plan.md): providers do not run, so a resource's
// state is its inputs plus the few outputs computed below (random values, StackReference outputs);
// charts are not rendered; nothing is checked against a cluster. URNs are built as the engine
// builds them (the mock monitor's own scheme keeps only the parent's type), so plans, reports and
// the policy pack see the URNs `pulumi preview` shows.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import bcrypt from "bcryptjs";

const SIG = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;
export const STACK_TYPE = "pulumi:pulumi:Stack";

export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    /** False for component resources (and the stack). */
    custom: boolean;
    /** Read (`.get`, StackReference) rather than created. */
    read: boolean;
    id?: string;
    parent?: string;
    /** URN of the provider resource, when one is given explicitly. */
    provider?: string;
    /** Providers by package, for component resources (a remote component such as a v4 Chart uses them). */
    providers: Record<string, string>;
    /** A component implemented by a provider (multi-language component, e.g. `helm.v4.Chart`). */
    remote: boolean;
    /** Inputs as the engine receives them; secret values wrapped (see `isSecretValue`). */
    inputs: Record<string, unknown>;
    /** State returned to the program (inputs plus computed outputs). */
    state: Record<string, unknown>;
    /** Component outputs passed to `registerOutputs`, secrets wrapped. */
    outputs?: Record<string, unknown>;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    additionalSecretOutputs: string[];
    /** Aliases the program gives (URNs, or specs the engine turns into URNs). */
    aliases: AliasSpec[];
    /** Version of the resource's package, as the SDK sends it (names the default provider). */
    version?: string;
}

/** An alias as the SDK sends it: a URN, or the parts the engine fills in from the resource. */
export interface AliasSpec {
    urn?: string;
    name?: string;
    type?: string;
    stack?: string;
    project?: string;
    parentUrn?: string;
    noParent?: boolean;
}

/**
 * The URN the engine gives a resource: `urn:pulumi:<stack>::<project>::<qualified type>::<name>`,
 * where the qualified type is the chain of parent types joined by `$`, ending with the resource's
 * own; children of the root stack carry no stack type.
 */
export function engineUrn(
    stack: string,
    project: string,
    parentUrn: string | undefined,
    type: string,
    name: string,
): string {
    let qualified = type;
    if (parentUrn) {
        const parentQualified = qualifiedTypeOf(parentUrn);
        if (parentQualified !== STACK_TYPE) qualified = `${parentQualified}$${type}`;
    }
    return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** The qualified type of a URN (the part between project and name). */
export function qualifiedTypeOf(urn: string): string {
    return urn.split("::")[2] ?? "";
}

/** The name of a URN (everything after the qualified type; names may contain `::`). */
export function urnName(urn: string): string {
    return urn.split("::").slice(3).join("::");
}

/** Outputs of other stacks, by stack name, that `pulumi.StackReference` reads in this run. */
export type StackOutputs = Record<string, Record<string, unknown>>;

export interface RunOptions {
    project: string;
    stack: string;
    /** Config as the CLI passes it: fully qualified keys, string values. */
    config: Record<string, string>;
    /** Keys of `config` that are secret, as the CLI passes them (PULUMI_CONFIG_SECRET_KEYS). */
    secretKeys?: string[];
    /** The program: what `index.ts` exports. */
    program: () => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined;
    /** `true` runs a first `pulumi preview`: what providers compute (random values) stays unknown. */
    preview?: boolean;
    stackReferences?: StackOutputs;
    /** Objects that exist in the cluster, for `.get` reads (another stack deployed them). */
    cluster?: ClusterObject[];
    /**
     * `true` runs with stack traces. Without them (the default, unless LAKEHOUSE_STACK_TRACES=1) the
     * SDK skips the one it records for every promise and resource (for leak reports and source
     * positions, which an offline run does not use): that is most of what a run costs beyond the
     * harness, four times over under ts-node's source maps. Errors keep their messages.
     */
    stackTraces?: boolean;
}

/** An object as the Kubernetes API returns it to a read: its type, id (`namespace/name`) and state. */
export interface ClusterObject {
    type: string;
    id: string;
    state: Record<string, unknown>;
}

export interface RunResult {
    /** Stack outputs with secrets wrapped (see `isSecretValue`). */
    outputs: Record<string, unknown>;
    resources: RecordedResource[];
}

/** The program failed; what it registered before failing is kept. */
export class ProgramError extends Error {
    constructor(
        public readonly cause: unknown,
        public readonly resources: RecordedResource[],
    ) {
        super(cause instanceof Error ? cause.message : String(cause));
        this.name = "ProgramError";
    }
}

export function isSecretValue(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG] === SECRET_SIG;
}

/** Replaces every secret with `mask` (or drops the wrapper with `unwrap`). */
export function mapSecrets(v: unknown, onSecret: (inner: unknown) => unknown): unknown {
    if (isSecretValue(v)) return onSecret(mapSecrets(v.value, onSecret));
    if (Array.isArray(v)) return v.map((x) => mapSecrets(x, onSecret));
    if (typeof v === "object" && v !== null) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = mapSecrets(x, onSecret);
        return out;
    }
    return v;
}

export const SECRET_MASK = "[secret]";
export const unwrapSecrets = <T>(v: T): T => mapSecrets(v, (inner) => inner) as T;
export const maskSecrets = <T>(v: T): T => mapSecrets(v, () => SECRET_MASK) as T;

/** Deterministic stand-in for a random value: same resource name, same value, every run. */
function fakeRandom(seed: string, length: number, alphabet: string): string {
    let out = "";
    let block = 0;
    while (out.length < length) {
        const digest = createHash("sha256").update(`${seed}/${block++}`).digest();
        for (const byte of digest) {
            if (out.length < length) out += alphabet[byte % alphabet.length];
        }
    }
    return out;
}

const HEX = "0123456789abcdef";
/** bcrypt's own base64 alphabet, which its salts are written in. */
const BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/**
 * The provider's `bcryptHash` of a RandomPassword: a real bcrypt hash of the result (an htpasswd
 * file built from it verifies the password), with a salt drawn from the seed so a plan is the same
 * every run. Cost 4, bcrypt's least, where the provider uses 10: twenty passwords at cost 10 would
 * add a second to every plan, and a verifier accepts any cost.
 */
function fakeBcrypt(seed: string, password: string): string {
    return bcrypt.hashSync(password, `$2a$04$${fakeRandom(`${seed}/bcrypt-salt`, 22, BCRYPT_ALPHABET)}`);
}

/**
 * A Kubernetes object as the API returns it to a read: its id (`namespace/name`) and state, with a
 * Secret's `stringData` turned into `data` by `encode`. Undefined for what is not an API object.
 */
export function clusterObject(
    type: string,
    inputs: Record<string, unknown>,
    encode: (stringData: unknown, data: unknown) => unknown,
): ClusterObject | undefined {
    if (!type.startsWith("kubernetes:") || type.startsWith("kubernetes:helm")) return undefined;
    const metadata = unwrapSecrets(inputs.metadata) as { name?: string; namespace?: string } | undefined;
    if (!metadata?.name) return undefined;
    const state: Record<string, unknown> = { ...inputs };
    if (type === "kubernetes:core/v1:Secret" && inputs.stringData !== undefined) {
        state.data = encode(inputs.stringData, inputs.data);
        delete state.stringData;
    }
    return { type, id: metadata.namespace ? `${metadata.namespace}/${metadata.name}` : metadata.name, state };
}

/** What the cluster holds after a run is deployed: every Kubernetes object it created (Secret data base64, still secret). */
export function clusterObjectsOf(resources: RecordedResource[]): ClusterObject[] {
    const encode = (stringData: unknown, data: unknown) => {
        const plain = unwrapSecrets(stringData) as Record<string, string>;
        const encoded = Object.fromEntries(
            Object.entries(plain).map(([k, v]) => [k, Buffer.from(String(v)).toString("base64")]),
        );
        return { [SIG]: SECRET_SIG, value: { ...(unwrapSecrets(data) as object), ...encoded } };
    };
    return resources.flatMap((r) => (r.custom && !r.read ? (clusterObject(r.type, r.inputs, encode) ?? []) : []));
}

/** Outputs the real providers compute and the program reads. */
/** The organization of every offline run: the file backend's (and `pulumi.getOrganization()`'s default). */
export const OFFLINE_ORGANIZATION = "organization";

function computedState(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    refs: StackOutputs,
    ownStack: string,
): Record<string, unknown> {
    const plain = unwrapSecrets(inputs);
    // The random provider replaces a resource whose keepers change: a new value, as a new seed.
    const seed =
        plain.keepers !== undefined && Object.keys(plain.keepers as object).length > 0
            ? `${name}/keepers/${JSON.stringify(plain.keepers)}`
            : name;
    switch (type) {
        case "random:index/randomPassword:RandomPassword":
        case "random:index/randomString:RandomString": {
            const length = Number(plain.length ?? 16);
            // The character classes the resource asks for (a class off is absent; overrideSpecial
            // replaces the special characters), as the provider draws from them.
            const classes = [
                plain.upper === false ? "" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                plain.lower === false ? "" : "abcdefghijklmnopqrstuvwxyz",
                plain.numeric === false ? "" : "0123456789",
                plain.special === false ? "" : typeof plain.overrideSpecial === "string" ? plain.overrideSpecial : "-_",
            ].join("");
            const result = fakeRandom(seed, length, classes);
            return type === "random:index/randomPassword:RandomPassword"
                ? { result, bcryptHash: fakeBcrypt(seed, result) }
                : { result };
        }
        case "random:index/randomId:RandomId": {
            const hex = fakeRandom(seed, 2 * Number(plain.byteLength ?? 8), HEX);
            const base64 = Buffer.from(hex, "hex").toString("base64");
            return {
                hex,
                b64Std: base64,
                b64Url: base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
                dec: BigInt(`0x${hex}`).toString(),
            };
        }
        // The provider's RandomBytes has only these two, both secret (the SDK adds them to
        // additionalSecretOutputs); RandomId's encodings are not secret, and a copy of the bytes in
        // one of them would leave a key in the plan.
        case "random:index/randomBytes:RandomBytes": {
            const hex = fakeRandom(seed, 2 * Number(plain.length ?? 8), HEX);
            return { hex, base64: Buffer.from(hex, "hex").toString("base64") };
        }
        case "pulumi:pulumi:StackReference": {
            const stackName = String(plain.name);
            let outputs = refs[stackName];
            // The run's own stack reads its last deployment; offline, none unless one is given (--ref).
            if (outputs === undefined && stackName === ownStack) outputs = {};
            if (outputs === undefined)
                throw new Error(`unknown stack "${stackName}": no outputs were given for it (offline run)`);
            return { name: stackName, outputs, secretOutputNames: [] };
        }
        default:
            return {};
    }
}

type Req = {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProvider(): string;
    getCustom?(): boolean;
    getObject?(): { toJavaScript(): Record<string, unknown> };
    getProperties?(): { toJavaScript(): Record<string, unknown> };
    getId?(): string;
    getProtect?(): boolean | undefined;
    getRetainondelete?(): boolean | undefined;
    getDependenciesList?(): string[];
    getPropertydependenciesMap?(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
    getDeletebeforereplace?(): boolean;
    getIgnorechangesList?(): string[];
    getAdditionalsecretoutputsList?(): string[];
    getProvidersMap?(): { forEach(cb: (v: string, k: string) => void): void };
    getRemote?(): boolean;
    getVersion?(): string;
    getAliasesList?(): AliasProto[];
};
type AliasProto = {
    getUrn(): string;
    getSpec():
        | {
              getName(): string;
              getType(): string;
              getStack(): string;
              getProject(): string;
              getParenturn(): string;
              getNoparent(): boolean;
          }
        | undefined;
};

function aliasSpecs(list: AliasProto[] | undefined): AliasSpec[] {
    return (list ?? []).map((a) => {
        if (a.getUrn()) return { urn: a.getUrn() };
        const s = a.getSpec();
        if (!s) return {};
        const spec: AliasSpec = {};
        if (s.getName()) spec.name = s.getName();
        if (s.getType()) spec.type = s.getType();
        if (s.getStack()) spec.stack = s.getStack();
        if (s.getProject()) spec.project = s.getProject();
        if (s.getParenturn()) spec.parentUrn = s.getParenturn();
        if (s.getNoparent()) spec.noParent = true;
        return spec;
    });
}
type Struct = { toJavaScript(): Record<string, unknown> };
type Response = {
    getUrn(): string;
    getId?(): string;
    getObject?(): Struct | undefined;
    getProperties?(): Struct | undefined;
};
type Callback = (err: unknown, response?: Response) => void;
type MonitorLike = {
    newUrn?(parent: string, type: string, name: string): string;
    registerResource(req: Req, cb: Callback): Promise<void>;
    readResource(req: Req, cb: Callback): Promise<void>;
    registerResourceOutputs(
        req: { getUrn(): string; getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined },
        cb: (err: unknown, r?: unknown) => void,
    ): void;
};

let running = false;

/**
 * Runs `program` as the language host would (inside a Stack root resource) against the mock
 * monitor, and returns the stack outputs and every registration; throws ProgramError when the
 * program fails. Runs are sequential: the SDK's runtime state is global to the process.
 */
export async function runProgram(opts: RunOptions): Promise<RunResult> {
    if (running)
        throw new Error("offline run already in progress: runs share the SDK's global state and must not overlap");
    running = true;
    const limit = Error.stackTraceLimit;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, never called here
    const format = Error.prepareStackTrace;
    if (!(opts.stackTraces ?? process.env.LAKEHOUSE_STACK_TRACES === "1")) {
        Error.stackTraceLimit = 0;
        // The SDK still takes a full trace for each resource's source position (Resource.callsites
        // lifts the limit), which the mock monitor drops; each is formatted through every frame
        // (under ts-node, through its source maps). Errors of the run say their first line only.
        Error.prepareStackTrace = (e: Error) => Error.prototype.toString.call(e);
    }
    // A program that throws leaves the same error in promises the SDK derived from it (the stack's
    // outputs) that nothing awaits: the language host reports the error once, and so does this run
    // (as ProgramError); its other copies are not new failures.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
        return await runOnce(opts);
    } catch (e) {
        const cause = e instanceof ProgramError ? e.cause : e;
        await new Promise((resolve) => setImmediate(resolve));
        const others = unhandled.filter((r) => r !== cause);
        if (others.length > 0) throw others[0] instanceof Error ? others[0] : new Error(String(others[0]));
        throw e;
    } finally {
        process.off("unhandledRejection", onUnhandled);
        Error.stackTraceLimit = limit;
        Error.prepareStackTrace = format;
        running = false;
    }
}

type Recorder = { callback: Callback; state?: Record<string, unknown>; inputs?: Record<string, unknown> };

/**
 * One run of the program under the SDK's mock monitor, recording every registration as the engine
 * would see it. The steps: the mocks (what providers answer), the monitor wrapped to record each
 * request with what the mocks returned for it, then the program.
 */
class RecordingRun {
    private readonly refs: NonNullable<RunOptions["stackReferences"]>;
    private readonly failures: Error[] = [];
    private readonly byUrn = new Map<string, RecordedResource>();
    // The engine marks `additionalSecretOutputs` secret in the state it returns; the mock API does
    // not pass them, so the registration wrapper hands them over (newResource runs synchronously
    // at the start of the monitor's registerResource).
    private secretOutputs: string[] = [];
    // The state newResource returns, handed to the recorder of the same request (newResource runs
    // synchronously at the start of the monitor's call): the same values the SDK gets back, without
    // converting the response a second time.
    private returned: { inputs: Record<string, unknown>; state: Record<string, unknown> } | undefined;

    constructor(private readonly opts: RunOptions) {
        this.refs = opts.stackReferences ?? {};
    }

    async run(): Promise<RunResult> {
        const opts = this.opts;
        await pulumi.runtime.setMocks(
            this.mocks(),
            opts.project,
            opts.stack,
            opts.preview ?? false,
            OFFLINE_ORGANIZATION,
        );
        pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
        this.wrapMonitor(pulumi.runtime.getMonitor() as unknown as MonitorLike);
        try {
            await pulumi.runtime.runInPulumiStack(async () => (await opts.program()) ?? {});
        } catch (err) {
            await waitForRpcs().catch(() => undefined);
            // A failed read fails the deployment first, whatever the program made of its empty result.
            throw new ProgramError(this.failures[0] ?? err, [...this.byUrn.values()]);
        }
        await waitForRpcs();
        if (this.failures.length > 0) throw new ProgramError(this.failures[0], [...this.byUrn.values()]);
        const resources = [...this.byUrn.values()];
        const stack = resources.find((r) => r.type === STACK_TYPE);
        return { outputs: stack?.outputs ?? {}, resources };
    }

    private mocks(): pulumi.runtime.Mocks {
        return {
            newResource: (args) => {
                const inputs = (args.inputs ?? {}) as Record<string, unknown>;
                if (args.id && args.type !== "pulumi:pulumi:StackReference") return this.read(args.type, args.id);
                const state: Record<string, unknown> = { ...inputs, ...this.computed(args.type, args.name, inputs) };
                for (const key of this.secretOutputs) {
                    if (state[key] !== undefined && !isSecretValue(state[key]))
                        state[key] = { [SIG]: SECRET_SIG, value: state[key] };
                }
                this.secretOutputs = [];
                const id = args.id || (args.custom === false ? undefined : `${args.name}-id`);
                this.returned = { inputs, state };
                return { id, state };
            },
            call: () => ({}),
        };
    }

    /** A read (`Resource.get`): the object must exist, as the provider would find it. */
    private read(type: string, id: string): { id: string; state: Record<string, unknown> } {
        const found = (this.opts.cluster ?? []).find((o) => o.type === type && o.id === id);
        if (found !== undefined) return { id, state: { ...found.state } };
        // The engine fails the deployment on a failed read; the SDK under mocks would wait forever
        // for the outputs, so the failure is kept and raised when the program ends.
        this.failures.push(new Error(`reading ${type} "${id}": it does not exist in the cluster`));
        return { id, state: {} };
    }

    /**
     * What providers compute. A first preview: nothing exists yet, so computed values (random ones)
     * are unknown; other stacks' outputs exist and are read as in an update.
     */
    private computed(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
        try {
            if (!this.opts.preview || type === "pulumi:pulumi:StackReference")
                return computedState(
                    type,
                    name,
                    inputs,
                    this.refs,
                    `${OFFLINE_ORGANIZATION}/${this.opts.project}/${this.opts.stack}`,
                );
        } catch (err) {
            this.failures.push(err instanceof Error ? err : new Error(String(err)));
        }
        return {};
    }

    private wrapMonitor(monitor: MonitorLike): void {
        const opts = this.opts;
        // URNs as the engine builds them, so dependencies, parents and reports name what `pulumi preview` names.
        monitor.newUrn = (parent, type, name) => engineUrn(opts.stack, opts.project, parent || undefined, type, name);
        const registerResource = monitor.registerResource.bind(monitor);
        const readResource = monitor.readResource.bind(monitor);
        const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
        monitor.registerResource = (req, cb) => {
            this.secretOutputs = req.getAdditionalsecretoutputsList?.() ?? [];
            return this.recorded(req, false, cb, registerResource);
        };
        monitor.readResource = (req, cb) => this.recorded(req, true, cb, readResource);
        monitor.registerResourceOutputs = (req, cb) => {
            const r = this.byUrn.get(req.getUrn());
            if (r) r.outputs = deserialize(req.getOutputs());
            registerResourceOutputs(req, cb);
        };
    }

    private recorded(
        req: Req,
        read: boolean,
        cb: Callback,
        call: (req: Req, cb: Callback) => Promise<void>,
    ): Promise<void> {
        const recorder = this.recorder(req, read, cb);
        this.returned = undefined;
        const done = call(req, recorder.callback);
        const got = this.takeReturned();
        recorder.state = got?.state;
        recorder.inputs = got?.inputs;
        return done;
    }

    private takeReturned(): typeof this.returned {
        const got = this.returned;
        this.returned = undefined;
        return got;
    }

    /** The request as the engine would record it, completed by the response. */
    private recorder(req: Req, read: boolean, cb: Callback): Recorder {
        const base = requestOf(req, read);
        const recorder: Recorder = {
            callback: (err, response) => {
                if (!err && response) {
                    const urn = response.getUrn();
                    const state =
                        recorder.state ?? deserialize(read ? response.getProperties?.() : response.getObject?.());
                    // In a preview, unknown inputs keep the SDK's sentinel only in the request itself.
                    const inputs =
                        recorder.inputs && !this.opts.preview
                            ? withoutUndefined(recorder.inputs)
                            : deserialize(read ? req.getProperties?.() : req.getObject?.());
                    this.byUrn.set(urn, {
                        urn,
                        ...base,
                        inputs,
                        id: (read ? req.getId?.() : response.getId?.()) || undefined,
                        state: withoutUndefined(state),
                    });
                }
                cb(err, response);
            },
        };
        return recorder;
    }
}

/** A registration's type, name, options and dependencies, as the request carries them. */
function requestOf(req: Req, read: boolean) {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap?.().forEach((v, k) => {
        propertyDependencies[k] = v.getUrnsList();
    });
    const providers: Record<string, string> = {};
    req.getProvidersMap?.().forEach((v, k) => {
        providers[k] = providerUrn(v) ?? v;
    });
    return {
        type: req.getType(),
        name: req.getName(),
        custom: read ? true : (req.getCustom?.() ?? false),
        read,
        parent: req.getParent() || undefined,
        provider: providerUrn(req.getProvider()),
        providers,
        remote: req.getRemote?.() ?? false,
        dependencies: req.getDependenciesList?.() ?? [],
        propertyDependencies,
        protect: req.getProtect?.() ?? false,
        retainOnDelete: req.getRetainondelete?.() ?? false,
        deleteBeforeReplace: req.getDeletebeforereplace?.() ?? false,
        ignoreChanges: req.getIgnorechangesList?.() ?? [],
        additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
        aliases: aliasSpecs(req.getAliasesList?.()),
        version: req.getVersion?.() || undefined,
    };
}

function runOnce(opts: RunOptions): Promise<RunResult> {
    return new RecordingRun(opts).run();
}

/** The state as the engine hands it back: properties whose value is undefined do not exist. */
function withoutUndefined(state: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined));
}

/** Struct → plain values, keeping secrets wrapped and unknowns as the SDK's sentinel. */
function deserialize(struct: Struct | undefined): Record<string, unknown> {
    type SdkStruct = Parameters<typeof pulumi.runtime.deserializeProperties>[0];
    return struct ? pulumi.runtime.deserializeProperties(struct as unknown as SdkStruct, true) : {};
}

/** Provider references are `<urn>::<id>`. */
function providerUrn(ref: string): string | undefined {
    if (!ref) return undefined;
    const i = ref.lastIndexOf("::");
    return i > 0 ? ref.slice(0, i) : ref;
}

async function waitForRpcs(): Promise<void> {
    const settings = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
    if (settings.waitForRPCs) await settings.waitForRPCs();
}
