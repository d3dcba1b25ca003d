// npm run up:local / npm run down:local: dev on this machine, for a newcomer. With the user's own
// `pulumi` (the one on PATH, its language host beside it) and, where Docker runs and `kind` is on
// PATH, a kind cluster named lakehouse (dev's kubeContext, kind-lakehouse): real pods, pulled from
// the public registries. Without Docker, a Kubernetes control plane on loopback (built the first
// time, with progress) whose node is kwok: the same preview, verdicts and update, with pods made
// Ready without containers. It runs the real `pulumi preview` with the policy pack and `pulumi up`,
// and prints the stack's outputs and wiring. The cluster keeps running until `npm run down:local`,
// which destroys the stack and removes what up:local made. Its own state lives in <cache>/local
// (LAKEHOUSE_CLUSTER_CACHE): a file backend, so no `pulumi login` is needed.
import * as fs from "fs";
import * as path from "path";
import { EXIT } from "../../offline/exit";
import { run } from "../e2e/procs";
import { ControlPlane } from "./control-plane";
import { copyProject } from "./harness";
import { fqn } from "./lifecycle";
import { PulumiCli } from "./pulumi";
import {
    cacheDir,
    chartSource,
    ensureControlPlaneParts,
    ensureTools,
    languageHostAtHand,
    providersAtHand,
    VERSIONS,
} from "./tools";

const STACK = "dev";
/** dev's kubeContext is kind-<this>: the cluster getting-started makes. */
export const KIND_CLUSTER = "lakehouse";

function localDirs(): { root: string; cluster: string; project: string; setup: string } {
    const root = path.join(cacheDir(), "local");
    return {
        root,
        cluster: path.join(root, "cluster"),
        project: path.join(root, "project"),
        setup: path.join(root, "setup.json"),
    };
}

/** What the machine offers up:local. */
export interface Machine {
    /** The folder of the `pulumi` on PATH (links followed), when there is one. */
    pulumiDir?: string;
    /** Its Node.js language host: beside it, or elsewhere on PATH. */
    languageHost?: string;
    /** `kind` is on PATH. */
    kind: boolean;
    /** `docker info` answers: a daemon kind can run its node in. */
    docker: boolean;
    /** The parts a Pulumi CLI built here needs and no registry serves (this machine's shared folder). */
    builtCliParts: boolean;
}

/** What up:local runs: whose CLI, and which cluster. Kept in <cache>/local for down:local. */
export interface LocalSetup {
    cli: { from: "path"; dir: string; languageHost: string } | { from: "built" };
    cluster: "kind" | "loopback";
    /** up:local created the kind cluster (down:local deletes only one it created). */
    createdKind?: boolean;
}

export type ClusterChoice = "kind" | "loopback" | undefined;

/** What the last up:local ran on, if it ran. */
function readSetup(file: string): LocalSetup | undefined {
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as LocalSetup) : undefined;
}

/**
 * The user's CLI wherever there is one, the one built here only on a machine that has its parts;
 * kind where it can run, unless the loopback control plane is asked for.
 */
export function chooseSetup(m: Machine, asked: ClusterChoice): LocalSetup | { problem: string } {
    const kindRuns = m.kind && m.docker;
    if (asked === "kind" && !kindRuns)
        return {
            problem: `--cluster kind needs kind on PATH and a running Docker (${m.kind ? "kind found" : "no kind on PATH"}, ${m.docker ? "Docker answers" : "docker info fails"}): install them (https://kind.sigs.k8s.io/docs/user/quick-start/), or run without --cluster for the loopback control plane`,
        };
    const cluster = asked ?? (kindRuns ? "kind" : "loopback");
    if (m.pulumiDir && m.languageHost)
        return { cli: { from: "path", dir: m.pulumiDir, languageHost: m.languageHost }, cluster };
    if (m.builtCliParts) return { cli: { from: "built" }, cluster };
    return {
        problem: m.pulumiDir
            ? `the pulumi in ${m.pulumiDir} has no pulumi-language-nodejs beside it or on PATH: reinstall the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/), whose archive has both`
            : `no pulumi on PATH: install the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/; ${VERSIONS.pulumi} or later), then run npm run up:local again`,
    };
}

/** The first executable `name` on PATH, links followed. */
export function onPath(name: string, pathVar: string = process.env.PATH ?? ""): string | undefined {
    for (const dir of pathVar.split(path.delimiter)) {
        if (dir === "") continue;
        const f = path.join(dir, name);
        try {
            fs.accessSync(f, fs.constants.X_OK);
            if (fs.statSync(f).isFile()) return fs.realpathSync(f);
        } catch {
            // not here
        }
    }
    return undefined;
}

export async function probeMachine(): Promise<Machine> {
    const pulumi = onPath("pulumi");
    const pulumiDir = pulumi ? path.dirname(pulumi) : undefined;
    const beside = pulumiDir ? path.join(pulumiDir, "pulumi-language-nodejs") : undefined;
    const languageHost = beside && fs.existsSync(beside) ? beside : onPath("pulumi-language-nodejs");
    const kind = onPath("kind") !== undefined;
    const docker = onPath("docker") !== undefined && (await run("docker", ["info"], { timeoutMs: 20_000 })).code === 0;
    return { pulumiDir, languageHost, kind, docker, builtCliParts: languageHostAtHand() };
}

/** `--cluster kind|loopback`, or nothing (kind where it runs). */
export function clusterArg(argv: string[]): ClusterChoice | { problem: string } {
    if (argv.length === 0) return undefined;
    const inline = argv[0].includes("=");
    const [flag, value] = inline ? argv[0].split("=", 2) : [argv[0], argv[1]];
    const extra = argv.slice(inline ? 1 : 2);
    if (flag !== "--cluster" || (value !== "kind" && value !== "loopback") || extra.length > 0)
        return {
            problem: `unknown arguments ${JSON.stringify(argv.join(" "))}: the only option is --cluster kind|loopback`,
        };
    return value;
}

async function cliFor(root: string, project: string, setup: LocalSetup, say: (s: string) => void): Promise<PulumiCli> {
    const providers = await providersAtHand();
    let cliBin: string;
    let languageHost: string;
    if (setup.cli.from === "path") {
        cliBin = setup.cli.dir;
        languageHost = setup.cli.languageHost;
    } else {
        const tools = await ensureTools(say);
        cliBin = tools.bin;
        languageHost = tools.languageHost;
    }
    const cli = new PulumiCli({
        cliBin,
        projectDir: project,
        workDir: root,
        languageHost,
        passphrase: "lakehouse-local",
        // A user's machine downloads the providers, as its CLI always does; this one has their files.
        acquirePlugins: providers.length === 0,
    });
    if (providers.length > 0) await cli.installPlugins(providers);
    return cli;
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

async function kindClusters(): Promise<string[]> {
    const r = await run("kind", ["get", "clusters"], { timeoutMs: 60_000 });
    return r.code === 0 ? r.stdout.split("\n").filter((l) => l.trim() !== "") : [];
}

export async function up(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
    const { root, cluster: state, project, setup: setupFile } = localDirs();
    const asked = clusterArg(argv);
    if (asked && typeof asked === "object") {
        err(`up:local: ${asked.problem}`);
        return EXIT.badInput;
    }
    // A deployment up:local already made keeps its cluster: the next run updates it.
    const previous = readSetup(setupFile);
    const chosen = chooseSetup(await probeMachine(), asked ?? previous?.cluster);
    if ("problem" in chosen) {
        err(`up:local: ${chosen.problem}`);
        return EXIT.badInput;
    }
    const setup: LocalSetup = { ...chosen, createdKind: previous?.createdKind };
    out(
        `lakehouse-platform's dev stack with ${setup.cli.from === "path" ? `your Pulumi CLI (${setup.cli.dir})` : `the Pulumi CLI ${VERSIONS.pulumi} built here`}, on ${setup.cluster === "kind" ? `the kind cluster ${KIND_CLUSTER} (real pods; images from their public registries)` : "a control plane on loopback (kwok plays the node: pods are Ready without running)"}`,
    );
    fs.mkdirSync(root, { recursive: true });
    let kubeconfig: string | undefined;
    if (setup.cluster === "kind") {
        if ((await kindClusters()).includes(KIND_CLUSTER))
            out(`kind cluster ${KIND_CLUSTER} already exists: deploying to it`);
        else {
            out(`\n$ kind create cluster --name ${KIND_CLUSTER}`);
            const r = await run("kind", ["create", "cluster", "--name", KIND_CLUSTER, "--wait", "180s"], {
                timeoutMs: 15 * 60_000,
            });
            out(r.output.trimEnd());
            if (r.code !== 0) {
                err("kind create cluster failed (above)");
                return EXIT.failure;
            }
            setup.createdKind = true;
        }
    } else {
        const parts = await ensureControlPlaneParts(out);
        const cluster = new ControlPlane({ bin: parts.bin, stages: parts.stages, state, say: out });
        if (await ControlPlane.running(state)) out(`control plane already running (${state})`);
        else {
            await ControlPlane.stopDetached(state);
            const s = await cluster.start();
            cluster.detach();
            out(`control plane up in ${s.toFixed(1)} s; kubeconfig ${cluster.files.kubeconfig}`);
        }
        kubeconfig = cluster.files.kubeconfig;
    }
    fs.writeFileSync(setupFile, JSON.stringify(setup, null, 1) + "\n");
    const fresh = !fs.existsSync(path.join(root, "backend", ".pulumi"));
    if (fresh) copyProject(project);
    const cli = await cliFor(root, project, setup, out);
    out(`\n$ pulumi version\n${await cli.version()}`);
    if (fresh) {
        await cli.must(["stack", "init", fqn(STACK)]);
        const set = async (k: string, v: string) => cli.must(["config", "set", k, v, "--stack", fqn(STACK)]);
        // On kind, dev's own kubeContext (kind-lakehouse) in the user's kubeconfig; on loopback, its file.
        if (kubeconfig) await set("kubeconfig", kubeconfig);
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
    const components = JSON.parse(
        (await cli.must(["stack", "output", "components", "--json", ...stack])).stdout,
    ) as Record<string, { services: Record<string, string> }>;
    out("\nServices (pulumi stack output components; the wiring between them: npm run plan):");
    for (const [component, c] of Object.entries(components))
        for (const [name, address] of Object.entries(c.services))
            out(`  ${`${component}.${name}`.padEnd(22)} ${address}`);
    const kubectl = kubeconfig ? `KUBECONFIG=${kubeconfig} kubectl` : `kubectl --context kind-${KIND_CLUSTER}`;
    const after =
        setup.cluster === "loopback"
            ? "stops the control plane"
            : setup.createdKind
              ? `deletes the kind cluster ${KIND_CLUSTER}`
              : `leaves the kind cluster ${KIND_CLUSTER} (up:local did not create it)`;
    out(
        `\nThe cluster keeps running: ${kubectl} get pods -A. The CLI on this stack: PULUMI_HOME=${cli.home} PULUMI_BACKEND_URL=file://${cli.backend} PULUMI_CONFIG_PASSPHRASE=lakehouse-local ${path.join(root, "bin", "pulumi")} -C ${project} stack output\nnpm run down:local destroys the stack and ${after}.`,
    );
    return EXIT.ok;
}

export async function down(out: (s: string) => void, err: (s: string) => void): Promise<number> {
    const { root, cluster: state, project, setup: setupFile } = localDirs();
    const setup = readSetup(setupFile);
    if (!setup) {
        await ControlPlane.stopDetached(state);
        fs.rmSync(root, { recursive: true, force: true });
        out("nothing deployed by npm run up:local");
        return EXIT.ok;
    }
    const reachable =
        setup.cluster === "kind" ? (await kindClusters()).includes(KIND_CLUSTER) : await ControlPlane.running(state);
    if (reachable && fs.existsSync(path.join(root, "backend", ".pulumi"))) {
        const cli = await cliFor(root, project, setup, out);
        if ((await shown(cli, ["destroy", "--yes", "--skip-preview", "--stack", fqn(STACK)], out)) !== 0) {
            // The stack's state stays, so a second down:local (or the CLI line up:local printed) can finish.
            err("pulumi destroy failed (above); nothing else was removed");
            return EXIT.failure;
        }
    }
    if (setup.cluster === "kind") {
        if (setup.createdKind && reachable) {
            out(`\n$ kind delete cluster --name ${KIND_CLUSTER}`);
            const r = await run("kind", ["delete", "cluster", "--name", KIND_CLUSTER], { timeoutMs: 5 * 60_000 });
            out(r.output.trimEnd());
        } else if (reachable) out(`left the kind cluster ${KIND_CLUSTER}: up:local did not create it`);
    } else await ControlPlane.stopDetached(state);
    fs.rmSync(root, { recursive: true, force: true });
    out(`removed ${root}`);
    return EXIT.ok;
}
