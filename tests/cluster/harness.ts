// What every run of the real-engine suite stands on: the built parts, a control plane of its own,
// the user's project as a copy (so `pulumi stack init` and `pulumi config set` write their stack
// files there, never into the checkout), the CLI with its own home and file backend, and a chart
// repository on loopback that serves the three charts as a user's mirror would.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "../../offline/stack-config";
import { NETWORK, NODE_CERTS, prepareNetwork, RealNode } from "../node";
import { attachRealNode, RealNodeRun, recordRealNode } from "./real-node";
import { ChartRepository, packageChart } from "./chart-repo";
import { ControlPlane } from "./control-plane";
import { Kube } from "./kube";
import { PulumiCli } from "./pulumi";
import { ClusterReport } from "./report";
import { chartSource, ensureTools, Tools, VERSIONS } from "./tools";

/** The chart repository's address: the suite's loopback range, a port of its own. */
export const CHART_REPO = { host: "127.0.10.9", port: 8879 };

/** What a real node lets the suite read from the platform itself (tests/cluster/platform-probe.ts). */
export interface PlatformProbe {
    /**
     * Writes rows naming `label` where the platform keeps data, through the Trino of the stack's
     * `namespaces`; returns what identifies them, or undefined while the stack has no Trino yet.
     */
    writeRows(namespaces: string[], label: string): Promise<string | undefined>;
    /** Reads them back through the platform; ok when every one is there. */
    readRows(namespaces: string[], token: string): Promise<{ ok: boolean; detail: string }>;
}

export interface Harness {
    /** Where pods run: kwok (nothing runs) or a real node (tests/node). */
    node: "kwok" | "real";
    /** Present on a real node only. */
    probe?: PlatformProbe;
    realNode?: RealNode;
    /** Whether the wiring-check Jobs of the namespaces passed, as far as this node can tell. */
    wiringVerdict(namespaces: string[]): Promise<{ passed: boolean; detail: string }>;
    /** The settings a user of this cluster gives a stack beyond its kubeconfig and charts. */
    stackSettings(stack: string): Record<string, string>;
    /** In-cluster hosts the stacks name that no stack declares (the pack's allowedHosts). */
    allowedHosts(): string[];
    tools: Tools;
    work: string;
    project: string;
    cluster: ControlPlane;
    kube: Kube;
    cli: PulumiCli;
    charts: ChartRepository;
    /** The chart archives as local files (the second way the suite installs them). */
    chartFiles: { trino: string; airbyte: string; dagster: string };
    report: ClusterReport;
    say: (line: string) => void;
    stop(): Promise<void>;
}

/** The checkout's files (tracked and untracked, not ignored) copied to `dest`; node_modules linked. */
export function copyProject(dest: string): void {
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(dest, { recursive: true });
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], {
        cwd: PROJECT_DIR,
        encoding: "utf8",
    })
        .split("\0")
        .filter((f) => f !== "" && !f.startsWith("node_modules/") && fs.existsSync(path.join(PROJECT_DIR, f)));
    for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
        fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dest, f));
    }
    fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dest, "node_modules"));
    // The policy pack runs compiled (its package.json `main`): the build the checkout made. So does
    // the program (program.js), copied after its sources so the build is the newer, as in the checkout.
    fs.cpSync(path.join(PROJECT_DIR, "policies", "bin"), path.join(dest, "policies", "bin"), { recursive: true });
    fs.cpSync(path.join(PROJECT_DIR, ".build"), path.join(dest, ".build"), { recursive: true });
}

/** The suite's versions: each part as its binary reports itself. */
async function recordVersions(h: Harness): Promise<void> {
    const { report, tools } = h;
    report.version("pulumi", (await h.cli.version()).replace(/^v/, ""), VERSIONS.pulumi.replace(/^v/, ""));
    const sdk = JSON.parse(
        fs.readFileSync(path.join(PROJECT_DIR, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8"),
    ) as { version: string };
    const host = execFileSync(tools.languageHost, ["--version"], { encoding: "utf8" }).trim();
    report.version(
        "pulumi-language-nodejs",
        `${host.replace(/^v/, "")} (the real host, from ../shared/real-pulumi/language-host), starting @pulumi/pulumi ${sdk.version}`,
    );
    for (const p of tools.providers) report.version(`pulumi-resource-${p.name}`, p.version);
    const server = await h.kube.request<{ gitVersion: string }>("GET", "/version");
    report.version("kubernetes", server.gitVersion.replace(/^v/, ""), VERSIONS.kubernetes.replace(/^v/, ""));
    const etcd = execFileSync(path.join(tools.bin, "etcd"), ["--version"], { encoding: "utf8" });
    report.version("etcd", /etcd Version: (\S+)/.exec(etcd)?.[1] ?? "?", VERSIONS.etcd.replace(/^v/, ""));
    report.version("kwok", VERSIONS.kwok.replace(/^v/, ""));
    report.version("helm (in the Kubernetes provider)", "3.20.2");
    if (h.node === "real") await recordRealNode(h);
    else
        report.substitute(
            "a kubelet on each node, running containers",
            "kwok 0.8.0: pods become Ready and Job pods Succeed without a container running; PVCs of the default class bind",
            "no container runtime or registry here; everything the API server, the controllers, the scheduler and the providers do is real",
        );
    report.substitute(
        "a bare pod with restartPolicy Never runs to completion (Airbyte's Helm hook bootloader)",
        "a kwok stage of the suite's marks it Succeeded, as kwok's own stage does for Job pods",
        "kwok completes only Job-owned pods; without it the release would wait for its timeout",
    );
    report.substitute(
        "the charts from their public repositories",
        `a chart repository on ${CHART_REPO.host}:${CHART_REPO.port} serving the archives of ../shared/real-pulumi/charts (Dagster's: this repository's charts/dagster), then the same archives as local files`,
        "no chart repository is reachable from this machine",
    );
}

export interface HarnessOptions {
    /** The run's folder (kept after a failure for its logs). */
    work: string;
    /** A real node beside the control plane (inside the suite's namespaces), with the images built for it. */
    realNode?: RealNodeRun;
    say: (line: string) => void;
    report: ClusterReport;
}

/** Builds (or finds) every part, starts the control plane and the chart repository, prepares the CLI. */
export async function startHarness(opts: HarnessOptions): Promise<Harness> {
    const { say, report, work } = opts;
    say("real engine: the Pulumi CLI, the providers, a Kubernetes control plane (building what is missing)");
    const tools = await ensureTools(say);
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });

    // A real node's address must exist before the API server advertises it.
    if (opts.realNode) await prepareNetwork();
    const cluster = new ControlPlane({
        bin: tools.bin,
        stages: tools.stages,
        state: path.join(work, "cluster"),
        say,
        realNode: opts.realNode ? { nodeIp: NETWORK.nodeIp, certs: NODE_CERTS } : undefined,
    });
    const started = await cluster.start();
    say(
        `control plane up in ${started.toFixed(1)} s (kwok's node Ready; logs in ${path.join(work, "cluster", "logs")})`,
    );
    const kube = new Kube(cluster.files.kubeconfig);

    const project = path.join(work, "project");
    copyProject(project);
    const cli = new PulumiCli({
        cliBin: tools.bin,
        projectDir: project,
        workDir: work,
        languageHost: tools.languageHost,
        passphrase: "lakehouse-cluster-suite",
    });
    await cli.installPlugins(tools.providers);

    // The charts as a user's mirror holds them: the upstream archives, and this repository's Dagster chart.
    const served = path.join(work, "charts");
    fs.mkdirSync(served, { recursive: true });
    const source = chartSource();
    const copy = (name: string) => {
        const file = fs.readdirSync(source).find((f) => f.startsWith(`${name}-`) && f.endsWith(".tgz"));
        if (!file) throw new Error(`no ${name} chart archive in ${source}`);
        fs.copyFileSync(path.join(source, file), path.join(served, file));
        return path.join(served, file);
    };
    const chartFiles = {
        trino: copy("trino"),
        airbyte: copy("airbyte"),
        dagster: await packageChart(path.join(PROJECT_DIR, "charts", "dagster"), served),
    };
    const charts = new ChartRepository(served, CHART_REPO.host, CHART_REPO.port);
    await charts.start();

    const h: Harness = {
        node: "kwok",
        async wiringVerdict(namespaces: string[]) {
            const jobs = (
                await Promise.all(namespaces.map((ns) => kube.get("Job", "lakehouse-wiring-check", ns)))
            ).filter((j) => j !== undefined);
            const passed =
                jobs.length > 0 && jobs.every((j) => ((j.status as { succeeded?: number }).succeeded ?? 0) > 0);
            return {
                passed,
                detail: `${jobs.length} wiring-check Jobs succeeded (kwok: their status only, no script ran)`,
            };
        },
        stackSettings: () => ({}),
        allowedHosts: () => [],
        tools,
        work,
        project,
        cluster,
        kube,
        cli,
        charts,
        chartFiles,
        report,
        say,
        async stop() {
            kube.close();
            await charts.close();
            await cluster.stop();
        },
    };
    if (opts.realNode) await attachRealNode(h, opts.realNode);
    await recordVersions(h);
    return h;
}
