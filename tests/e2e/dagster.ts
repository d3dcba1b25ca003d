// Dagster, run for real: the chart at the pinned version rendered with the program's values
// (`helm template`), its instance and workspace ConfigMaps, its Deployments' commands and
// environments, run by Dagster from PyPI at the chart's version on the Services' loopback
// addresses; the program's migration Job first. A code location of the suite's own (the user's
// image would hold theirs) has the models of a small dbt project as assets, built with the
// program's profiles.yml against the real Trino. The suite launches a run through the webserver's
// GraphQL API as a user does; the daemon dequeues it; the checks read what the user would see.
import * as fs from "fs";
import { loadAll, load as loadYaml, dump } from "js-yaml";
import * as path from "path";
import { PROJECT_DIR } from "../../offline/stack-config";
import { python, PY } from "./checks";
import { addressOf } from "./names";
import { K8sObject, PlatformRun } from "./platform";
import { must, run, sleep, tail } from "./procs";
import { Context, Postgres, trinoClient } from "./servers";
import { checkDagsterLogin, DEPLOYMENT as LOGIN_PROCESS, startDagsterLogin } from "./login";

type Json = Record<string, unknown>;

const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The Helm release the program names for Dagster. */
const RELEASE = "dagster";
/** The job of the suite's code location (tests/e2e/py/dagster_location.py). */
const JOB = "lakehouse_models_job";
/** Where the rendered chart is kept between the suite's two halves (outside and inside the mount namespace). */
const RENDERED = "dagster-rendered.json";

// ---- the chart, rendered (outside: Helm may need building, and the names come from it) ----

/**
 * `helm template` of a release's chart with the program's values, in the release's namespace: the
 * objects the Helm provider would install. Only a chart in this repository renders here (no chart
 * repository is reachable); another source is refused, naming it.
 */
/** Where the certificates chart's rendering is kept between the suite's two halves. */
export const CERTIFICATES_RENDERED = "certificates-rendered.json";

/**
 * The certificates Helm issued for this run (the first half's rendering), beside the program's
 * objects of `p`: the same ones for every run of the program in the suite (the rotation's second
 * run too), as the chart's lookup keeps them in a cluster. False when the stack issues none.
 */
export function addIssuedCertificates(p: PlatformRun, work: string): boolean {
    const file = path.join(work, CERTIFICATES_RENDERED);
    if (!fs.existsSync(file)) return false;
    p.addRendered(JSON.parse(fs.readFileSync(file, "utf8")) as K8sObject[]);
    return true;
}

export async function renderRelease(p: PlatformRun, release: string, helm: string, dir: string): Promise<K8sObject[]> {
    const rel = p.release(release);
    const namespace = String(rel.namespace);
    const chart = String(rel.chart);
    if (rel.repositoryOpts !== undefined || /^(oci|https?):\/\//.test(chart))
        throw new Error(`${release}'s chart comes from ${chart}: the suite renders only a chart in this repository`);
    fs.mkdirSync(dir, { recursive: true });
    const values = path.join(dir, "values.json");
    fs.writeFileSync(values, JSON.stringify(rel.values ?? {}, null, 2));
    const r = await must(helm, [
        "template",
        String(rel.name),
        path.resolve(PROJECT_DIR, chart),
        "--namespace",
        namespace,
        "--values",
        values,
    ]);
    fs.writeFileSync(path.join(dir, "rendered.yaml"), r.stdout);
    return loadAll(r.stdout)
        .filter(isMap)
        .map((doc): K8sObject => {
            const meta = doc.metadata as Json;
            return {
                type: `helm-template:${String(doc.kind)}`,
                name: String(meta.name),
                namespace: typeof meta.namespace === "string" ? meta.namespace : namespace,
                objectName: String(meta.name),
                inputs: doc,
            };
        });
}

/** Dagster's chart, rendered, and kept for the suite's second half. */
export async function renderDagster(p: PlatformRun, helm: string, work: string): Promise<K8sObject[]> {
    const objects = await renderRelease(p, RELEASE, helm, path.join(work, "dagster"));
    fs.writeFileSync(path.join(work, RENDERED), JSON.stringify(objects));
    return objects;
}

/** The rendered Services' FQDNs: the names the webserver, the daemon and the code location are reached by. */
export function renderedNames(objects: K8sObject[], clusterDomain: string): string[] {
    return objects
        .filter((o) => o.type.endsWith(":Service"))
        .map((o) => `${o.objectName}.${o.namespace}.svc.${clusterDomain}`);
}

export function loadRendered(work: string): K8sObject[] | undefined {
    const file = path.join(work, RENDERED);
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as K8sObject[]) : undefined;
}

// ---- a pod's container as a process on this machine ----

interface PodProcess {
    command: string[];
    env: Record<string, string>;
    /** The container's paths, each under the pod's own root directory on this machine. */
    root: string;
    /** The address of the Service whose selector picks the pod, if one does. */
    address?: string;
    port?: number;
}

/**
 * A workload's container, as the kubelet would start it, on this machine: its command and args,
 * its environment (the chart's ConfigMaps and the program's Secrets), its ConfigMap and emptyDir
 * volumes as directories under `<root>` at their mount paths, every container path the command,
 * the environment or a mounted file names rewritten to that directory, and `0.0.0.0` bound to its Service's address.
 */
function podProcess(
    ctx: Context,
    kind: string,
    name: string,
    container: string,
    extraPaths: string[] = [],
): PodProcess {
    const { p, names } = ctx;
    const ns = p.detail<string>("components.dagster.namespace");
    const c = p.container(kind, ns, name, container);
    const pod = p.podSpec(kind, ns, name);
    const { env } = p.containerEnv(ns, c);
    const root = path.join(ctx.work, "dagster", "pods", name);
    fs.mkdirSync(root, { recursive: true });
    const volumes = new Map(((pod.volumes as Json[] | undefined) ?? []).map((v) => [String(v.name), v]));
    const mounts: string[] = [];
    const files: [string, string][] = [];
    for (const m of (c.spec.volumeMounts as Json[] | undefined) ?? []) {
        const volume = volumes.get(String(m.name));
        const at = path.join(root, String(m.mountPath));
        mounts.push(String(m.mountPath).replace(/\/$/, ""));
        if (isMap(volume?.configMap)) {
            const data = p.configMap(ns, String(volume.configMap.name));
            if (typeof m.subPath === "string") {
                // A file mounted by subPath lives in a directory of the image (DAGSTER_HOME): that directory too.
                mounts.push(path.dirname(String(m.mountPath)));
                fs.mkdirSync(path.dirname(at), { recursive: true });
                files.push([at, data[m.subPath]]);
            } else {
                fs.mkdirSync(at, { recursive: true });
                for (const [file, text] of Object.entries(data)) files.push([path.join(at, file), text]);
            }
        } else if (isMap(volume?.emptyDir)) {
            fs.mkdirSync(at, { recursive: true });
        } else {
            throw new Error(`${kind} ${ns}/${name}: volume ${String(m.name)} is neither a ConfigMap nor an emptyDir`);
        }
    }
    // Directories of the image the environment names (DAGSTER_HOME): empty, as in a fresh container.
    for (const p of extraPaths) {
        fs.mkdirSync(path.join(root, p), { recursive: true });
        mounts.push(p);
    }
    // One pass, whole path names only: /tmp must not match inside an already rooted /tmp/...
    const paths = [...new Set(mounts)].sort((a, b) => b.length - a.length);
    const escaped = paths.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    const pattern = new RegExp(`(^|[\\s"'=:,])(${escaped.join("|")})(?=/|$|[\\s"',;])`, "g");
    const rooted = (s: string) =>
        paths.length ? s.replace(pattern, (_, before: string, m: string) => `${before}${path.join(root, m)}`) : s;
    // The mounted files too: a path one of them names (dagster.yaml's sslrootcert) is another mount's.
    for (const [at, text] of files) fs.writeFileSync(at, rooted(text));
    const labels = ((p.object(kind, ns, name).inputs.spec as Json).template as Json).metadata as Json;
    const service = p.objects.find((o) => {
        if (!o.type.endsWith(":Service") || o.namespace !== ns) return false;
        const selector = (o.inputs.spec as Json).selector as Record<string, string> | undefined;
        const podLabels = (labels.labels ?? {}) as Record<string, string>;
        return !!selector && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    });
    let address: string | undefined;
    let port: number | undefined;
    if (service) {
        const fqdn = `${service.objectName}.${ns}.svc.${clusterDomainOf(p)}`;
        address = addressOf(names, fqdn);
        port = Number(((service.inputs.spec as Json).ports as Json[])[0].port);
    }
    const bind = (s: string) => (address ? s.split("0.0.0.0").join(address) : s);
    return {
        command: [...c.command, ...c.args].map((a) => bind(rooted(a))),
        env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, rooted(v)])),
        root,
        address,
        port,
    };
}

export function clusterDomainOf(p: PlatformRun): string {
    return p.detail<{ host: string }>("components.trino.services.coordinator").host.split(".svc.")[1];
}

// ---- GraphQL, as the UI asks ----

/** The webserver's GraphQL endpoint, and the login it asks for when it is behind one (dagsterLogin). */
export type GraphqlTarget = string | { url: string; authorization?: string };

async function graphql(target: GraphqlTarget, query: string, variables: Json = {}): Promise<Json> {
    const { url, authorization } = typeof target === "string" ? { url: target, authorization: undefined } : target;
    const res = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...(authorization ? { Authorization: authorization } : {}) },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(60_000),
    });
    const body = (await res.json()) as { data?: Json; errors?: { message: string }[] };
    if (!res.ok || body.errors?.length)
        throw new Error(`GraphQL: HTTP ${res.status}: ${(body.errors ?? []).map((e) => e.message).join("; ")}`);
    return body.data ?? {};
}

const WORKSPACE = `{
  workspaceOrError {
    __typename
    ... on Workspace { locationEntries { name loadStatus
      locationOrLoadError { __typename
        ... on RepositoryLocation { repositories { name jobs { name } assetNodes { assetKey { path } } } }
        ... on PythonError { message } } } }
    ... on PythonError { message }
  }
}`;

const LAUNCH = `mutation($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
    ... on InvalidOutputError { stepKey }
  }
}`;

const RUN = `query($runId: ID!) {
  runOrError(runId: $runId) { __typename ... on Run { runId status startTime endTime } ... on PythonError { message } }
}`;

const EVENTS = `query($runId: ID!) {
  logsForRun(runId: $runId, limit: 5000) {
    __typename
    ... on EventConnection { events { __typename
      ... on MessageEvent { message level stepKey }
      ... on LogsCapturedEvent { fileKey stepKeys }
      ... on ErrorEvent { error { message } } } }
    ... on PythonError { message }
  }
}`;

const CAPTURED = `query($logKey: [String!]!) { capturedLogs(logKey: $logKey) { stdout stderr } }`;

interface RunEvent {
    __typename: string;
    message?: string;
    level?: string;
    stepKey?: string | null;
    fileKey?: string;
    stepKeys?: string[];
    error?: { message: string } | null;
}

/** Launches the job as the UI's "Materialize all" does, and waits for a terminal status. */
export async function launchAndWait(
    url: GraphqlTarget,
    runConfigData: Json = {},
): Promise<{ runId: string; status: string }> {
    const launched = (
        await graphql(url, LAUNCH, {
            params: {
                selector: { repositoryLocationName: "lakehouse", repositoryName: "__repository__", jobName: JOB },
                runConfigData,
            },
        })
    ).launchRun as Json;
    if (launched.__typename !== "LaunchRunSuccess") throw new Error(`launchRun: ${JSON.stringify(launched)}`);
    const runId = String((launched.run as Json).runId);
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
        const r = (await graphql(url, RUN, { runId })).runOrError as Json;
        const status = String(r.status);
        if (["SUCCESS", "FAILURE", "CANCELED"].includes(status)) return { runId, status };
        if (Date.now() > deadline) throw new Error(`run ${runId} still ${status} after 10 min`);
        await sleep(2000);
    }
}

export async function eventsOf(url: GraphqlTarget, runId: string): Promise<RunEvent[]> {
    const logs = (await graphql(url, EVENTS, { runId })).logsForRun as Json;
    if (logs.__typename !== "EventConnection") throw new Error(`logsForRun: ${JSON.stringify(logs)}`);
    return logs.events as RunEvent[];
}

// ---- the checks ----

/** The dbt project of the code location: two models on the orders table the Trino checks wrote. */
function writeProject(dir: string, profile: string, catalog: string): void {
    fs.mkdirSync(path.join(dir, "models"), { recursive: true });
    fs.writeFileSync(
        path.join(dir, "dbt_project.yml"),
        `name: lakehouse_dagster_e2e\nversion: "1.0.0"\nconfig-version: 2\nprofile: ${profile}\nmodel-paths: ["models"]\n`,
    );
    fs.writeFileSync(
        path.join(dir, "models", "orders_by_item.sql"),
        `{{ config(materialized='table') }}\nselect item, sum(amount) as total, count(*) as orders from ${catalog}.e2e.orders group by item\n`,
    );
    fs.writeFileSync(
        path.join(dir, "models", "top_item.sql"),
        `{{ config(materialized='table') }}\nselect item, total from {{ ref('orders_by_item') }} order by total desc limit 1\n`,
    );
}

/** A copy of profiles.yml with the Trino host written as its short name: the negative control. */
export function shortHostProfiles(profiles: string): { text: string; short: string; host: string } {
    const doc = loadYaml(profiles) as Record<string, { outputs: Record<string, { host: string }> }>;
    let host = "";
    let short = "";
    for (const profile of Object.values(doc))
        for (const out of Object.values(profile.outputs)) {
            host = out.host;
            short = host.split(".")[0];
            out.host = short;
        }
    return { text: dump(doc, { lineWidth: -1 }), short, host };
}

export async function checkDagster(ctx: Context, pg: Postgres): Promise<void> {
    const { p, report, tc, procs, work } = ctx;
    const rendered = loadRendered(work);
    if (!rendered || !tc.dagster) {
        report.substitute("Dagster", "not run", "the stack deploys no Dagster");
        return;
    }
    const dagster = tc.dagster;
    p.addRendered(rendered);
    const ns = p.detail<string>("components.dagster.namespace");
    const domain = clusterDomainOf(p);
    const values = p.helmValues(RELEASE);
    report.substitute(
        `the dagster Release (chart ${String(p.release(RELEASE).version)}, installed by the Helm provider)`,
        `helm template of the same chart with the same values (${path.join(work, "dagster", "rendered.yaml")}); its ConfigMaps, Services and Deployments' commands and environments are what runs`,
        "no cluster; Helm renders what the provider would install",
    );
    report.substitute(
        "the images dagster/dagster-celery-k8s and the code location's (Dagster and Python inside)",
        `Dagster ${dagster.used} from PyPI in a virtualenv: ${dagster.packages.join(", ")}`,
        "no container runtime; dagster-dbt of this Dagster release requires dbt-core < 1.9, so dbt here is 1.8; SQLAlchemy 2.0, as when the release was built (2.1 defaults to a PostgreSQL driver dagster-postgres does not bring)",
    );

    // The instance: the rendered dagster.yaml, its run launcher the one thing changed.
    const instanceMap = p.object("ConfigMap", ns, "dagster-instance").inputs.data as Record<string, string>;
    const instance = loadYaml(instanceMap["dagster.yaml"]) as Json;
    const launcher = instance.run_launcher as Json;
    instance.run_launcher = { module: "dagster.core.launcher", class: "DefaultRunLauncher" };
    instanceMap["dagster.yaml"] = dump(instance, { lineWidth: -1 });
    report.substitute(
        `dagster.yaml run_launcher ${String(launcher.class)} (each run a Kubernetes Job in ${ns})`,
        "DefaultRunLauncher: each run a process the code location's server starts, with its environment (the same env, Secrets and profiles a run pod inherits through includeConfigInLaunchedRuns)",
        "no pods; the rest of dagster.yaml (storage, run coordinator, compute logs, telemetry) is the chart's, unchanged",
    );
    // The workspace: the code location's short name, which the pods' search path completes.
    const workspaceMap = p.object("ConfigMap", ns, "dagster-workspace-yaml").inputs.data as Record<string, string>;
    const workspace = loadYaml(workspaceMap["workspace.yaml"]) as { load_from: { grpc_server: Json }[] };
    for (const entry of workspace.load_from) {
        const short = String(entry.grpc_server.host);
        if (!short.includes(".")) entry.grpc_server.host = `${short}.${ns}.svc.${domain}`;
    }
    workspaceMap["workspace.yaml"] = dump(workspace, { lineWidth: -1 });
    report.substitute(
        "workspace.yaml grpc_server host lakehouse (a short name the pods' search path completes in their namespace)",
        `lakehouse.${ns}.svc.${domain}: the name the search path would give`,
        "short names resolve to nothing here, as from another namespace",
    );

    const dagsterEnv = (extra: Record<string, string>, home: string) => ({
        HOME: home,
        ...extra,
        PATH: `${dagster.bin}:${process.env.PATH}`,
        PYTHONUNBUFFERED: "1",
    });

    // 1. The program's migration Job: Dagster's schema in the platform's PostgreSQL.
    const job = p.objects.find(
        (o) => o.type === "kubernetes:batch/v1:Job" && o.objectName.startsWith("dagster-instance-migrate"),
    );
    if (!job) throw new Error("the program has no dagster-instance-migrate Job");
    const pgLogin = () => {
        const secret = p.secret(ns, String((values.global as Json).postgresqlSecretName));
        const pgValues = values.postgresql as Json;
        return {
            host: String(pgValues.postgresqlHost),
            port: Number((pgValues.service as Json).port),
            user: String(pgValues.postgresqlUsername),
            password: secret["postgresql-password"],
            database: String(pgValues.postgresqlDatabase),
        };
    };
    await report.check(
        `dagster: the ${job.objectName} Job creates Dagster's schema in PostgreSQL, as Dagster's own login`,
        async () => {
            const m = podProcess(ctx, "Job", job.objectName, "migrate");
            const r = await run(m.command[0], m.command.slice(1), {
                env: dagsterEnv(m.env, m.root),
                timeoutMs: 300_000,
            });
            if (r.code !== 0) throw new Error(tail(r.output, 15));
            const owner = await pg.query(pgLogin(), "SELECT tableowner FROM pg_tables WHERE tablename = 'runs'");
            if (owner !== pgLogin().user) throw new Error(`table runs owned by ${owner || "nobody (no table)"}`);
            return `${tail(r.stdout, 1)}; table runs owned by ${owner}`;
        },
    );

    // 2. The code location's dbt project and manifest (an image build would bake both in).
    const profilesMap = p.configMap(ns, "dagster-dbt-profiles")["profiles.yml"];
    const profile = Object.keys(loadYaml(profilesMap) as Json)[0];
    const target = code0Target(p, ns);
    const catalog = (loadYaml(profilesMap) as Record<string, { outputs: Record<string, { database: string }> }>)[
        profile
    ].outputs[target].database;
    const project = path.join(work, "dagster", "dbt-project");
    writeProject(project, profile, catalog);
    const code = podProcess(
        ctx,
        "Deployment",
        `${RELEASE}-dagster-user-deployments-lakehouse`,
        "dagster-user-deployments",
        ["/opt/dagster/dagster_home"],
    );
    const location = path.join(PY, "dagster_location.py");
    const selector = code.command.findIndex(
        (a) => a === "--python-file" || a === "--module-name" || a === "-m" || a === "-f",
    );
    const userCode = code.command.slice(selector, selector + 2).join(" ");
    if (selector >= 0) code.command.splice(selector, 2, "--python-file", location);
    report.substitute(
        `the code location's image (${userCode}: the user's code)`,
        `${location}: dbt assets of a two-model project (${project}), manifest from dbt parse`,
        "the platform runs whatever image the user names; the suite brings its own dbt code",
    );
    const codeEnv = { ...code.env, LAKEHOUSE_E2E_DBT_PROJECT: project, DBT_SEND_ANONYMOUS_USAGE_STATS: "false" };
    await report.require(
        "dagster: dbt parse writes the code location's manifest with the program's profiles.yml",
        async () => {
            const r = await run(dagster.dbt, ["parse", "--target", target], {
                cwd: project,
                env: dagsterEnv(codeEnv, code.root),
                timeoutMs: 300_000,
            });
            if (r.code !== 0) throw new Error(tail(r.output, 15));
            return tail(r.stdout, 1);
        },
    );

    try {
        await serveAndCheck();
    } finally {
        for (const name of [LOGIN_PROCESS, "dagster-daemon", "dagster-webserver", "dagster-code-location"])
            await procs.stop(name);
    }

    async function serveAndCheck(): Promise<void> {
        // 3. The three processes, in the order the chart's init containers wait for.
        const started = Date.now();
        const codeChild = procs.start("dagster-code-location", code.command[0], code.command.slice(1), {
            env: dagsterEnv(codeEnv, code.root),
            cwd: code.root,
        });
        await procs.waitForPort("dagster-code-location", codeChild, code.address!, code.port!, 180_000);
        const web = podProcess(ctx, "Deployment", `${RELEASE}-dagster-webserver`, "dagster");
        const daemon = podProcess(ctx, "Deployment", `${RELEASE}-daemon`, "dagster");
        const webChild = procs.start("dagster-webserver", web.command[0], web.command.slice(1), {
            env: dagsterEnv(web.env, web.root),
            cwd: web.root,
        });
        procs.start("dagster-daemon", daemon.command[0], daemon.command.slice(1), {
            env: dagsterEnv(daemon.env, daemon.root),
            cwd: daemon.root,
        });
        await procs.waitForPort("dagster-webserver", webChild, web.address!, web.port!, 180_000);
        const webserver = p.detail<{ host: string; port: number }>("components.dagster.services.webserver");
        // Behind its login (dagsterLogin), every request below goes through the proxy as the admin.
        const login = await startDagsterLogin(ctx);
        if (login) await checkDagsterLogin(ctx.report, login);
        const url: GraphqlTarget = login
            ? { url: `${login.url}/graphql`, authorization: login.authorization }
            : `http://${webserver.host}:${webserver.port}/graphql`;
        report.substitute(
            "the code location's, webserver's and daemon's pods (bound to 0.0.0.0; DAGSTER_HOME, /dagster-workspace and /opt/dagster/dbt mounted)",
            `processes with the Deployments' commands and env, bound to their Services' loopback addresses; the mounts are directories under ${path.join(work, "dagster", "pods")} holding the same ConfigMaps`,
            "no pods; the init containers' waits are the suite's own (it starts each process once the one before answers)",
        );

        await report.require(
            "dagster: the webserver (at its FQDN) has loaded the code location lakehouse with the dbt models as assets",
            async () => {
                const deadline = Date.now() + 180_000;
                for (;;) {
                    const ws = (await graphql(url, WORKSPACE)).workspaceOrError as Json;
                    const entry = ((ws.locationEntries as Json[] | undefined) ?? []).find(
                        (e) => e.name === "lakehouse",
                    );
                    const loaded = entry?.locationOrLoadError as Json | undefined;
                    if (loaded?.__typename === "PythonError") throw new Error(String(loaded.message));
                    if (entry?.loadStatus === "LOADED" && loaded?.__typename === "RepositoryLocation") {
                        const repo = (loaded.repositories as Json[])[0];
                        const assets = (repo.assetNodes as { assetKey: { path: string[] } }[]).map((a) =>
                            a.assetKey.path.join("/"),
                        );
                        const jobs = (repo.jobs as { name: string }[]).map((j) => j.name);
                        if (!jobs.includes(JOB)) throw new Error(`no job ${JOB}: ${jobs.join(", ")}`);
                        return `assets ${assets.sort().join(", ")}; up in ${Math.round((Date.now() - started) / 1000)} s`;
                    }
                    if (Date.now() > deadline) throw new Error(`location lakehouse: ${JSON.stringify(entry ?? ws)}`);
                    await sleep(2000);
                }
            },
        );

        // 4. A run, launched as a user does, dequeued by the daemon.
        let runId = "";
        await report.require(
            `dagster: a run of ${JOB} launched through the webserver's GraphQL API succeeds`,
            async () => {
                const t = Date.now();
                const r = await launchAndWait(url);
                runId = r.runId;
                if (r.status !== "SUCCESS") {
                    const failures = (await eventsOf(url, r.runId)).filter((e) => e.error || e.level === "ERROR");
                    throw new Error(
                        `run ${r.runId}: ${r.status}: ${failures
                            .map((e) => e.error?.message ?? e.message)
                            .join(" | ")
                            .slice(0, 1500)}`,
                    );
                }
                return `run ${runId} ${r.status} in ${Math.round((Date.now() - t) / 1000)} s (queued, dequeued by the daemon, run by the code location)`;
            },
        );

        await report.check(
            "dagster: the run and its events are in the platform's PostgreSQL, read as Dagster's own login",
            async () => {
                const login = pgLogin();
                const status = await pg.query(login, `SELECT status FROM runs WHERE run_id = '${runId}'`);
                const events = Number(
                    await pg.query(login, `SELECT count(*) FROM event_logs WHERE run_id = '${runId}'`),
                );
                if (status !== "SUCCESS") throw new Error(`runs.status = ${status || "(no row)"}`);
                if (!(events > 0)) throw new Error("no event_logs rows");
                return `runs: ${status}; event_logs: ${events} rows; as ${login.user} on ${login.host}`;
            },
        );

        const profilesDoc = loadYaml(profilesMap) as Record<string, { outputs: Record<string, { schema: string }> }>;
        const schema = profilesDoc[profile].outputs[target].schema;
        let files: string[] = [];
        await report.check(
            `dagster: the models are Iceberg tables in ${catalog}.${schema}, with the rows of the source`,
            async () => {
                const results = await python(ctx, "trino_sql.py", {
                    ...trinoClient(ctx),
                    catalog,
                    statements: [
                        `SELECT item, total, orders FROM ${catalog}.${schema}.orders_by_item ORDER BY item`,
                        `SELECT item, sum(amount), count(*) FROM ${catalog}.e2e.orders GROUP BY item ORDER BY item`,
                        `SELECT item, total FROM ${catalog}.${schema}.top_item`,
                        `SELECT item, sum(amount) AS total FROM ${catalog}.e2e.orders GROUP BY item ORDER BY total DESC LIMIT 1`,
                        `SELECT file_path FROM ${catalog}.${schema}."orders_by_item$files"`,
                        `SELECT file_path FROM ${catalog}.${schema}."top_item$files"`,
                    ],
                });
                const failed = results.find((r) => r.ok !== true);
                if (failed) throw new Error(`${String(failed.sql)}: ${String(failed.error)}`);
                const rows = results.map((r) => JSON.stringify(r.rows));
                if (rows[0] !== rows[1]) throw new Error(`orders_by_item ${rows[0]}, the source says ${rows[1]}`);
                if (rows[2] !== rows[3]) throw new Error(`top_item ${rows[2]}, the source says ${rows[3]}`);
                files = [...(results[4].rows as unknown[][]), ...(results[5].rows as unknown[][])].map((row) =>
                    String(row[0]),
                );
                return `orders_by_item ${rows[0]}; top_item ${rows[2]}; ${files.length} data files (Iceberg's $files tables)`;
            },
        );

        const keys = p.secret(ns, String(((values.dagsterWebserver as Json).envSecrets as Json[])[0].name));
        const s3Log = (instance.compute_logs as Json).config as Json;
        const s3 = {
            endpoint: String(s3Log.endpoint_url),
            region: web.env.AWS_REGION ?? "us-east-1",
            accessKeyId: keys.AWS_ACCESS_KEY_ID,
            secretAccessKey: keys.AWS_SECRET_ACCESS_KEY,
        };
        await report.check(
            "dagster: the tables' data files are objects in Garage, read with Dagster's key",
            async () => {
                if (files.length === 0) throw new Error("no data files listed");
                const bucket = /^s3a?:\/\/([^/]+)\//.exec(files[0])?.[1];
                const keysOf = files.map((f) => f.replace(/^s3a?:\/\/[^/]+\//, ""));
                const out = await python(ctx, "s3_access.py", { ...s3, probe: "e2e", read: { bucket, keys: keysOf } });
                const missing = out.filter((o) => o.ok !== true);
                if (missing.length)
                    throw new Error(missing.map((m) => `${String(m.key)}: ${String(m.detail)}`).join("; "));
                return `${out.length} Parquet files in bucket ${bucket}, e.g. ${keysOf[0]}`;
            },
        );

        await report.check(
            `dagster: the run's compute logs are in Garage (${String(s3Log.bucket)}/${String(s3Log.prefix)}), written and read with Dagster's key`,
            async () => {
                const prefix = `${String(s3Log.prefix)}/storage/${runId}/`;
                const [listed] = await python(ctx, "s3_access.py", {
                    ...s3,
                    probe: "e2e",
                    list: { bucket: s3Log.bucket, prefix },
                });
                const found = (listed.list as string[]) ?? [];
                if (!found.length) throw new Error(`nothing under ${prefix}: ${JSON.stringify(listed.detail ?? "")}`);
                const read = await python(ctx, "s3_access.py", {
                    ...s3,
                    probe: "e2e",
                    read: { bucket: s3Log.bucket, keys: found },
                });
                const text = read.map((o) => String(o.text)).join("\n");
                if (!/orders_by_item/.test(text))
                    throw new Error(`the logs do not show dbt building orders_by_item: ${text.slice(0, 500)}`);
                // What the UI shows: the webserver reads the same logs back from Garage.
                const captured = (await eventsOf(url, runId)).filter((e) => e.__typename === "LogsCapturedEvent");
                if (!captured.length) throw new Error("no LogsCapturedEvent in the run");
                const shown = (
                    (await graphql(url, CAPTURED, { logKey: [runId, "compute_logs", captured[0].fileKey] }))
                        .capturedLogs as Json
                ).stdout as string | null;
                if (!shown || !/orders_by_item/.test(shown))
                    throw new Error(
                        `the webserver shows no dbt output for ${captured[0].fileKey}: ${String(shown).slice(0, 300)}`,
                    );
                return `${found.length} objects, e.g. ${found[0]}; the webserver shows them (${shown.length} characters of stdout)`;
            },
        );

        // 5. The control: the same run with Dagster's Trino host written as its short name.
        const control = shortHostProfiles(profilesMap);
        const controlDir = path.join(work, "dagster", "profiles-short-host");
        fs.mkdirSync(controlDir, { recursive: true });
        fs.writeFileSync(path.join(controlDir, "profiles.yml"), control.text);
        await report.check(
            `dagster (negative control): with the Trino host written ${control.short} (not ${control.host}) in profiles.yml, the run fails and says why`,
            async () => {
                // The dbt resource's config for this run: the same project, the control's profiles.
                const r = await launchAndWait(url, {
                    resources: { dbt: { config: { project_dir: project, profiles_dir: controlDir, target } } },
                });
                if (r.status !== "FAILURE") throw new Error(`run ${r.runId}: ${r.status}`);
                const events = await eventsOf(url, r.runId);
                const texts = events.map((e) => `${e.message ?? ""} ${e.error?.message ?? ""}`);
                const [listed] = await python(ctx, "s3_access.py", {
                    ...s3,
                    probe: "e2e",
                    list: { bucket: s3Log.bucket, prefix: `${String(s3Log.prefix)}/storage/${r.runId}/` },
                });
                const logs = await python(ctx, "s3_access.py", {
                    ...s3,
                    probe: "e2e",
                    read: { bucket: s3Log.bucket, keys: (listed.list as string[]) ?? [] },
                });
                const all = [...texts, ...logs.map((o) => String(o.text))].join("\n");
                const why = all
                    .split("\n")
                    .find((l) => l.includes(control.short) && /resolve|known|Name or service|getaddrinfo/i.test(l));
                if (!why)
                    throw new Error(
                        `the run failed, but nothing names ${control.short} not resolving: ${all.slice(-800)}`,
                    );
                return `run ${r.runId} FAILURE: ${why.trim().slice(0, 300)}`;
            },
        );
    }
}

/** The dbt target the code location names (DBT_TARGET in its env). */
function code0Target(p: PlatformRun, ns: string): string {
    const code = p.container(
        "Deployment",
        ns,
        `${RELEASE}-dagster-user-deployments-lakehouse`,
        "dagster-user-deployments",
    );
    const target = p.containerEnv(ns, code).env.DBT_TARGET;
    if (!target) throw new Error("the code location has no DBT_TARGET");
    return target;
}

/** The versions of Dagster and of what it loads, as the virtualenv has them. */
export async function dagsterVersions(ctx: Context): Promise<void> {
    const d = ctx.tc.dagster;
    if (!d) return;
    const r = await run(d.python, [
        "-c",
        "import importlib.metadata as m; print(' '.join(p + '=' + m.version(p) for p in ['dagster', 'dagster-webserver', 'dagster-postgres', 'dagster-aws', 'dagster-dbt', 'dbt-core', 'dbt-trino', 'SQLAlchemy']))",
    ]);
    const got = Object.fromEntries(
        r.stdout
            .trim()
            .split(" ")
            .map((kv) => kv.split("=") as [string, string]),
    );
    ctx.report.version("dagster", got.dagster ?? "?", d.pinned);
    for (const name of ["dagster-webserver", "dagster-postgres", "dagster-aws", "dagster-dbt"])
        ctx.report.version(name, got[name] ?? "?");
    ctx.report.version("dbt-core (Dagster's code location)", got["dbt-core"] ?? "?");
    ctx.report.version("dbt-trino (Dagster's code location)", got["dbt-trino"] ?? "?");
    ctx.report.version("sqlalchemy (Dagster's)", got.SQLAlchemy ?? "?");
}
