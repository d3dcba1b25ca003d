// The real engine's parts, in a cache of the suite's own (LAKEHOUSE_CLUSTER_CACHE, default
// ~/.cache/lakehouse-platform-cluster) that fresh clones and CI reuse: the Pulumi CLI, etcd, the
// Kubernetes binaries, kwok, CoreDNS and kube-router built from the Go module proxy
// (tests/cluster/build-tools.sh), and the Node.js language host and the Kubernetes and Random
// providers, which no registry serves, unpacked from the machine's shared folder after their
// checksums are verified.
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "../../offline/stack-config";
import { must, run } from "../e2e/procs";
import VERSIONS from "./versions.json";

export { VERSIONS };

export function cacheDir(): string {
    return (
        process.env.LAKEHOUSE_CLUSTER_CACHE ??
        path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "lakehouse-platform-cluster")
    );
}

/** Where the provider binaries come from (the machine's shared folder: no registry serves them). */
export function providerSource(): string {
    return process.env.LAKEHOUSE_PROVIDERS_DIR ?? path.resolve(PROJECT_DIR, "..", "shared", "real-pulumi", "providers");
}

/** Where the real Node.js language host comes from (the machine's shared folder: no module serves it). */
export function languageHostSource(): string {
    return (
        process.env.LAKEHOUSE_LANGUAGE_HOST_DIR ??
        path.resolve(PROJECT_DIR, "..", "shared", "real-pulumi", "language-host")
    );
}

/** Where the chart archives come from, for the suite's own chart repository. */
export function chartSource(): string {
    return process.env.LAKEHOUSE_CHARTS_DIR ?? path.resolve(PROJECT_DIR, "..", "shared", "real-pulumi", "charts");
}

export interface Provider {
    name: "kubernetes" | "random";
    version: string;
    bin: string;
}

export interface Tools {
    cache: string;
    bin: string;
    /** The real `pulumi-language-nodejs` at the CLI's version, unpacked and checked. */
    languageHost: string;
    stages: string;
    providers: Provider[];
}

/** The provider versions: the SDK packages the program depends on (pinned to the binaries that exist). */
export function providerVersions(): Record<Provider["name"], string> {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
    };
    return { kubernetes: pkg.dependencies["@pulumi/kubernetes"], random: pkg.dependencies["@pulumi/random"] };
}

function sha256(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** `<archive>` (xz) unpacked to `bin`, checked against the checksum SHA256SUMS gives `name`; reused when it already matches. */
async function unpackChecked(source: string, name: string, archive: string, bin: string, where: string): Promise<void> {
    const sumsFile = path.join(source, "SHA256SUMS");
    // The parts no registry serves: say where they were looked for and how to point elsewhere.
    if (!fs.existsSync(sumsFile))
        throw new Error(
            `no ${name} at ${source} (no SHA256SUMS): it comes from the machine's shared folder beside the checkout; ${where}`,
        );
    const sums = fs.readFileSync(sumsFile, "utf8");
    const want = new RegExp(`^([0-9a-f]{64})\\s+\\*?${name.replace(/[.]/g, "\\.")}$`, "m").exec(sums)?.[1];
    if (!want) throw new Error(`${sumsFile} has no checksum for ${name}`);
    if (fs.existsSync(bin) && sha256(bin) === want) return;
    if (!fs.existsSync(archive)) throw new Error(`no ${archive}; ${where}`);
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    // xz writes the binary to stdout: straight into the file, not through a string.
    await must("sh", ["-c", `xz -dc "$1" > "$2"`, "sh", archive, bin]);
    fs.chmodSync(bin, 0o755);
    const got = sha256(bin);
    if (got !== want) {
        fs.rmSync(bin);
        throw new Error(`${name}: sha256 ${got}, SHA256SUMS says ${want}; not used`);
    }
}

/** The real Node.js language host of the CLI's version, unpacked from the shared folder and checked. */
async function unpackLanguageHost(cache: string): Promise<string> {
    const v = VERSIONS.pulumi;
    const name = `pulumi-language-nodejs-${v}-linux-amd64`;
    const bin = path.join(cache, "language-host", v, "pulumi-language-nodejs");
    const source = languageHostSource();
    await unpackChecked(
        source,
        name,
        path.join(source, `${name}.xz`),
        bin,
        "set LAKEHOUSE_LANGUAGE_HOST_DIR to where it is",
    );
    return bin;
}

/** Unpacks `pulumi-resource-<name>-v<version>-linux-amd64.xz` and checks it against SHA256SUMS. */
async function unpackProvider(cache: string, name: Provider["name"], version: string): Promise<Provider> {
    const bin = path.join(cache, "providers", `${name}-v${version}`, `pulumi-resource-${name}`);
    const source = providerSource();
    await unpackChecked(
        source,
        `pulumi-resource-${name}`,
        path.join(source, `pulumi-resource-${name}-v${version}-linux-amd64.xz`),
        bin,
        `the program's @pulumi/${name} must be a version whose provider binary is there (../shared/real-pulumi/providers); set LAKEHOUSE_PROVIDERS_DIR to where they are`,
    );
    return { name, version, bin };
}

/**
 * One tool the end-to-end suite runs outside the cluster (Helm renders Dagster's chart,
 * oauth2-proxy is Dagster's login): built into the same cache the first time, found there afterwards.
 */
export async function ensureTool(tool: "helm" | "oauth2-proxy", say: (line: string) => void): Promise<string> {
    const cache = cacheDir();
    const bin = path.join(cache, "bin", tool);
    const log = path.join(cache, "logs", `build-${tool}.log`);
    fs.mkdirSync(path.dirname(log), { recursive: true });
    if (!fs.existsSync(bin)) say(`building ${tool} from the Go module proxy (first run; log ${log})`);
    const r = await run("bash", [path.join(PROJECT_DIR, "tests", "cluster", "build-tools.sh"), cache, tool], {
        log,
        timeoutMs: 60 * 60_000,
    });
    if (r.code !== 0) throw new Error(`building ${tool} failed (log ${log}):\n${r.output.slice(-3000)}`);
    return bin;
}

/** Helm, for the end-to-end suite (ensureTool). */
export function ensureHelm(say: (line: string) => void): Promise<string> {
    return ensureTool("helm", say);
}

/**
 * Builds what is missing (the first time: tens of minutes on two cores; afterwards nothing) and
 * unpacks the providers. `say` gets progress while a build runs.
 */
export async function ensureTools(say: (line: string) => void): Promise<Tools> {
    const { cache, bin } = await buildParts(say);
    const providers = await unpackProviders(cache);
    return {
        cache,
        bin,
        languageHost: await unpackLanguageHost(cache),
        stages: path.join(cache, "src", "kwok-stage"),
        providers,
    };
}

/** The program's providers (its @pulumi/kubernetes and @pulumi/random versions), unpacked and checked. */
async function unpackProviders(cache: string): Promise<Provider[]> {
    const versions = providerVersions();
    return [
        await unpackProvider(cache, "kubernetes", versions.kubernetes),
        await unpackProvider(cache, "random", versions.random),
    ];
}

/** Whether the provider binaries are at hand (this machine's shared folder), so no download is needed. */
export function providerFilesAtHand(): boolean {
    return fs.existsSync(path.join(providerSource(), "SHA256SUMS"));
}

/** The providers from their files, when they are at hand; none otherwise (the CLI then downloads them). */
export async function providersAtHand(): Promise<Provider[]> {
    return providerFilesAtHand() ? unpackProviders(cacheDir()) : [];
}

/** Whether the real language host is at hand (this machine's shared folder). */
export function languageHostAtHand(): boolean {
    return fs.existsSync(path.join(languageHostSource(), "SHA256SUMS"));
}

/**
 * A control plane's parts alone (etcd, the Kubernetes binaries, kwok), built from the Go module
 * proxy the first time: what `npm run up:local` needs beside a user's own Pulumi CLI.
 */
export async function ensureControlPlaneParts(say: (line: string) => void): Promise<{ bin: string; stages: string }> {
    const { cache, bin } = await buildParts(say, ["etcd", "kube", "kwok"]);
    return { bin, stages: path.join(cache, "src", "kwok-stage") };
}

async function buildParts(say: (line: string) => void, parts: string[] = []): Promise<{ cache: string; bin: string }> {
    const cache = cacheDir();
    const bin = path.join(cache, "bin");
    const src = path.join(PROJECT_DIR, "tests", "cluster", "build-tools.sh");
    const started = Date.now();
    const log = path.join(cache, "logs", "build-tools.log");
    fs.mkdirSync(path.dirname(log), { recursive: true });
    let done = false;
    const ticker = (async () => {
        while (!done) {
            await new Promise((r) => setTimeout(r, 60_000));
            if (!done)
                say(
                    `  ... still building the real engine's parts (${Math.round((Date.now() - started) / 60_000)} min; log ${log})`,
                );
        }
    })();
    try {
        const r = await run("bash", [src, cache, ...parts], { log, timeoutMs: 120 * 60_000 });
        if (r.code !== 0)
            throw new Error(`building the real engine's parts failed (log ${log}):\n${r.output.slice(-3000)}`);
        const steps = r.stderr.split("\n").filter((l) => l.startsWith("[build-tools]"));
        for (const s of steps) if (!/ready \(0 s\)$/.test(s)) say(`  ${s}`);
    } finally {
        done = true;
        void ticker;
    }
    return { cache, bin };
}
