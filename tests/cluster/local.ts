// npm run up:local / npm run down:local: the real engine for a newcomer. Starts a Kubernetes
// control plane on loopback (built the first time, with progress), then runs the real
// `pulumi preview` with the policy pack and `pulumi up` of dev on it, and prints the stack's
// outputs and wiring. The cluster keeps running until `npm run down:local`, which destroys the
// stack and stops it. Everything lives in <cache>/local (LAKEHOUSE_CLUSTER_CACHE).
import * as fs from "fs";
import * as path from "path";
import { EXIT } from "../../offline/exit";
import { ControlPlane } from "./control-plane";
import { copyProject } from "./harness";
import { fqn } from "./lifecycle";
import { PulumiCli } from "./pulumi";
import { cacheDir, chartSource, ensureTools, Tools } from "./tools";

const STACK = "dev";

function localDirs(): { root: string; cluster: string; project: string } {
    const root = path.join(cacheDir(), "local");
    return { root, cluster: path.join(root, "cluster"), project: path.join(root, "project") };
}

function cliFor(root: string, project: string, tools: Tools): PulumiCli {
    return new PulumiCli({
        cliBin: tools.bin,
        projectDir: project,
        workDir: root,
        languageHost: tools.languageHost,
        passphrase: "lakehouse-local",
    });
}

/**
 * Runs a CLI command and prints what it printed, but the stack's outputs (their addresses and
 * wiring are printed after, shorter).
 */
async function shown(cli: PulumiCli, args: string[], out: (s: string) => void): Promise<number | null> {
    out(`\n$ pulumi ${args.join(" ")}`);
    const c = await cli.run(args, { log: path.join(cli.opts.workDir, "pulumi.log") });
    const text = (c.stdout + c.stderr).trimEnd();
    out(text.replace(/\nOutputs:\n[\s\S]*?\n(?=Resources:)/, "\n(outputs: below)\n\n"));
    return c.code;
}

export async function up(out: (s: string) => void, err: (s: string) => void): Promise<number> {
    const { root, cluster: state, project } = localDirs();
    out("lakehouse-platform on a local control plane (the real Pulumi CLI and providers; kwok plays the node)");
    const tools = await ensureTools(out);
    const cluster = new ControlPlane({ bin: tools.bin, stages: tools.stages, state, say: out });
    if (await ControlPlane.running(state)) out(`control plane already running (${state})`);
    else {
        await ControlPlane.stopDetached(state);
        const s = await cluster.start();
        cluster.detach();
        out(`control plane up in ${s.toFixed(1)} s; kubeconfig ${cluster.files.kubeconfig}`);
    }
    const fresh = !fs.existsSync(path.join(root, "backend", ".pulumi"));
    if (fresh) copyProject(project);
    const cli = cliFor(root, project, tools);
    await cli.installPlugins(tools.providers);
    if (fresh) {
        await cli.must(["stack", "init", fqn(STACK)]);
        const set = async (k: string, v: string) => cli.must(["config", "set", k, v, "--stack", fqn(STACK)]);
        await set("kubeconfig", cluster.files.kubeconfig);
        // No chart repository is reachable from this machine: the archives it has, when it has them.
        const charts = chartSource();
        if (fs.existsSync(charts)) {
            for (const chart of ["trino", "airbyte"]) {
                const file = fs.readdirSync(charts).find((f) => f.startsWith(`${chart}-`) && f.endsWith(".tgz"));
                if (file) await set(`${chart}Chart`, path.join(charts, file));
            }
        }
    }
    const stack = ["--stack", fqn(STACK)];
    if ((await shown(cli, ["preview", "--policy-pack", "policies", ...stack], out)) !== 0) {
        err("pulumi preview failed (above)");
        return EXIT.failure;
    }
    if ((await shown(cli, ["up", "--yes", "--skip-preview", ...stack], out)) !== 0) {
        err("pulumi up failed (above)");
        return EXIT.failure;
    }
    const outputs = JSON.parse((await cli.must(["stack", "output", "--json", ...stack])).stdout) as {
        addresses: Record<string, { url: string }>;
        wiring: { from: string; to: string; address: string }[];
    };
    out("\nServices (pulumi stack output addresses):");
    for (const [id, a] of Object.entries(outputs.addresses)) out(`  ${id.padEnd(18)} ${a.url}`);
    out("\nWiring (pulumi stack output wiring):");
    for (const w of outputs.wiring) out(`  ${w.from.padEnd(9)} → ${w.to.padEnd(9)} ${w.address}`);
    out(
        `\nThe cluster keeps running. kubectl: KUBECONFIG=${cluster.files.kubeconfig}; the CLI: PULUMI_HOME=${cli.home} PULUMI_BACKEND_URL=file://${cli.backend} PULUMI_CONFIG_PASSPHRASE=lakehouse-local ${path.join(root, "bin", "pulumi")} -C ${project} ...\nnpm run down:local destroys the stack and stops it.`,
    );
    return EXIT.ok;
}

export async function down(out: (s: string) => void): Promise<number> {
    const { root, cluster: state, project } = localDirs();
    if (await ControlPlane.running(state)) {
        const tools = await ensureTools(out);
        const cli = cliFor(root, project, tools);
        await shown(cli, ["destroy", "--yes", "--skip-preview", "--stack", fqn(STACK)], out);
    }
    await ControlPlane.stopDetached(state);
    fs.rmSync(root, { recursive: true, force: true });
    out(`stopped the local control plane and removed ${root}`);
    return EXIT.ok;
}
