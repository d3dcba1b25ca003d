// What only a node that runs the pods can show, after `pulumi up` (tests/cluster/single.ts runs
// these on a real node): every pod of the platform Ready by its own probes; the wiring-check Jobs'
// scripts run in the cluster, their logs in the report; a short host name failing from another
// namespace and resolving in its own (CoreDNS and the pods' search list); a connection the wiring
// does not name refused by the NetworkPolicies (kube-router) while a wired one succeeds; a dbt run
// through Dagster writing Iceberg tables to Garage, read back through Trino; and, with one rule of
// the wiring's NetworkPolicies removed, that edge's check failing and `pulumi up` naming the edge.
import * as fs from "fs";
import * as path from "path";
import type { Plan } from "../../offline/plan";
import { launchAndWait, eventsOf } from "../e2e/dagster";
import { sleep } from "../e2e/procs";
import { CheckFailed } from "../e2e/report";
import { NODE_NAME, REGISTRY_ADDRESS } from "../node";
import type { Harness } from "./harness";
import { Kube, KubeObject, secretData } from "./kube";
import { engine, setConfig } from "./lifecycle";
import { planted } from "./plants";
import { trinoQuery, trinoServer } from "./trino-client";
import { TRUST_CONFIGMAP } from "../../components/certificates";
import { TRINO_HTTPS_PORT } from "../../components/trino-security";
import { PLATFORM_SERVICES, serviceEndpoint } from "../../components/addresses";
import { DATABASE_LOGIN_CONSUMERS } from "../../components/credentials";
import { DAGSTER_ADMIN_SECRET } from "../../components/dagster-login";
import { checkDagsterLogin, loginAt, type LoginProxy } from "../e2e/login";
import type { GraphqlTarget } from "../e2e/dagster";

type Components = Record<string, string>;

/** A short-lived pod of the curl image in `ns` (restricted, as the platform's own), its exit code and log. */
export async function runPod(
    kube: Kube,
    ns: string,
    name: string,
    script: string,
    timeoutMs = 120_000,
    /** ConfigMaps of the namespace mounted read-only (the platform's CA for an HTTPS probe). */
    configMaps: { name: string; mountPath: string }[] = [],
    /** The probe's image: curl's unless a probe needs another client (psql). */
    image = `${REGISTRY_ADDRESS}/curlimages/curl:8.11.1`,
    /** Its environment (a login's password from the namespace's Secret). */
    env: Record<string, unknown>[] = [],
): Promise<{ exitCode: number; log: string; node: string }> {
    await kube.delete("Pod", name, ns);
    while (await kube.get("Pod", name, ns)) await sleep(200);
    await kube.create(
        {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name, namespace: ns, labels: { "app.kubernetes.io/name": "lakehouse-suite-probe" } },
            spec: {
                restartPolicy: "Never",
                securityContext: {
                    runAsNonRoot: true,
                    runAsUser: 100,
                    runAsGroup: 101,
                    seccompProfile: { type: "RuntimeDefault" },
                },
                volumes: configMaps.map((c) => ({ name: c.name, configMap: { name: c.name } })),
                containers: [
                    {
                        name: "probe",
                        image,
                        command: ["sh", "-c", script],
                        env,
                        volumeMounts: configMaps.map((c) => ({ name: c.name, mountPath: c.mountPath, readOnly: true })),
                        securityContext: {
                            allowPrivilegeEscalation: false,
                            readOnlyRootFilesystem: true,
                            capabilities: { drop: ["ALL"] },
                        },
                        resources: {
                            requests: { cpu: "10m", memory: "16Mi" },
                            limits: { cpu: "200m", memory: "64Mi" },
                        },
                    },
                ],
            },
        },
        "lakehouse-suite",
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const pod = await kube.get("Pod", name, ns);
        const status = pod?.status as
            { phase?: string; containerStatuses?: { state?: { terminated?: { exitCode: number } } }[] } | undefined;
        const done = status?.containerStatuses?.[0]?.state?.terminated;
        if (done) {
            const log = await kube
                .request<string>("GET", `/api/v1/namespaces/${ns}/pods/${name}/log`)
                .catch((e: unknown) => `(no log: ${String(e)})`);
            const node = (pod!.spec as { nodeName?: string }).nodeName ?? "?";
            await kube.delete("Pod", name, ns);
            return { exitCode: done.exitCode, log: (log ?? "").trim(), node };
        }
        if (Date.now() > deadline)
            throw new CheckFailed(
                `pod ${ns}/${name} did not finish in ${timeoutMs / 1000} s: ${JSON.stringify(status)}`,
            );
        await sleep(500);
    }
}

const CURL = (url: string, args = "") =>
    `curl -sS -m 5 ${args} -o /dev/null -w '%{http_code}' '${url}'; rc=$?; echo " exit $rc"; exit $rc`;

/**
 * A new pod's NetworkPolicy rules are programmed a few seconds after it starts: first a connection
 * the wiring admits, tried until it succeeds (exit 90 if it never does, within 60 s), so that what
 * follows runs with the pod's rules in place and a refusal is the policy's, not the race's.
 */
const AFTER_REACHING = (url: string, then: string, args = "") =>
    `i=0; until curl -s -m 3 ${args} -o /dev/null '${url}'; do i=$((i+1)); [ $i -ge 30 ] && { echo "never reached ${url}"; exit 90; }; sleep 2; done; ${then}`;

/** Every pod of the platform on the real node Ready (a Job's: completed); those on the kwok node listed. */
async function checkPods(h: Harness, stack: string, namespaces: string[]): Promise<void> {
    await h.report.check(
        `${stack}: every pod of the platform on the real node is Ready by its own probes`,
        async () => {
            const real: string[] = [];
            const kwok: string[] = [];
            const notReady: string[] = [];
            for (const ns of namespaces)
                for (const p of await h.kube.list("Pod", ns)) {
                    const node = (p.spec as { nodeName?: string }).nodeName;
                    const status = p.status as { phase?: string; conditions?: { type: string; status: string }[] };
                    const id = `${ns}/${p.metadata.name}`;
                    if (node !== NODE_NAME) {
                        kwok.push(id);
                        continue;
                    }
                    if (status.phase === "Succeeded") continue;
                    real.push(id);
                    if (!status.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
                        notReady.push(`${id} (${status.phase})`);
                }
            if (notReady.length > 0) throw new CheckFailed(`not Ready: ${notReady.join(", ")}`);
            if (real.length === 0) throw new CheckFailed("no pod of the platform runs on the real node");
            return `${real.length} pods Ready on ${NODE_NAME}: ${real.join(", ")}; on the kwok node (Airbyte's images): ${kwok.length}`;
        },
    );
}

/** Resident memory (MiB) of a node cgroup (cgroup v1: total_rss of memory.stat, page cache left out). */
function residentMib(cgroup: string): number | undefined {
    const file = path.join("/sys/fs/cgroup/memory", cgroup, "memory.stat");
    if (!fs.existsSync(file)) return undefined;
    const rss = /^total_rss (\d+)$/m.exec(fs.readFileSync(file, "utf8"))?.[1];
    return rss === undefined ? undefined : Math.round(Number(rss) / 2 ** 20);
}

/**
 * What the platform costs on the node, measured after `pulumi up` (README, "What a laptop
 * needs"): each pod's time from scheduled to Ready, and the resident memory of the pods
 * (`kubepods`) and of the node's own processes (containerd and its shims, the kubelet,
 * kube-proxy, CoreDNS, kube-router, the registry, the volume provisioner).
 */
async function recordCost(h: Harness, stack: string, namespaces: string[]): Promise<void> {
    await h.report.check(
        `${stack}: the platform on the node: each pod from scheduled to Ready, and memory`,
        async () => {
            const at = (p: KubeObject, type: string) =>
                (p.status as { conditions?: { type: string; lastTransitionTime?: string }[] }).conditions?.find(
                    (c) => c.type === type,
                )?.lastTransitionTime;
            const times: { id: string; s: number }[] = [];
            for (const ns of namespaces)
                for (const p of await h.kube.list("Pod", ns)) {
                    const [scheduled, ready] = [at(p, "PodScheduled"), at(p, "Ready")];
                    if ((p.spec as { nodeName?: string }).nodeName !== NODE_NAME || !scheduled || !ready) continue;
                    if ((p.status as { phase?: string }).phase !== "Running") continue;
                    times.push({
                        id: `${ns}/${p.metadata.name}`,
                        s: (Date.parse(ready) - Date.parse(scheduled)) / 1000,
                    });
                }
            const [pods, node] = [residentMib("kubepods"), h.realNode?.residentMib()];
            if (times.length === 0 || pods === undefined)
                throw new CheckFailed(
                    `nothing to measure: ${times.length} Ready pods, kubepods memory ${pods ?? "unreadable"}`,
                );
            times.sort((a, b) => b.s - a.s);
            return `resident memory: the platform's pods ${pods} MiB, the node's own processes ${node ?? "?"} MiB; scheduled → Ready (slowest first): ${times.map((t) => `${t.id} ${t.s.toFixed(0)} s`).join(", ")}`;
        },
    );
}

/** The wiring checks' own logs, from the pods that ran them on the real node. */
async function checkWiringLogs(h: Harness, stack: string, namespaces: string[]): Promise<void> {
    await h.report.check(
        `${stack}: the wiring-check Jobs ran their scripts on the real node and every edge passed`,
        async () => {
            const verdict = await h.wiringVerdict(namespaces);
            const logs: string[] = [];
            for (const ns of namespaces) {
                const pods = (await h.kube.list("Pod", ns)).filter(
                    (p) => p.metadata.labels?.["job-name"] === "lakehouse-wiring-check",
                );
                const latest = pods.sort((a, b) =>
                    (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""),
                )[0];
                if (!latest) continue;
                for (const c of (latest.spec as { containers: { name: string }[] }).containers) {
                    const log = await h.kube.request<string>(
                        "GET",
                        `/api/v1/namespaces/${ns}/pods/${latest.metadata.name}/log?container=${c.name}`,
                    );
                    logs.push(`--- ${ns}/${latest.metadata.name} (${c.name}):\n${(log ?? "").trim()}`);
                }
            }
            if (!verdict.passed) throw new CheckFailed(`${verdict.detail}\n${logs.join("\n")}`);
            return `${verdict.detail}\n${logs.join("\n")}`;
        },
    );
}

/** A short name resolves in its own namespace only: CoreDNS and the search list, as on any cluster. */
async function checkShortHost(h: Harness, stack: string, c: Components, domain: string): Promise<void> {
    await h.report.check(
        `${stack}: the short host garage:3900 fails from another namespace and resolves in its own`,
        async () => {
            const fqdn = `http://garage.${c.garage}.svc.${domain}:3900/`;
            const other = await runPod(
                h.kube,
                c.dagster,
                "probe-short-host",
                AFTER_REACHING(fqdn, CURL("http://garage:3900/")),
            );
            const own = await runPod(
                h.kube,
                c.garage,
                "probe-short-host",
                AFTER_REACHING(fqdn, CURL("http://garage:3900/")),
            );
            if (other.exitCode !== 6)
                throw new CheckFailed(
                    `from ${c.dagster}: expected curl's exit 6 (could not resolve), got ${other.exitCode}: ${other.log}`,
                );
            if (own.exitCode === 6 || own.exitCode === 7 || own.exitCode === 28)
                throw new CheckFailed(
                    `from ${c.garage}: expected an answer, got curl's exit ${own.exitCode}: ${own.log}`,
                );
            return `from ${c.dagster} (${fqdn} answering): "${other.log.split("\n").pop()}" (curl exit 6); from ${c.garage}: HTTP ${own.log.split(" ")[0]} from Garage`;
        },
    );
}

/** A connection the wiring does not name is refused; the same connection from a namespace it names succeeds. */
async function checkPolicies(h: Harness, stack: string, c: Components, domain: string): Promise<void> {
    // Where Trino authenticates, clients reach it on its HTTPS port only: the wired probe verifies
    // the platform's CA there (mounted as Dagster's pods mount it); the unwired one is refused first.
    const tls = (await trinoServer(h.kube, c.trino)).tls !== undefined;
    const url = tls
        ? `https://trino.${c.trino}.svc.${domain}:${TRINO_HTTPS_PORT}/v1/info`
        : `http://trino.${c.trino}.svc.${domain}:8080/v1/info`;
    const ca = tls ? `--cacert /ca/ca.crt` : "";
    const caMount = tls ? [{ name: TRUST_CONFIGMAP, mountPath: "/ca" }] : [];
    await h.report.check(
        `${stack}: the NetworkPolicies refuse a connection the wiring does not name (airbyte → trino) and admit a wired one (dagster → trino)`,
        async () => {
            // From Airbyte's namespace: its wired edge to Garage first (the pod's rules in place), then Trino, which it has no edge to.
            const garage = `http://garage.${c.garage}.svc.${domain}:3900/`;
            const unwired = await runPod(h.kube, c.airbyte, "probe-unwired", AFTER_REACHING(garage, CURL(url)));
            const wired = await runPod(
                h.kube,
                c.dagster,
                "probe-wired",
                AFTER_REACHING(url, CURL(url, ca), ca),
                120_000,
                caMount,
            );
            if (unwired.exitCode === 90)
                throw new CheckFailed(`from ${c.airbyte}: its wired edge to Garage never answered: ${unwired.log}`);
            if (unwired.exitCode !== 7 && unwired.exitCode !== 28)
                throw new CheckFailed(
                    `from ${c.airbyte} (no edge to trino): expected refused (curl exit 7) or dropped (28), got ${unwired.exitCode}: ${unwired.log}`,
                );
            if (wired.exitCode !== 0 || !wired.log.startsWith("200"))
                throw new CheckFailed(
                    `from ${c.dagster} (wired): expected HTTP 200, got exit ${wired.exitCode}: ${wired.log}`,
                );
            return `${url}: from ${c.airbyte} (on ${unwired.node}, after its wired ${garage} answered): curl exit ${unwired.exitCode} (${unwired.log.split("\n").filter(Boolean).pop()}); from ${c.dagster}: HTTP 200`;
        },
    );
}

/**
 * Dagster's PostgreSQL client as a probe pod of Dagster's namespace runs it: the server's own
 * image (its psql), libpq's connection string for Dagster's login at the Service's FQDN (from the
 * program's address registry), and the login's password from its Secret in the pod's environment.
 */
export async function dagsterPostgresClient(
    h: Harness,
    c: Components,
    domain: string,
): Promise<{ image: string; conn: string; env: Record<string, unknown>[] }> {
    const server = await h.kube.get("StatefulSet", "postgres", c.database);
    const image = (server?.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec
        .containers[0].image;
    const ep = serviceEndpoint("postgres", c.database, domain);
    const login = DATABASE_LOGIN_CONSUMERS.find((x) => x.name === "dagster")!;
    const secret = { name: `${login.name}-postgres-credentials`, key: login.passwordKey };
    return {
        image,
        conn: `host=${ep.host} port=${ep.port} dbname=${login.database} user=${login.role} connect_timeout=5`,
        env: [{ name: "PGPASSWORD", valueFrom: { secretKeyRef: secret } }],
    };
}

/**
 * With postgresTls, from Dagster's namespace (which the NetworkPolicies admit to PostgreSQL): a
 * connection without TLS is refused by pg_hba.conf before any password is asked, and one that
 * verifies the server's certificate for its FQDN against the mounted CA gets as far as the
 * password (no password given: the TLS handshake and the verification passed).
 */
async function checkPostgresTls(h: Harness, stack: string, c: Components, domain: string): Promise<void> {
    if (!(await h.kube.get("ConfigMap", "postgres-hba", c.database))) return;
    await h.report.check(
        `${stack}: PostgreSQL refuses a connection without TLS, and a client verifying the platform's CA gets to the password`,
        async () => {
            // No password given: the probe gets as far as the password, and no further.
            const { image, conn } = await dagsterPostgresClient(h, c, domain);
            // Tried until the pod's NetworkPolicy rules are in place (a timeout or a refusal is the race's).
            const attempt = (mode: string) =>
                `i=0; while :; do out=$(psql -X -w "${conn} ${mode}" -c 'SELECT 1' 2>&1); case "$out" in *"timeout expired"*|*"Connection refused"*) i=$((i+1)); [ $i -ge 30 ] && break; sleep 2; continue;; esac; break; done; echo "${mode.split(" ")[0]}: $out"`;
            const probe = await runPod(
                h.kube,
                c.dagster,
                "probe-postgres-tls",
                `${attempt("sslmode=disable")}; ${attempt("sslmode=verify-full sslrootcert=/ca/ca.crt")}`,
                180_000,
                [{ name: TRUST_CONFIGMAP, mountPath: "/ca" }],
                image,
            );
            const [plain, verified] = probe.log.split(/\n(?=sslmode=)/);
            if (!/no pg_hba\.conf entry .*no encryption/s.test(plain ?? ""))
                throw new CheckFailed(`without TLS: expected "no pg_hba.conf entry ... no encryption", got: ${plain}`);
            if (!/no password supplied/.test(verified ?? ""))
                throw new CheckFailed(`verifying the CA: expected to reach the password, got: ${verified}`);
            return `${plain.replace(/\s+/g, " ").slice(0, 200)}; ${verified.replace(/\s+/g, " ").slice(0, 160)}`;
        },
    );
}

async function serviceUrl(kube: Kube, ns: string, name: string, port: number): Promise<string> {
    const svc = await kube.get("Service", name, ns);
    const ip = (svc?.spec as { clusterIP?: string } | undefined)?.clusterIP;
    if (!ip) throw new CheckFailed(`no Service ${ns}/${name}`);
    return `http://${ip}:${port}`;
}

/** The namespace the dev stack on the real node names in networkPolicyClientNamespaces (real-node.ts): a user's tools. */
export const CLIENT_NAMESPACE = "lakehouse-clients";

/** Dagster's login (dagsterLogin) at its Service's cluster IP, as the admin; undefined without one. */
async function dagsterLogin(kube: Kube, ns: string): Promise<LoginProxy | undefined> {
    const secret = await kube.get("Secret", DAGSTER_ADMIN_SECRET, ns);
    if (!secret) return undefined;
    const { service, port } = PLATFORM_SERVICES.dagsterWebserver.login;
    return loginAt(await serviceUrl(kube, ns, service, port), secretData(secret));
}

/**
 * With dagsterLogin: the proxy's pod answers as the end-to-end suite's checks expect (no session,
 * no Dagster; the admin's password, Dagster), and the NetworkPolicies admit a client namespace to
 * the login and not to the webserver behind it.
 */
async function checkDagsterLoginOnNode(h: Harness, stack: string, c: Components, domain: string): Promise<void> {
    const login = await dagsterLogin(h.kube, c.dagster);
    if (!login) return;
    await checkDagsterLogin(h.report, login);
    await h.report.check(
        `${stack}: from a client namespace (networkPolicyClientNamespaces) Dagster's login answers and the webserver behind it is refused`,
        async () => {
            const { login: entry } = PLATFORM_SERVICES.dagsterWebserver;
            const proxy = `http://${entry.service}.${c.dagster}.svc.${domain}:${entry.port}/ping`;
            const webserver = `http://${serviceEndpoint("dagsterWebserver", c.dagster, domain).hostPort}/server_info`;
            const probe = await runPod(
                h.kube,
                CLIENT_NAMESPACE,
                "probe-client",
                AFTER_REACHING(proxy, CURL(webserver)),
            );
            if (probe.exitCode === 90)
                throw new CheckFailed(`from ${CLIENT_NAMESPACE}: the login never answered: ${probe.log}`);
            if (probe.exitCode !== 7 && probe.exitCode !== 28)
                throw new CheckFailed(
                    `from ${CLIENT_NAMESPACE}: ${webserver} should be refused (curl exit 7) or dropped (28), got exit ${probe.exitCode}: ${probe.log}`,
                );
            return `from ${CLIENT_NAMESPACE}: ${proxy} answered; ${webserver}: curl exit ${probe.exitCode} (${probe.log.split("\n").filter(Boolean).pop()})`;
        },
    );
}

/** A Dagster run of the code location's dbt assets: its pod in the Dagster namespace, the tables in Trino, their files in Garage. */
async function checkDbtThroughDagster(h: Harness, stack: string, c: Components): Promise<void> {
    await h.report.check(
        `${stack}: a Dagster run of dbt through Trino, in a pod of the Dagster namespace, makes Iceberg tables whose files are in Garage`,
        async () => {
            const trino = await trinoServer(h.kube, c.trino);
            const sql = (q: string) => trinoQuery(trino, "lakehouse-suite", q);
            await sql("CREATE SCHEMA IF NOT EXISTS lakehouse.raw");
            await sql("CREATE TABLE IF NOT EXISTS lakehouse.raw.orders (item varchar, amount integer)");
            await sql("INSERT INTO lakehouse.raw.orders VALUES ('apple', 3), ('pear', 5), ('apple', 4)");
            const profiles = (
                (await h.kube.get("ConfigMap", "dagster-dbt-profiles", c.dagster))?.data as Record<string, string>
            )["profiles.yml"];
            const schema = /schema:\s*(\S+)/.exec(profiles)?.[1];
            if (!schema) throw new CheckFailed(`no schema in the dbt profile:\n${profiles}`);
            // Behind its login (dagsterLogin), through the proxy as the admin, as a user launches it.
            const login = await dagsterLogin(h.kube, c.dagster);
            const graphqlUrl: GraphqlTarget = login
                ? { url: `${login.url}/graphql`, authorization: login.authorization }
                : `${await serviceUrl(h.kube, c.dagster, "dagster-dagster-webserver", 80)}/graphql`;
            const started = Date.now();
            const run = await launchAndWait(graphqlUrl);
            if (run.status !== "SUCCESS") {
                const events = await eventsOf(graphqlUrl, run.runId).catch(() => []);
                const errors = events
                    .filter((e) => e.error || e.level === "ERROR")
                    .map((e) => e.error?.message ?? e.message);
                throw new CheckFailed(`run ${run.runId}: ${run.status}\n${errors.slice(-5).join("\n")}`);
            }
            const pods = (await h.kube.list("Pod", c.dagster)).filter(
                (p) =>
                    Object.values(p.metadata.labels ?? {}).includes(run.runId) ||
                    p.metadata.name.includes(run.runId.split("-")[0]),
            );
            const top = await sql(`SELECT item, total FROM lakehouse.${schema}.top_item`);
            const files = await sql(`SELECT file_path FROM lakehouse.${schema}."orders_by_item$files"`);
            const paths = files.rows.map((r) => String(r[0]));
            if (JSON.stringify(top.rows) !== JSON.stringify([["apple", 7]]))
                throw new CheckFailed(`top_item: ${JSON.stringify(top.rows)}`);
            if (paths.length === 0 || !paths.every((p) => /^s3a?:\/\/lakehouse\//.test(p)))
                throw new CheckFailed(`data files: ${paths.join(", ") || "none"}`);
            const where = pods.map(
                (p: KubeObject) => `${c.dagster}/${p.metadata.name} on ${(p.spec as { nodeName?: string }).nodeName}`,
            );
            return `run ${run.runId} SUCCESS in ${Math.round((Date.now() - started) / 1000)} s (${where.join(", ") || "its pod already gone"}); lakehouse.${schema}.top_item read back through Trino: ${JSON.stringify(top.rows)}; its data files in Garage: ${paths.join(", ")}`;
        },
    );
}

/** One rule of the wiring's NetworkPolicies removed: the edge's check fails, and `pulumi up` names it. */
async function checkRemovedRule(h: Harness, stack: string, c: Components): Promise<void> {
    await h.report.check(
        `${stack}: with the rule admitting dagster → trino removed, that edge's wiring check fails and pulumi up fails naming the edge`,
        async () => {
            await h.kube.delete("NetworkPolicy", "lakehouse-from-dagster", c.trino);
            // A new curl image replaces the checks' Jobs: they run again, against the cluster as it now is.
            await setConfig(h, stack, { curlImage: "curlimages/curl:8.12.1" });
            const { c: cmd } = await engine(h, stack, "up: a wiring rule removed", ["up", "--yes", "--skip-preview"], {
                allowFailure: true,
            });
            const text = cmd.stdout + cmd.stderr;
            await setConfig(h, stack, { curlImage: undefined });
            await engine(h, stack, "up --refresh: the rule back", ["up", "--yes", "--skip-preview", "--refresh"]);
            if (cmd.code === 0) throw new CheckFailed("pulumi up succeeded without the rule");
            const named = /dagster → trino/.test(text);
            if (!named) throw new CheckFailed(`pulumi up failed without naming dagster → trino:\n${text.slice(-2000)}`);
            return `pulumi up exited ${cmd.code}: "${
                text
                    .split("\n")
                    .find((l) => /FAILED.*dagster → trino/.test(l))
                    ?.trim() ?? "dagster → trino"
            }"; then up --refresh made the rule again and passed`;
        },
    );
}

/** Trino's pods deleted and their successors Ready: they read a changed ConfigMap or Secret. */
export async function restartTrino(h: Harness, ns: string): Promise<void> {
    const trino = (p: KubeObject) => p.metadata.labels?.["app.kubernetes.io/name"] === "trino";
    const old = new Set((await h.kube.list("Pod", ns)).filter(trino).map((p) => p.metadata.uid));
    for (const p of (await h.kube.list("Pod", ns)).filter(trino)) await h.kube.delete("Pod", p.metadata.name, ns);
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
        const pods = (await h.kube.list("Pod", ns)).filter(trino);
        const fresh = pods.filter((p) => !old.has(p.metadata.uid));
        const ready = (p: KubeObject) =>
            (p.status as { conditions?: { type: string; status: string }[] }).conditions?.some(
                (c) => c.type === "Ready" && c.status === "True",
            );
        if (fresh.length === old.size && fresh.every(ready) && pods.length === fresh.length) return;
        if (Date.now() > deadline) throw new CheckFailed(`Trino's pods not Ready again 5 min after their deletion`);
        await sleep(2000);
    }
}

/** The plants of tests/cluster/plants.ts that break the running platform before its checks. */
async function plantBeforeChecks(h: Harness, c: Components): Promise<void> {
    if (planted("short-host")) {
        // The catalog's properties file: a line of its own (the wiring check's script names the key too).
        const cm = (await h.kube.list("ConfigMap", c.trino)).find((m) =>
            Object.values((m.data ?? {}) as Record<string, string>).some((v) => /^hive\.metastore\.uri=/m.test(v)),
        );
        if (!cm) throw new CheckFailed("plant short-host: no catalog ConfigMap in Trino's namespace");
        const data = Object.fromEntries(
            Object.entries(cm.data as Record<string, string>).map(([k, v]) => [
                k,
                v.replace(/^hive\.metastore\.uri=thrift:\/\/([^.:]+)[^:]*:/m, "hive.metastore.uri=thrift://$1:"),
            ]),
        );
        const uri = (d: Record<string, string>) =>
            Object.values(d)
                .map((v) => /^hive\.metastore\.uri=(.*)$/m.exec(v)?.[1])
                .find(Boolean);
        const was = uri(cm.data as Record<string, string>);
        if (uri(data) === was)
            throw new CheckFailed(`plant short-host: the catalog's metastore URI ${was} has no FQDN to cut`);
        await h.kube.apply({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: cm.metadata.name, namespace: c.trino },
            data,
        });
        await restartTrino(h, c.trino);
        h.say(`planted short-host: ${c.trino}/${cm.metadata.name} names the metastore ${uri(data)} (was ${was})`);
    }
    if (planted("removed-rule")) {
        await h.kube.delete("NetworkPolicy", "lakehouse-from-dagster", c.trino);
        h.say(`planted removed-rule: ${c.trino}/lakehouse-from-dagster deleted`);
    }
    if (planted("open-webserver")) {
        // What a hand-written rule for an ingress would do: admit the clients to the webserver itself.
        await h.kube.apply({
            apiVersion: "networking.k8s.io/v1",
            kind: "NetworkPolicy",
            metadata: { name: "planted-open-webserver", namespace: c.dagster },
            spec: {
                podSelector: {},
                policyTypes: ["Ingress"],
                ingress: [
                    {
                        from: [
                            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": CLIENT_NAMESPACE } } },
                        ],
                        ports: [{ protocol: "TCP", port: PLATFORM_SERVICES.dagsterWebserver.port }],
                    },
                ],
            },
        });
        h.say(`planted open-webserver: ${c.dagster}/planted-open-webserver admits ${CLIENT_NAMESPACE} to port 80`);
    }
    if (planted("wrong-credential")) {
        const secret = await h.kube.get("Secret", "trino-garage-credentials", c.trino);
        if (!secret) throw new CheckFailed("plant wrong-credential: no Secret trino-garage-credentials");
        const wrong = Buffer.from("0".repeat(64)).toString("base64");
        await h.kube.apply({
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "trino-garage-credentials", namespace: c.trino },
            data: { ...(secret.data as Record<string, string>), AWS_SECRET_ACCESS_KEY: wrong },
        });
        await restartTrino(h, c.trino);
        h.say(`planted wrong-credential: ${c.trino}/trino-garage-credentials holds a wrong secret key`);
    }
}

export async function realNodeChecks(h: Harness, stack: string, plan: Plan, namespaces: string[]): Promise<void> {
    const c = plan.config.namespaces as Components;
    const domain = (plan.config as { clusterDomain: string }).clusterDomain;
    await plantBeforeChecks(h, c);
    await checkPods(h, stack, namespaces);
    await recordCost(h, stack, namespaces);
    await checkWiringLogs(h, stack, namespaces);
    await checkShortHost(h, stack, c, domain);
    await checkPolicies(h, stack, c, domain);
    await checkPostgresTls(h, stack, c, domain);
    await checkDagsterLoginOnNode(h, stack, c, domain);
    await checkDbtThroughDagster(h, stack, c);
    await checkRemovedRule(h, stack, c);
}
