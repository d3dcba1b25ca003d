// The harness on a real node (tests/node): the node itself, a Maven mirror inside the cluster
// (the metastore's init container downloads its JDBC driver; nothing outside is reachable), the
// settings a user of such a cluster gives a stack, and what only a real node can tell: the
// wiring-check Jobs' own logs, and rows written through Trino read back.
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { cacheDir as e2eCache } from "../e2e/install";
import { run } from "../e2e/procs";
import { RealNode, NETWORK, NODE_NAME, REGISTRY_ADDRESS } from "../node";
import type { BuiltImage } from "../node/images";
import type { Harness, PlatformProbe } from "./harness";
import { planted } from "./plants";
import { Kube, KubeObject } from "./kube";
import { VERSIONS } from "./tools";
import { trinoQuery, trinoServer } from "./trino-client";
import { CLIENT_NAMESPACE } from "./real-checks";

/** The cluster's Maven mirror: a Service in a namespace of its own, served by the suite on the node. */
export const MAVEN_MIRROR = { namespace: "artifacts", service: "maven", port: 8081 } as const;

/** The JDBC driver the program downloads by default, as the mirror serves it. */
const DRIVER = "org/postgresql/postgresql/42.7.4/postgresql-42.7.4.jar";

/** What the outer process built and hands the run inside (tests/cluster/main.ts). */
export interface RealNodeRun {
    images: BuiltImage[];
    clusterDomain: string;
}

/** Serves the end-to-end suite's Maven repository (artifacts downloaded from Maven Central) under /maven2/. */
function mavenMirror(): http.Server {
    const root = path.join(e2eCache(), "m2");
    return http.createServer((req, res) => {
        const rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).replace(/^\/maven2\//, "");
        const file = path.join(root, rel);
        if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
            res.statusCode = 404;
            res.end("not found\n");
            return;
        }
        res.setHeader("content-length", fs.statSync(file).size);
        fs.createReadStream(file).pipe(res);
    });
}

/**
 * Resources sized to a node of two cores: what a user of such a cluster sets (the defaults are a
 * laptop's of four or more). Requests fit the node together; limits let a JVM start in reasonable time.
 */
const TWO_CORES: Record<string, string> = {
    garageCpuRequest: "50m",
    postgresCpuRequest: "50m",
    hiveMetastoreCpuRequest: "50m",
    trinoCoordinatorCpuRequest: "100m",
    trinoWorkerCpuRequest: "100m",
};

/** The wiring-check Jobs' pods, newest first, with the node they ran on and each container's log. */
async function wiringJobRuns(
    kube: Kube,
    ns: string,
): Promise<{ pod: KubeObject; node: string; logs: Record<string, string> }[]> {
    const pods = (await kube.list("Pod", ns))
        .filter((p) => p.metadata.labels?.["job-name"] === "lakehouse-wiring-check")
        .sort((a, b) => (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""));
    const out = [];
    for (const pod of pods) {
        const spec = pod.spec as { nodeName?: string; containers: { name: string }[] };
        const logs: Record<string, string> = {};
        for (const c of spec.containers)
            logs[c.name] = await kube
                .request<string>("GET", `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}/log?container=${c.name}`)
                .catch((e: unknown) => `(no log: ${String(e)})`);
        out.push({ pod, node: spec.nodeName ?? "?", logs });
    }
    return out;
}

/** Starts the node beside the harness's control plane and makes the harness a real node's. */
export async function attachRealNode(h: Harness, run: RealNodeRun): Promise<void> {
    const node = new RealNode({
        bin: h.tools.bin,
        dir: path.join(h.work, "node"),
        pki: h.cluster.pki,
        clusterDomain: run.clusterDomain,
        registryStorage: path.join(path.dirname(run.images[0]?.layout ?? h.work), "..", "registry"),
        images: run.images,
        say: h.say,
    });
    const seconds = await node.start(h.kube);
    h.say(`real node ${NODE_NAME} Ready in ${seconds.toFixed(1)} s (logs in ${node.logs})`);

    const mirror = mavenMirror();
    await new Promise<void>((resolve) => mirror.listen(MAVEN_MIRROR.port, NETWORK.nodeIp, resolve));
    await h.kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: MAVEN_MIRROR.namespace } });
    // A user's tools (networkPolicyClientNamespaces of dev): the probe of Dagster's login runs there.
    await h.kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: CLIENT_NAMESPACE } });
    await h.kube.apply({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: MAVEN_MIRROR.service, namespace: MAVEN_MIRROR.namespace },
        spec: { ports: [{ name: "http", port: 80, targetPort: MAVEN_MIRROR.port, protocol: "TCP" }] },
    });
    await h.kube.apply({
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: {
            name: "maven-node",
            namespace: MAVEN_MIRROR.namespace,
            labels: {
                "kubernetes.io/service-name": MAVEN_MIRROR.service,
                "endpointslice.kubernetes.io/managed-by": "lakehouse-suite",
            },
        },
        addressType: "IPv4",
        endpoints: [{ addresses: [NETWORK.nodeIp], conditions: { ready: true } }],
        ports: [{ name: "http", port: MAVEN_MIRROR.port, protocol: "TCP" }],
    });

    const previousStop = h.stop.bind(h);
    h.node = "real";
    h.realNode = node;
    h.stop = async () => {
        await new Promise<void>((resolve) => mirror.close(() => resolve()));
        await node.stop();
        await previousStop();
    };
    h.stackSettings = (stack) => ({
        imageRegistryMirror: REGISTRY_ADDRESS,
        // dev authenticates at Trino on the node (HTTPS with the platform's CA issued in the install,
        // a token per login, dbt through Dagster logging in): what the end-to-end suite checks on the
        // software alone, here with real pods, volumes and Services. The faults' staging keeps the default.
        // Its Dagster webserver is behind its login, which a client namespace reaches and the webserver's port not.
        ...(stack === "dev"
            ? {
                  trinoAuthentication: "true",
                  postgresTls: "true",
                  dagsterLogin: "true",
                  "networkPolicyClientNamespaces[0]": CLIENT_NAMESPACE,
              }
            : {}),
        // The cluster enforces NetworkPolicies (kube-router): on, as a user of such a cluster sets it.
        networkPolicies: "true",
        // Airbyte's server is simulated (kwok): Dagster's check of it could only fail. Every other edge is checked.
        "wiringChecksSkip[0]": "dagster/airbyte",
        dagsterUserCodeImage: "lakehouse/dbt-code",
        dagsterUserCodeTag: run.images.find((i) => i.spec.id === "dbt-code")?.spec.refs[0].split(":")[1] ?? "1.9.4",
        dagsterUserCodeModule: "/opt/lakehouse/dagster_location.py",
        hiveMetastoreJdbcDriverUrl: `http://${MAVEN_MIRROR.service}.${MAVEN_MIRROR.namespace}.svc.${run.clusterDomain}/maven2/${DRIVER}`,
        // Over plain HTTP the jar is pinned by its checksum (the program requires it).
        hiveMetastoreJdbcDriverSha256: createHash("sha256")
            .update(fs.readFileSync(path.join(e2eCache(), "m2", DRIVER)))
            .digest("hex"),
        ...TWO_CORES,
    });
    h.allowedHosts = () => [`${MAVEN_MIRROR.service}.${MAVEN_MIRROR.namespace}.svc.${run.clusterDomain}`];
    h.wiringVerdict = async (namespaces) => {
        const parts: string[] = [];
        let passed = true;
        let jobs = 0;
        for (const ns of namespaces) {
            const job = await h.kube.get("Job", "lakehouse-wiring-check", ns);
            if (!job) continue;
            jobs++;
            const succeeded = ((job.status as { succeeded?: number }).succeeded ?? 0) > 0;
            const [latest] = await wiringJobRuns(h.kube, ns);
            const text = Object.values(latest?.logs ?? {}).join("\n");
            const ok = (text.match(/^ok\s/gm) ?? []).length;
            const failed = (text.match(/^FAILED\s/gm) ?? []).length;
            const onRealNode = latest?.node === NODE_NAME;
            if (!succeeded || !latest || !onRealNode || failed > 0 || ok === 0) passed = false;
            parts.push(
                `${ns}: ${succeeded ? "succeeded" : "NOT succeeded"} on ${latest?.node ?? "no pod"}, ${ok} ok, ${failed} failed`,
            );
        }
        return {
            passed: passed && jobs > 0,
            detail: `${jobs} wiring-check Jobs ran their scripts on the real node: ${parts.join("; ")}`,
        };
    };
    h.probe = trinoProbe(h);
}

/**
 * What Garage holds under the probe table, listed at the S3 endpoint Trino's catalog names, with
 * Trino's own key: tells a lost object from a wrong pointer.
 */
async function tableObjects(h: Harness, trinoNs: string): Promise<string> {
    const secret = await h.kube.get("Secret", "trino-garage-credentials", trinoNs);
    const data = (secret?.data ?? {}) as Record<string, string>;
    const dec = (k: string) => Buffer.from(data[k] ?? "", "base64").toString("utf8");
    const catalog = (await h.kube.list("ConfigMap", trinoNs))
        .flatMap((m) => Object.values((m.data ?? {}) as Record<string, string>))
        .find((v) => /^s3\.endpoint=/m.test(v));
    // http://<service>.<namespace>.svc.<domain>:<port>, as components/trino.ts wires it.
    const endpoint = catalog?.match(/^s3\.endpoint=https?:\/\/([^.:/]+)\.([^.:/]+)\.svc[^:/]*:(\d+)/m);
    if (!endpoint) return `no s3.endpoint=http://<service>.<namespace>.svc... in Trino's ConfigMaps (${trinoNs})`;
    const [, service, garageNs, port] = endpoint;
    const svc = await h.kube.get("Service", service, garageNs);
    const ip = (svc?.spec as { clusterIP?: string } | undefined)?.clusterIP;
    const r = await run(
        "curl",
        [
            "-s",
            "--aws-sigv4",
            "aws:amz:us-east-1:s3",
            // Garage refuses a signed request without it (curl signs the payload but sends no hash).
            "-H",
            "x-amz-content-sha256: UNSIGNED-PAYLOAD",
            "-K",
            "-",
            `http://${ip}:${port}/lakehouse?list-type=2&prefix=warehouse/probe.db/`,
        ],
        { input: `user = "${dec("AWS_ACCESS_KEY_ID")}:${dec("AWS_SECRET_ACCESS_KEY")}"\n` },
    );
    const keys = [...r.stdout.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1].split("/").slice(-2).join("/"));
    return `${keys.length} objects: ${keys.join(", ").slice(0, 1500)}`;
}

/**
 * What every metastore container (those replaced since too) logged about creating or deleting a
 * database's directory: the lines that tell a rollback's delete (HIVE-29843) from a lost object.
 */
function metastoreDirectoryLines(h: Harness): string[] {
    const kept = path.join(h.work, "node", "pod-logs-kept");
    const lines: string[] = [];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else if (p.includes("hive-metastore"))
                for (const l of fs.readFileSync(p, "utf8").split("\n"))
                    if (/database path|create_database|Moved to trash|Force to delete|Couldn't delete/.test(l))
                        lines.push(`${path.basename(path.dirname(path.dirname(p))).split("_")[1]}: ${l.slice(0, 300)}`);
        }
    };
    try {
        walk(kept);
    } catch {
        // no real node, or its logs not kept
    }
    return lines.slice(-12);
}

/**
 * Rows written through Trino into an Iceberg table: their files in Garage, the table in the
 * metastore's PostgreSQL; read back, they prove the three still hold the data and the credentials
 * between them still work.
 */
function trinoProbe(h: Harness): PlatformProbe {
    // The schema and table are made once, as a user makes them: the faults are to find whether
    // data written before them survives, and a CREATE SCHEMA before every write would add the
    // metastore's create_database path to every fault (where the data loss of HIVE-29843 was
    // first met; components/hive-metastore.ts has what the platform does about it).
    const made = new Set<string>();
    return {
        async writeRows(namespaces, label) {
            const ns = await h.kube.namespaceWith(namespaces, "Service", "trino");
            if (!ns) return undefined;
            const server = await trinoServer(h.kube, ns);
            const token = `${label
                .replace(/[^a-z0-9]+/gi, "-")
                .toLowerCase()
                .slice(0, 60)}-${Date.now()}`;
            if (!made.has(ns)) {
                await trinoQuery(server, "lakehouse-suite", "CREATE SCHEMA IF NOT EXISTS lakehouse.probe");
                await trinoQuery(
                    server,
                    "lakehouse-suite",
                    "CREATE TABLE IF NOT EXISTS lakehouse.probe.rows (token varchar, n integer)",
                );
                made.add(ns);
            }
            await trinoQuery(
                server,
                "lakehouse-suite",
                `INSERT INTO lakehouse.probe.rows VALUES ('${token}', 1), ('${token}', 2), ('${token}', 3)`,
            );
            if (planted("missing-row"))
                await trinoQuery(
                    server,
                    "lakehouse-suite",
                    `DELETE FROM lakehouse.probe.rows WHERE token = '${token}' AND n = 2`,
                );
            return token;
        },
        async readRows(namespaces, token) {
            const ns = await h.kube.namespaceWith(namespaces, "Service", "trino");
            if (!ns) return { ok: false, detail: `rows ${token}: no Service trino in ${namespaces.join(", ")}` };
            try {
                const server = await trinoServer(h.kube, ns);
                const r = await trinoQuery(
                    server,
                    "lakehouse-suite",
                    `SELECT count(*), sum(n) FROM lakehouse.probe.rows WHERE token = '${token}'`,
                );
                const [count, sum] = r.rows[0] as [number, number];
                const ok = Number(count) === 3 && Number(sum) === 6;
                return {
                    ok,
                    detail: `rows ${token}: ${count} of 3 read back through Trino (Iceberg in Garage, the metastore's PostgreSQL)`,
                };
            } catch (e) {
                return {
                    ok: false,
                    detail: `rows ${token}: not read back: ${(e as Error).message}; in Garage now: ${await tableObjects(h, ns).catch((x: unknown) => String(x))}; the metastore's own directory operations: ${metastoreDirectoryLines(h).join(" | ") || "none logged"}`,
                };
            }
        },
    };
}

/** The real node's parts as each reports its version, every image with what it is made of, and what stands in for what. */
export async function recordRealNode(h: Harness): Promise<void> {
    const { report } = h;
    const version = async (cmd: string, args: string[], re: RegExp) => {
        const r = await run(cmd, args);
        return re.exec(r.stdout + r.stderr)?.[1] ?? "?";
    };
    report.version("containerd", await version("containerd", ["--version"], /containerd \S+ (\S+)/));
    report.version("runc", await version("runc", ["--version"], /runc version (\S+)/));
    report.version("kubelet", await version(path.join(h.tools.bin, "kubelet"), ["--version"], /Kubernetes v(\S+)/));
    report.version(
        "kube-proxy",
        await version(path.join(h.tools.bin, "kube-proxy"), ["--version"], /Kubernetes v(\S+)/),
    );
    report.version("coredns", await version(path.join(h.tools.bin, "coredns"), ["-version"], /CoreDNS-(\S+)/));
    report.version(
        "kube-router",
        await version(path.join(h.tools.bin, "kube-router"), ["--version"], /Running \S+ version v?(\S+),/),
    );
    report.version(
        "CNI plugins (bridge, host-local, loopback, portmap)",
        await version("/usr/lib/cni/bridge", ["--version"], /version v?(\S+)/),
    );
    report.version("local-path-provisioner", VERSIONS.localPathProvisioner.replace(/^v/, ""));
    report.version("docker-registry", await version("docker-registry", ["--version"], /registry \S+ v?(\S+)/));
    for (const i of h.realNode?.images ?? [])
        report.image({
            refs: i.spec.refs,
            upstream: i.spec.upstream,
            builtFrom: i.spec.builtFrom,
            differs: i.spec.differs,
        });
    report.substitute(
        "Airbyte's server, workers, Temporal and bootloader running as containers",
        "their pods on a kwok node (kwok 0.8.0): the suite's admission webhook sends there each pod none of whose images could be built here; every other pod runs on the real node",
        "they exist only as images, and no container registry is reachable; the program is unchanged",
    );
    report.substitute(
        "the wiring check of dagster → airbyte (GET /api/v1/health of Airbyte's server)",
        "left out with the stack setting wiringChecksSkip: [dagster/airbyte]; every other edge is checked in the cluster",
        "Airbyte's server runs on the kwok node: its Service has an endpoint nothing serves, so the check could only fail",
    );
    report.substitute(
        "the metastore's JDBC driver downloaded from Maven Central (hiveMetastoreJdbcDriverUrl)",
        `a Maven mirror in the cluster (Service ${MAVEN_MIRROR.service}.${MAVEN_MIRROR.namespace}), served by the suite on the node from the artifacts the end-to-end suite downloaded from Maven Central`,
        "pods reach nothing outside the run's network namespace; a user of an air-gapped cluster sets such a mirror the same way",
    );
    report.substitute(
        "kernel tunables the kubelet checks (vm.overcommit_memory, kernel.panic, ...)",
        "shown to the kubelet as it wants them in the suite's mount namespace (protectKernelDefaults: it reads, never writes)",
        "they are the machine's, global to every network namespace; the run changes nothing of the machine",
    );
}
