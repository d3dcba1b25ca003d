// The real node's place: a network namespace of the run's own (every pod, bridge and node address
// lives there; nothing listens on or is sent to a private-range address in the machine's own
// namespace), entered together with a new mount namespace (the kubelet's and containerd's mounts
// stay in it) and a new PID namespace (when the suite's process ends, the kernel ends every process
// it started, containers' included). The suite's process re-runs itself in there; the outer process
// waits, then removes the network namespace and the cgroups the node made, and checks that nothing
// of the run is left.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { must, run } from "../e2e/procs";

/** Addresses inside the namespace: the node's own, the pods' range, the Services' range. */
export const NETWORK = {
    nodeIp: "10.77.0.1",
    peerIp: "10.77.0.2",
    nodeLink: "lh-node",
    peerLink: "lh-peer",
    podCidr: "10.88.0.0/16",
    bridge: "cni0",
    serviceCidr: "10.96.0.0/16",
    /** The cluster DNS's Service address (kube-dns), routed by kube-proxy to CoreDNS on the node. */
    dnsServiceIp: "10.96.0.10",
} as const;

/** Set in the process that runs inside: the namespace's name. */
export const INSIDE_ENV = "LAKEHOUSE_NODE_NETNS";

/** The network namespace this process runs in (the suite's), or undefined outside. */
export function insideNamespace(): string | undefined {
    return process.env[INSIDE_ENV];
}

/** The cgroups the kubelet and containerd make (cgroup v1, cgroupfs driver), in every hierarchy. */
const CGROUP_ROOT = "/sys/fs/cgroup";
const NODE_CGROUPS = ["kubepods", "lakehouse-node"];

/** Removes the node's cgroups, deepest first (a cgroup with processes cannot go: those are reported). */
export function removeCgroups(): string[] {
    const left: string[] = [];
    if (!fs.existsSync(CGROUP_ROOT)) return left;
    for (const hierarchy of fs.readdirSync(CGROUP_ROOT)) {
        for (const top of NODE_CGROUPS) {
            const dir = path.join(CGROUP_ROOT, hierarchy, top);
            if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) continue;
            const dirs: string[] = [];
            const walk = (d: string) => {
                for (const e of fs.readdirSync(d, { withFileTypes: true }))
                    if (e.isDirectory()) walk(path.join(d, e.name));
                dirs.push(d);
            };
            walk(dir);
            for (const d of dirs) {
                try {
                    fs.rmdirSync(d);
                } catch {
                    left.push(d);
                }
            }
        }
    }
    return left;
}

/** What of a run is left on the machine: the namespace, processes under the run's folder, mounts, cgroups. */
export async function leftovers(name: string, runDir: string): Promise<string[]> {
    const out: string[] = [];
    const list = await run("ip", ["netns", "list"]);
    if (list.stdout.split("\n").some((l) => l.split(" ")[0] === name)) out.push(`network namespace ${name}`);
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
            if (cmd.includes(runDir) && Number(pid) !== process.pid) out.push(`process ${pid}: ${cmd.slice(0, 120)}`);
        } catch {
            // gone
        }
    }
    for (const line of fs.readFileSync("/proc/self/mounts", "utf8").split("\n"))
        if (line.split(" ")[1]?.startsWith(runDir)) out.push(`mount ${line.split(" ")[1]}`);
    for (const top of NODE_CGROUPS)
        for (const h of fs.existsSync(CGROUP_ROOT) ? fs.readdirSync(CGROUP_ROOT) : [])
            if (fs.existsSync(path.join(CGROUP_ROOT, h, top))) out.push(`cgroup ${h}/${top}`);
    return out;
}

/**
 * Runs `argv` in a new network namespace `name` (with a new mount and PID namespace), its output
 * the terminal's; then removes the namespace and the node's cgroups. Returns the exit code.
 */
export async function runInside(
    name: string,
    argv: string[],
    runDir: string,
): Promise<{ code: number; left: string[] }> {
    await must("ip", ["netns", "add", name]);
    let code: number;
    try {
        code = await new Promise<number>((resolve, reject) => {
            // nsenter joins the network namespace; unshare then makes the mount and PID namespaces,
            // mounts a /proc of the new PID namespace, and kills its child if it dies itself.
            const child = spawn(
                "nsenter",
                [
                    `--net=/run/netns/${name}`,
                    "--",
                    "unshare",
                    "--mount",
                    "--propagation",
                    "private",
                    "--pid",
                    "--fork",
                    "--kill-child",
                    "--mount-proc",
                    "--",
                    ...argv,
                ],
                { stdio: "inherit", env: { ...process.env, [INSIDE_ENV]: name } },
            );
            // unshare ignores SIGINT and SIGTERM while it waits (they are meant for its child): the
            // signal goes to the suite's process inside, which stops its servers and exits.
            const forward = (sig: NodeJS.Signals) => () => {
                try {
                    const inner = fs
                        .readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8")
                        .trim()
                        .split(" ")[0];
                    if (inner) process.kill(Number(inner), sig);
                } catch {
                    child.kill("SIGKILL");
                }
            };
            process.once("SIGINT", forward("SIGINT"));
            process.once("SIGTERM", forward("SIGTERM"));
            child.on("error", reject);
            child.on("exit", (c, sig) => resolve(c ?? (sig ? 128 : 1)));
        });
    } finally {
        await run("ip", ["netns", "delete", name]);
    }
    // The PID namespace is gone with its first process, and every process with it; what the node
    // made in the machine's cgroup hierarchies outlives them and is removed here.
    const stuck = removeCgroups();
    const left = [...stuck.map((c) => `cgroup ${c}`), ...(await leftovers(name, runDir))];
    return { code, left: [...new Set(left)] };
}

/** Inside: the loopback, the node's address on a veth pair, a route for the Services, bridged traffic through iptables. */
export async function prepareNetwork(): Promise<void> {
    const ip = (...args: string[]) => must("ip", args);
    await ip("link", "set", "lo", "up");
    await ip("link", "add", NETWORK.nodeLink, "type", "veth", "peer", "name", NETWORK.peerLink);
    await ip("addr", "add", `${NETWORK.nodeIp}/24`, "dev", NETWORK.nodeLink);
    await ip("addr", "add", `${NETWORK.peerIp}/24`, "dev", NETWORK.peerLink);
    await ip("link", "set", NETWORK.nodeLink, "up");
    await ip("link", "set", NETWORK.peerLink, "up");
    // Connections the node itself opens to a Service's address need a route before kube-proxy's DNAT.
    await ip("route", "add", NETWORK.serviceCidr, "dev", NETWORK.nodeLink, "src", NETWORK.nodeIp);
    // Pods on the one bridge reach each other through iptables (kube-proxy's DNAT replies,
    // kube-router's policies): per network namespace since Linux 5.3, set here.
    for (const [key, value] of [
        ["net/bridge/bridge-nf-call-iptables", "1"],
        ["net/ipv4/ip_forward", "1"],
    ])
        fs.writeFileSync(path.join("/proc/sys", key), value);
}
