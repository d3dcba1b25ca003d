// Before a real node's run, in the machine's own namespaces (where the registries are reachable):
// the tools the node needs are there, and every image the stack runs is built (or found in the
// cache) from the end-to-end suite's installs of the same software.
import { wantedOf } from "../e2e/main";
import { startInstall } from "../e2e/install";
import { clusterDomainOf } from "../e2e/dagster";
import { PlatformRun } from "../e2e/platform";
import { run } from "../e2e/procs";
import { buildImage, garageImageSpec, imageSpecsButGarage } from "../node/images";
import type { RealNodeRun } from "./real-node";

/** Each command the node runs, with the Debian package that has it. */
const NODE_TOOLS: [string, string][] = [
    ["ip", "iproute2"],
    ["nsenter", "util-linux"],
    ["unshare", "util-linux"],
    ["containerd", "containerd"],
    ["containerd-shim-runc-v2", "containerd"],
    ["runc", "runc"],
    ["iptables", "iptables"],
    ["ipset", "ipset"],
    ["mmdebstrap", "mmdebstrap"],
    ["docker-registry", "docker-registry"],
    ["gcc", "gcc"],
    ["ldd", "libc-bin"],
];

/** What is missing, in words: not root, or a command (with the package to install). */
export async function missingTools(): Promise<string[]> {
    const out: string[] = [];
    if (process.getuid?.() !== 0) out.push("root (namespaces, mounts, containerd)");
    for (const [cmd, pkg] of NODE_TOOLS) {
        const r = await run("sh", ["-c", `command -v ${cmd}`]);
        if (r.code !== 0) out.push(`${cmd} (apt-get install -y --no-install-recommends ${pkg})`);
    }
    if ((await run("sh", ["-c", "test -x /usr/lib/cni/bridge"])).code !== 0)
        out.push("the CNI plugins in /usr/lib/cni (apt-get install -y containernetworking-plugins)");
    return out;
}

/** The Debian packages of the node's missing commands (and of its CNI plugins). */
async function missingPackages(): Promise<string[]> {
    const pkgs = new Set<string>();
    for (const [cmd, pkg] of NODE_TOOLS) if ((await run("sh", ["-c", `command -v ${cmd}`])).code !== 0) pkgs.add(pkg);
    if ((await run("sh", ["-c", "test -x /usr/lib/cni/bridge"])).code !== 0) pkgs.add("containernetworking-plugins");
    return [...pkgs];
}

/**
 * As root, installs from Debian's archive what the node needs and the machine lacks (`--prepare`,
 * which .ci/warm runs: a new CI machine has none of them). A run itself never installs: it names
 * what is missing and stops (exit 2).
 */
export async function installNodePackages(say: (line: string) => void): Promise<void> {
    if (process.getuid?.() !== 0) return;
    const pkgs = await missingPackages();
    if (pkgs.length === 0) return;
    say(`installing the node's Debian packages: ${pkgs.join(", ")}`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [
        ["update", "-qq"],
        ["install", "-y", "-qq", "--no-install-recommends", ...pkgs],
    ]) {
        const r = await run("apt-get", args, { env });
        if (r.code !== 0)
            throw new Error(`apt-get ${args.join(" ")} exited ${r.code}: ${(r.stdout + r.stderr).trim().slice(-800)}`);
    }
}

/** Every image of the stack's platform but Airbyte's, built from the registries; and the stack's cluster domain. */
export async function buildNodeImages(stack: string, say: (line: string) => void): Promise<RealNodeRun> {
    const p = await PlatformRun.of(stack, {});
    const { rest, garage } = startInstall(wantedOf(p), say);
    const tc = await rest;
    const images = [];
    const started = Date.now();
    // On a new machine Garage still compiles here: every other image builds meanwhile.
    for (const spec of imageSpecsButGarage(tc)) images.push(await buildImage(spec, say));
    images.push(await buildImage(garageImageSpec(await garage), say));
    const built = images.filter((i) => i.built);
    say(
        `images: ${images.length} (${built.length ? `${built.length} built in ${Math.round((Date.now() - started) / 1000)} s: ${built.map((i) => i.spec.id).join(", ")}` : "all from the cache"})`,
    );
    return { images, clusterDomain: clusterDomainOf(p) };
}
