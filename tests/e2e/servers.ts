// The platform's servers, each started from the program's own files and specs, on its own loopback
// address: PostgreSQL (as the official image initialises it), Garage (as many nodes as the
// StatefulSet asks), the Hive Metastore (as the apache/hive image runs it: schematool, then the
// server) and Trino (one node). Every deviation from what a cluster would do is recorded as a
// substitution, with its reason.
import * as fs from "fs";
import * as path from "path";
import { parse as parseToml, stringify as toToml } from "smol-toml";
import { Toolchain } from "./install";
import { addressOf } from "./names";
import { Container, PlatformRun } from "./platform";
import { must, Processes, run, RunResult, sleep, tail } from "./procs";
import { Report } from "./report";
import { PROJECT_DIR } from "../../offline/stack-config";
import { CA_DIR, TRUST_CONFIGMAP } from "../../components/certificates";
import { LOGIN_KEYS, loginSecretName } from "../../components/trino-security";

type Json = Record<string, unknown>;

export interface Context {
    p: PlatformRun;
    tc: Toolchain;
    names: Map<string, string>;
    procs: Processes;
    work: string;
    report: Report;
}

const asRoot = process.getuid?.() === 0;

/** A command as the `postgres` user (PostgreSQL refuses to run as root). */
function asPostgres(command: string, args: string[]): [string, string[]] {
    return asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
}

// ---- PostgreSQL ----

export interface PgLogin {
    host: string;
    port: number;
    user: string;
    password: string;
    database: string;
    /** libpq's sslmode (`verify-full` with postgresTls), as the client's own configuration sets it; unset: libpq's default. */
    sslmode?: string;
    /** The CA file the client verifies with, at this machine's copy. */
    sslrootcert?: string;
}

/**
 * The Secret and ConfigMap volumes a container mounts (whole, or the `items` a volume names), as
 * files under `dir` (mode 0600); each mount's path in the pod and its directory here.
 */
export function mountVolumes(
    p: PlatformRun,
    ns: string,
    pod: Json,
    container: Container,
    dir: string,
): [string, string][] {
    const volumes = new Map(((pod.volumes as Json[] | undefined) ?? []).map((v) => [String(v.name), v]));
    const mounted: [string, string][] = [];
    for (const m of (container.spec.volumeMounts as Json[] | undefined) ?? []) {
        const v = volumes.get(String(m.name));
        const source = (v?.secret ?? v?.configMap) as Json | undefined;
        if (source === undefined) continue;
        const files = v?.secret ? p.secret(ns, String(source.secretName)) : p.configMap(ns, String(source.name));
        const items = source.items as { key: string; path: string }[] | undefined;
        const local = path.join(dir, String(m.name));
        fs.mkdirSync(local, { recursive: true, mode: 0o700 });
        for (const [key, file] of items ? items.map((i) => [i.key, i.path]) : Object.keys(files).map((k) => [k, k]))
            fs.writeFileSync(path.join(local, file), files[key], { mode: 0o600 });
        mounted.push([String(m.mountPath).replace(/\/$/, ""), local]);
    }
    return mounted;
}

export class Postgres {
    private constructor(
        private readonly ctx: Context,
        readonly host: string,
        readonly port: number,
        readonly superuser: PgLogin,
    ) {}

    static namespace(p: PlatformRun): string {
        return p.detail<string>("components.database.namespace");
    }

    /** initdb and the server, as the official image's entrypoint does with the StatefulSet's env and args. */
    static async start(ctx: Context): Promise<Postgres> {
        const { p, tc, procs, work, report } = ctx;
        const ns = Postgres.namespace(p);
        const service = p.detail<{ host: string; port: number }>("components.database.services.postgres");
        const container = p.container("StatefulSet", ns, "postgres", "postgres");
        const { env } = p.containerEnv(ns, container);
        const dir = path.join(work, "postgres");
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        if (asRoot) await must("chown", ["postgres", dir]);
        const pwfile = path.join(dir, "pwfile");
        fs.writeFileSync(pwfile, env.POSTGRES_PASSWORD, { mode: 0o600 });
        if (asRoot) await must("chown", ["postgres", pwfile]);
        const data = path.join(dir, "data");
        const initdbArgs = (env.POSTGRES_INITDB_ARGS ?? "").split(/\s+/).filter(Boolean);
        await must(
            ...asPostgres(path.join(tc.postgres.bin, "initdb"), [
                "-D",
                data,
                "--username=postgres",
                `--pwfile=${pwfile}`,
                ...initdbArgs,
            ]),
        );
        fs.rmSync(pwfile);
        // The image's entrypoint admits password logins from anywhere once a password is set.
        fs.appendFileSync(path.join(data, "pg_hba.conf"), "\nhost all all all scram-sha-256\n");
        report.substitute(
            "the postgres image's entrypoint (initdb, pg_hba.conf)",
            `Debian's initdb with POSTGRES_PASSWORD and POSTGRES_INITDB_ARGS from the StatefulSet, and the line the entrypoint appends: host all all all scram-sha-256`,
            "no container runtime here; the same steps, with the program's values",
        );
        // The Secret and ConfigMap the server mounts (postgresTls: its certificate, its pg_hba.conf),
        // as files the postgres user owns; the settings that name them, with their paths here.
        const mounted = mountVolumes(
            p,
            ns,
            p.podSpec("StatefulSet", ns, "postgres"),
            container,
            path.join(dir, "mounts"),
        );
        if (asRoot && mounted.length > 0) await must("chown", ["-R", "postgres", path.join(dir, "mounts")]);
        const rooted = (a: string) => mounted.reduce((t, [at, local]) => t.split(`${at}/`).join(`${local}/`), a);
        if (mounted.length > 0)
            report.substitute(
                `the server's Secret and ConfigMap volumes (${mounted.map(([at]) => at).join(", ")})`,
                `the same objects' files under ${path.join(dir, "mounts")}, owned by postgres, mode 0600 (the kubelet's 0640 root:postgres is the other mode PostgreSQL accepts for a key), and the settings naming them written with that path`,
                "no pods to mount them in",
            );
        const address = addressOf(ctx.names, service.host);
        report.substitute(
            `PostgreSQL listening on the pod's address (${service.host}:${service.port} through the Service)`,
            `listen_addresses=${address}, port ${service.port}`,
            "every Service has a loopback address of its own",
        );
        const child = procs.start(
            "postgres",
            ...asPostgres(path.join(tc.postgres.bin, "postgres"), [
                "-D",
                data,
                "-c",
                `listen_addresses=${address}`,
                "-p",
                String(service.port),
                "-c",
                `unix_socket_directories=${dir}`,
                ...container.args.map(rooted),
            ]),
        );
        await procs.waitForPort("postgres", child, address, service.port, 60_000);
        // The superuser connects as the init Job does (with postgresTls, verifying the server).
        const initEnv = p.containerEnv(ns, p.container("Job", ns, "postgres-init", "init")).env;
        return new Postgres(ctx, service.host, service.port, {
            host: service.host,
            port: service.port,
            user: "postgres",
            password: env.POSTGRES_PASSWORD,
            database: "postgres",
            sslmode: initEnv.PGSSLMODE,
            sslrootcert: initEnv.PGSSLROOTCERT && withLocalCa(ctx, ns, initEnv.PGSSLROOTCERT),
        });
    }

    /** psql with a login (the password from the environment, never the command line). */
    psql(login: PgLogin, sql: string, extra: string[] = []): Promise<RunResult> {
        return run(
            "psql",
            [
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-h",
                login.host,
                "-p",
                String(login.port),
                "-U",
                login.user,
                "-d",
                login.database,
                ...extra,
            ],
            {
                env: {
                    ...process.env,
                    PGPASSWORD: login.password,
                    PGCONNECT_TIMEOUT: "10",
                    ...(login.sslmode ? { PGSSLMODE: login.sslmode } : {}),
                    ...(login.sslrootcert ? { PGSSLROOTCERT: login.sslrootcert } : {}),
                },
                input: sql,
            },
        );
    }

    async query(login: PgLogin, sql: string): Promise<string> {
        const r = await this.psql(login, sql);
        if (r.code !== 0) throw new Error(tail(r.output, 8));
        return r.stdout.trim();
    }

    /** Roles and databases as the catalog has them: what the init SQL changes, and nothing else. */
    catalog(): Promise<string> {
        return this.query(
            this.superuser,
            "SELECT rolname || ' ' || coalesce(rolpassword, '') || ' ' || rolcanlogin || ' ' || rolcreatedb FROM pg_authid WHERE rolname !~ '^pg_' ORDER BY 1;" +
                "SELECT datname || ' ' || datdba::regrole || ' ' || coalesce(datacl::text, '') FROM pg_database ORDER BY 1;",
        );
    }

    /** The init Job: its command and environment, the SQL from its ConfigMap, unchanged. */
    async runInit(p: PlatformRun): Promise<RunResult> {
        const ns = Postgres.namespace(p);
        const job = p.container("Job", ns, "postgres-init", "init");
        const { env } = p.containerEnv(ns, job);
        const dir = path.join(this.ctx.work, "postgres-init");
        const mounted = mountVolumes(p, ns, p.podSpec("Job", ns, "postgres-init"), job, dir);
        const rooted = (a: string) => mounted.reduce((t, [at, local]) => t.split(`${at}/`).join(`${local}/`), a);
        this.ctx.report.substitute(
            `the init Job's volumes (${mounted.map(([at]) => at).join(", ")})`,
            `the same ConfigMaps' and Secrets' files under ${dir}, the paths in its command and environment read as those directories`,
            "no pods: the Job's own command runs on this machine",
        );
        const command = job.command.map(rooted);
        const local = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, rooted(v)]));
        return run(command[0], command.slice(1), { env: { ...process.env, ...local }, timeoutMs: 120_000 });
    }
}

// ---- Garage ----

/** JSON with every list sorted: Garage lists keys and buckets in no fixed order. */
export function canonical(value: unknown): string {
    const sort = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(sort).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
        if (typeof v === "object" && v !== null)
            return Object.fromEntries(
                Object.keys(v)
                    .sort()
                    .map((k) => [k, sort((v as Json)[k])]),
            );
        return v;
    };
    return JSON.stringify(sort(value));
}

export interface GarageNode {
    index: number;
    /** `garage-<i>.garage-headless.<ns>.svc.<domain>` */
    pod: string;
    address: string;
    config: string;
    id: string;
}

export class GarageCluster {
    private constructor(
        private readonly ctx: Context,
        readonly nodes: GarageNode[],
        readonly rpcSecret: string,
        readonly adminToken: string,
    ) {}

    static namespace(p: PlatformRun): string {
        return p.detail<string>("components.garage.namespace");
    }

    /** The StatefulSet's nodes, from garage.toml with only bind and data addresses substituted. */
    static async start(ctx: Context): Promise<GarageCluster> {
        const { p, tc, procs, work, report, names } = ctx;
        const ns = GarageCluster.namespace(p);
        const replicas = p.replicas("StatefulSet", ns, "garage");
        const container = p.container("StatefulSet", ns, "garage", "garage");
        const { env } = p.containerEnv(ns, container);
        const toml = p.configMap(ns, "garage-config")["garage.toml"];
        const s3 = p.detail<{ host: string; port: number }>("components.garage.services.s3");
        const domain = s3.host.split(".svc.")[1];
        const nodes: GarageNode[] = [];
        for (let i = 0; i < replicas; i++) {
            const pod = `garage-${i}.garage-headless.${ns}.svc.${domain}`;
            const address = addressOf(names, pod);
            const config = parseToml(toml) as Json;
            const dir = path.join(work, `garage-${i}`);
            const port = (addr: unknown) => String(addr).split(":").pop();
            config.metadata_dir = path.join(dir, "meta");
            config.data_dir = path.join(dir, "data");
            config.rpc_bind_addr = `${address}:${port(config.rpc_bind_addr)}`;
            config.rpc_public_addr = `${address}:${port(config.rpc_bind_addr)}`;
            const s3Api = config.s3_api as Json;
            // The S3 Service's address goes to the first node; the others serve S3 on their own.
            s3Api.api_bind_addr = `${i === 0 ? addressOf(names, s3.host) : address}:${port(s3Api.api_bind_addr)}`;
            const admin = config.admin as Json;
            admin.api_bind_addr = `${address}:${port(admin.api_bind_addr)}`;
            delete config.kubernetes_discovery;
            fs.mkdirSync(dir, { recursive: true });
            const file = path.join(dir, "garage.toml");
            fs.writeFileSync(file, toToml(config));
            nodes.push({ index: i, pod, address, config: file, id: "" });
        }
        report.substitute(
            "garage.toml metadata_dir, data_dir (the pod's volumes)",
            "a directory per node under the suite's work directory",
            "no volumes",
        );
        report.substitute(
            "garage.toml rpc_bind_addr, s3_api.api_bind_addr, admin.api_bind_addr ([::]:port in a pod)",
            "each node's own loopback address (the S3 Service's address on the first node), same ports; rpc_public_addr set to it",
            "every pod and Service has a loopback address of its own",
        );
        report.substitute(
            "garage.toml [kubernetes_discovery] (nodes find each other through GarageNode objects)",
            "removed; once all nodes are up, the first node connects to the others (garage node connect)",
            "no Kubernetes API; that feature is not compiled into the crates.io build either",
        );
        report.substitute(
            "the Garage container's env from the garage-daemon Secret",
            "the same values, as environment variables",
            "Secrets reach containers as environment variables",
        );

        const child = (n: GarageNode) =>
            procs.start(`garage-${n.index}`, tc.garage.bin, ["-c", n.config, "server"], {
                env: { ...process.env, ...env },
            });
        const children = nodes.map(child);
        const cluster = new GarageCluster(ctx, nodes, env.GARAGE_RPC_SECRET, env.GARAGE_ADMIN_TOKEN);
        await Promise.all(
            nodes.map((n, i) => procs.waitForPort(`garage-${n.index}`, children[i], n.address, 3903, 60_000)),
        );
        for (const n of nodes) {
            const info = (await cluster.admin(n, "GetNodeInfo?node=self")) as {
                success: Record<string, { nodeId: string }>;
            };
            n.id = Object.values(info.success)[0].nodeId;
        }
        for (const n of nodes.slice(1)) {
            await must(tc.garage.bin, ["node", "connect", `${n.id}@${n.address}:3901`], { env: cluster.cliEnv() });
        }
        return cluster;
    }

    /** Environment of the garage CLI: the first node over RPC, the cluster's secret. */
    cliEnv(): NodeJS.ProcessEnv {
        const first = this.nodes[0];
        return { ...process.env, GARAGE_RPC_HOST: `${first.id}@${first.pod}:3901`, GARAGE_RPC_SECRET: this.rpcSecret };
    }

    garage(args: string[]): Promise<RunResult> {
        return run(this.ctx.tc.garage.bin, args, { env: this.cliEnv() });
    }

    /** The admin API v2 of a node (bearer token from the daemon's Secret). */
    async admin(node: GarageNode, call: string, body?: unknown): Promise<unknown> {
        const res = await fetch(`http://${node.pod}:3903/v2/${call}`, {
            method: body === undefined ? "GET" : "POST",
            headers: {
                Authorization: `Bearer ${this.adminToken}`,
                ...(body === undefined ? {} : { "Content-Type": "application/json" }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`admin API ${call}: HTTP ${res.status}: ${text.slice(0, 300)}`);
        return JSON.parse(text) as unknown;
    }

    /** Layout, buckets and their keys, keys and their buckets: all the bootstrap changes. */
    async snapshot(): Promise<string> {
        const n = this.nodes[0];
        const layout = (await this.admin(n, "GetClusterLayout")) as Json;
        const buckets = (await this.admin(n, "ListBuckets")) as { id: string }[];
        const keys = (await this.admin(n, "ListKeys")) as { id: string }[];
        const bucketInfo = await Promise.all(buckets.map((b) => this.admin(n, `GetBucketInfo?id=${b.id}`)));
        const keyInfo = await Promise.all(keys.map((k) => this.admin(n, `GetKeyInfo?id=${k.id}`)));
        return canonical({
            layout: { version: layout.version, roles: layout.roles, staged: layout.stagedRoleChanges },
            bucketInfo,
            keyInfo,
        });
    }

    /** The bootstrap Job of a run of the program (layout, buckets, keys checked against the Secrets, grants). */
    runBootstrap(p: PlatformRun): Promise<RunResult> {
        return this.runJob(p, "garage-bootstrap", "bootstrap", "garage-bootstrap", "bootstrap.sh");
    }

    /** The key retirement Job of a run that rotated a key. */
    runRetire(p: PlatformRun): Promise<RunResult> {
        return this.runJob(p, "garage-retire-keys", "retire", "garage-retire-keys", "retire.sh");
    }

    /**
     * A Garage Job: its script from the ConfigMap, run by busybox's sh with busybox's applets,
     * against the real `garage` CLI, with the Job container's environment.
     */
    private async runJob(
        p: PlatformRun,
        jobName: string,
        containerName: string,
        configMap: string,
        file: string,
    ): Promise<RunResult> {
        const { tc, work, report } = this.ctx;
        const ns = GarageCluster.namespace(p);
        const job = p.container("Job", ns, jobName, containerName);
        const { env } = p.containerEnv(ns, job);
        const dir = path.join(work, jobName);
        const tools = path.join(dir, "tools");
        const root = path.join(dir, "root");
        const scripts = path.join(dir, "scripts");
        for (const d of [tools, root, scripts]) fs.mkdirSync(d, { recursive: true });
        fs.copyFileSync(tc.busybox.bin, path.join(tools, "busybox"));
        fs.chmodSync(path.join(tools, "busybox"), 0o755);
        if (!fs.existsSync(path.join(root, "garage"))) fs.symlinkSync(tc.garage.bin, path.join(root, "garage"));
        fs.writeFileSync(path.join(scripts, file), p.configMap(ns, configMap)[file]);
        report.substitute(
            `the ${jobName} Job's /tools (busybox copied by the init container), / (the Garage image's CLI) and /scripts (the ConfigMap)`,
            `${tools}, ${root} and ${scripts}: the same busybox applets, the real garage CLI, the same script`,
            "no pods: the Job's own command runs on this machine",
        );
        const mapped = (s: string) => s.replace(/\/tools/g, tools).replace(/\/scripts/g, scripts);
        const command = job.command.map(mapped);
        const pathVar = env.PATH.split(":")
            .map((d) => (d === "/tools" ? tools : d === "/" ? root : d))
            .join(":");
        return run(command[0], command.slice(1), {
            env: { ...env, PATH: pathVar, BOOTSTRAP_RETRY_SECONDS: "1" },
            timeoutMs: 300_000,
        });
    }

    async stop(): Promise<void> {
        for (const n of this.nodes) await this.ctx.procs.stop(`garage-${n.index}`);
    }
}

// ---- Hive Metastore ----

export class Metastore {
    private constructor(
        readonly host: string,
        readonly port: number,
    ) {}

    /** A metastore container's env (the Deployment's server, or the schema Job's schematool) and the two files, in a conf directory of its own. */
    static conf(
        ctx: Context,
        name: string,
        workload: { kind: string; name: string; container: string } = {
            kind: "Deployment",
            name: "hive-metastore",
            container: "metastore",
        },
    ): { dir: string; env: Record<string, string>; container: ReturnType<PlatformRun["container"]> } {
        const { p, work } = ctx;
        const ns = Postgres.namespace(p);
        const container = p.container(workload.kind, ns, workload.name, workload.container);
        const { env } = p.containerEnv(ns, container);
        const dir = path.join(work, name, "conf");
        fs.mkdirSync(dir, { recursive: true });
        const files = p.configMap(ns, "hive-metastore-conf");
        // The JDBC URL's CA file (postgresTls) at this machine's copy of the ConfigMap the pods mount.
        for (const f of ["core-site.xml", "hive-site.xml"])
            fs.writeFileSync(path.join(dir, f), withLocalCa(ctx, ns, files[f]));
        return { dir, env, container };
    }

    private static java(
        ctx: Context,
        conf: string,
        env: Record<string, string>,
        jvm: string[],
        main: string,
        args: string[],
    ) {
        const { tc } = ctx;
        const classpath = [conf, ...tc.metastore.classpath].join(":");
        return {
            command: tc.java17,
            args: [...jvm, "-cp", classpath, main, ...args],
            env: { ...process.env, ...env, METASTORE_HOME: tc.metastore.home },
        };
    }

    /** schematool with a container's environment (`-dbType $DB_DRIVER <command>`). */
    private static schematoolRun(
        ctx: Context,
        name: string,
        dir: string,
        env: Record<string, string>,
        command: string,
    ): Promise<RunResult> {
        const j = Metastore.java(
            ctx,
            dir,
            env,
            [],
            "org.apache.hadoop.hive.metastore.tools.schematool.MetastoreSchemaTool",
            ["-dbType", env.DB_DRIVER, command],
        );
        return run(j.command, j.args, { env: j.env, timeoutMs: 300_000, log: ctx.procs.logOf(`${name}-schematool`) });
    }

    /**
     * The schema Job: what its command runs (`$HIVE_HOME/bin/schematool -dbType "$DB_DRIVER" <command>`,
     * read from the Job), with the Job container's environment and files.
     */
    static async schemaJob(ctx: Context, name = "hive-metastore-schema"): Promise<RunResult> {
        const { dir, env, container } = Metastore.conf(ctx, name, {
            kind: "Job",
            name: "hive-metastore-schema",
            container: "schematool",
        });
        const m = /"\$HIVE_HOME\/bin\/schematool" -dbType "\$DB_DRIVER" (-\w+)$/m.exec(container.command.join("\n"));
        if (!m)
            throw new Error(
                `the schema Job does not run schematool -dbType "$DB_DRIVER" <command>: ${container.command.join(" ")}`,
            );
        ctx.report.substitute(
            "the schema Job's command (the entrypoint's conf links, then $HIVE_HOME/bin/schematool)",
            `MetastoreSchemaTool's main with the Job's arguments (-dbType ${env.DB_DRIVER} ${m[1]}), its env and its two files first on the classpath`,
            "no pods; the bin/schematool launcher runs that class",
        );
        return Metastore.schematoolRun(ctx, name, dir, env, m[1]);
    }

    /**
     * A metastore pod: the image's entrypoint runs schematool first unless IS_RESUME is true, then
     * the server, with the Deployment's env (SERVICE_OPTS as JVM options) and the program's two
     * files as its configuration.
     */
    static async start(ctx: Context, name = "hive-metastore", address?: string): Promise<Metastore> {
        const { p, report, procs } = ctx;
        const service = p.detail<{ host: string; port: number }>("components.database.services.hiveMetastore");
        const { dir, env } = Metastore.conf(ctx, name);
        if (env.IS_RESUME !== "true") {
            const r = await Metastore.schematoolRun(ctx, name, dir, env, "-initOrUpgradeSchema");
            if (r.code !== 0) throw new Error(`${name}: the entrypoint's schematool failed:\n${tail(r.output)}`);
        }
        const bind = address ?? addressOf(ctx.names, service.host);
        const jvm = [...(env.SERVICE_OPTS ?? "").split(/\s+/).filter(Boolean), `-Dmetastore.thrift.bind.host=${bind}`];
        report.substitute(
            "the hive-metastore-conf ConfigMap mounted into HIVE_CUSTOM_CONF_DIR",
            `${dir} (core-site.xml and hive-site.xml unchanged) first on the classpath`,
            "no pods",
        );
        report.substitute(
            "the metastore listening on all of the pod's addresses",
            `-Dmetastore.thrift.bind.host=${bind} (a system property, as the image passes SERVICE_OPTS)`,
            "every Service has a loopback address of its own",
        );
        report.substitute(
            "the apache/hive image's Hadoop (HADOOP_CLASSPATH=/opt/hadoop/share/hadoop/tools/lib/*) and /opt/hive/lib",
            `the standalone metastore's jars with Hadoop ${ctx.tc.metastore.hadoop} (common, hdfs, mapreduce, aws) and the JDBC driver from the program's URL, from Maven Central`,
            "no container registry; the same releases",
        );
        report.substitute(
            "the metastore's env from its Secrets (METASTORE_DB_PASSWORD, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
            "the same values, as environment variables",
            "Secrets reach containers as environment variables",
        );
        const j = Metastore.java(ctx, dir, env, jvm, "org.apache.hadoop.hive.metastore.HiveMetaStore", []);
        const child = procs.start(name, j.command, j.args, { env: j.env });
        await procs.waitForPort(name, child, bind, service.port, 180_000);
        return new Metastore(bind === addressOf(ctx.names, service.host) ? service.host : bind, service.port);
    }

    /** A thrift call, as a client makes it: the databases the metastore lists (a compiled HiveMetaStoreClient probe). */
    async databases(ctx: Context): Promise<string[]> {
        const { tc, work } = ctx;
        const out = path.join(work, "metastore-probe");
        if (!fs.existsSync(path.join(out, "MetastoreProbe.class"))) {
            fs.mkdirSync(out, { recursive: true });
            const source = path.join(PROJECT_DIR, "tests", "e2e", "java", "MetastoreProbe.java");
            await must(path.join(path.dirname(tc.java17), "javac"), [
                "-nowarn",
                "-cp",
                tc.metastore.classpath.join(":"),
                "-d",
                out,
                source,
            ]);
        }
        const r = await run(
            tc.java17,
            ["-cp", [out, ...tc.metastore.classpath].join(":"), "MetastoreProbe", `thrift://${this.host}:${this.port}`],
            { timeoutMs: 120_000 },
        );
        if (r.code !== 0) throw new Error(`thrift://${this.host}:${this.port}: ${tail(r.output, 6)}`);
        return r.stdout.trim().split("\n").pop()!.split(",").filter(Boolean);
    }
}

// ---- Trino ----

/** What stands in for the chart's Trino here, and why (the report's substitutions). */
function reportTrinoSubstitutions(
    report: Report,
    used: string,
    service: { host: string; port: number },
    address: string,
): void {
    report.substitute(
        "the chart's coordinator and workers (config.properties, node.properties, jvm.config it renders)",
        `one node, coordinator with node-scheduler.include-coordinator=true, port ${service.port}, query memory and heap from the values`,
        "one machine; the chart is not rendered here",
    );
    report.substitute(
        "the trino image (bin/launcher)",
        `trino-main and the Iceberg plugin ${used} from Maven Central, started by io.trino.server.Server as TrinoServer's main does`,
        "no container registry; Trino's tarball is published on GitHub only since 477",
    );
    report.substitute(
        `Trino listening on the pod's address (${service.host}:${service.port} through the Service)`,
        `node.bind-ip=${address}`,
        "every Service has a loopback address of its own",
    );
    report.substitute(
        "Trino's Garage Secret through values.envFrom",
        "the same values, as environment variables",
        "Secrets reach containers as environment variables",
    );
}

/** Polls `/v1/info` until Trino says it is no longer starting (two minutes at most). */
async function finishedStarting(host: string, port: number): Promise<boolean> {
    for (let i = 0; i < 120; i++) {
        try {
            const info = (await (await fetch(`http://${host}:${port}/v1/info`)).json()) as {
                starting: boolean;
            };
            if (!info.starting) return true;
        } catch {
            // not yet
        }
        await sleep(1000);
    }
    return false;
}

/** What the Python client (py/trino_sql.py) connects with. */
export interface TrinoClient {
    host: string;
    port: number;
    user: string;
    http_scheme: "http" | "https";
    /** A login's token (JWT). */
    token?: string;
    /** The CA file the server's certificate must chain to. */
    verify?: string;
}

/**
 * How a client reaches the stack's Trino: with `trinoAuthentication`, over HTTPS at the published
 * address as `login` (its password from its Secret), verifying the certificate with the CA's
 * ConfigMap (rendered by the certificates chart); without, over HTTP as `user`.
 */
export function trinoClient(ctx: Context, login = "admin", user = "e2e"): TrinoClient {
    const { p } = ctx;
    const service = p.detail<{ host: string; port: number; url: string }>("components.trino.services.coordinator");
    if (!service.url.startsWith("https://"))
        return { host: service.host, port: service.port, user, http_scheme: "http" };
    const found = p.objects.find((o) => o.type.endsWith(":Secret") && o.objectName === loginSecretName(login));
    if (!found) throw new Error(`the program issues no Trino login ${login} (Secret ${loginSecretName(login)})`);
    const secret = p.secret(found.namespace, found.objectName);
    return {
        host: service.host,
        port: service.port,
        user: secret[LOGIN_KEYS.username],
        token: secret[LOGIN_KEYS.token],
        http_scheme: "https",
        verify: caFile(ctx, p.detail<string>("components.trino.namespace")),
    };
}

/**
 * A text naming the CA's file as a pod mounts it (`${CA_DIR}/ca.crt`, the CA's ConfigMap of
 * `namespace`), with this machine's copy of the same file instead.
 */
export function withLocalCa(ctx: Context, namespace: string, text: string): string {
    if (!text.includes(`${CA_DIR}/`)) return text;
    const dir = path.join(ctx.work, "ca", namespace);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "ca.crt"), ctx.p.configMap(namespace, TRUST_CONFIGMAP)["ca.crt"]);
    return text.split(`${CA_DIR}/`).join(`${dir}/`);
}

/** The platform CA's certificate, from the ConfigMap in `namespace`, as a file clients verify with. */
export function caFile(ctx: Context, namespace: string): string {
    return withLocalCa(ctx, namespace, `${CA_DIR}/ca.crt`);
}

export class Trino {
    private constructor(
        readonly host: string,
        /** Plain HTTP: /v1/info, and queries when Trino does not authenticate. */
        readonly port: number,
        readonly catalog: string,
        /** With `trinoAuthentication`: the HTTPS port clients use. */
        readonly httpsPort?: number,
    ) {}

    /**
     * One Trino node from the chart values: the catalogs from `values.catalogs` written unchanged
     * (null ones dropped, as the chart drops them), the environment from `values.envFrom`, the heap
     * and query memory from the values; with authentication, the properties the chart adds to
     * config.properties (HTTPS, the authenticator and its key files, the internal shared secret),
     * the Secrets the coordinator mounts, and access-control.properties with the rules.
     * `extraCatalogs` are added beside them (the negative controls).
     */
    static async start(ctx: Context, extraCatalogs: Record<string, string> = {}): Promise<Trino> {
        const { p, tc, work, report, procs, names } = ctx;
        const values = p.helmValues("trino");
        const ns = p.detail<string>("components.trino.namespace");
        const service = p.detail<{ host: string; port: number }>("components.trino.services.coordinator");
        const catalogName = p.detail<string>("components.trino.catalog");
        const address = addressOf(names, service.host);
        const dir = path.join(work, "trino");
        const etc = path.join(dir, "etc");
        fs.mkdirSync(path.join(etc, "catalog"), { recursive: true });
        const catalogs = values.catalogs as Record<string, string | null>;
        for (const [name, text] of Object.entries({ ...catalogs, ...extraCatalogs })) {
            if (text !== null) fs.writeFileSync(path.join(etc, "catalog", `${name}.properties`), text);
        }
        const server = values.server as Json;
        const config = server.config as Json;
        const coordinator = values.coordinator as Json;
        const query = (config.query as Json).maxMemory as string;
        const perNode = (((coordinator.config as Json).query as Json).maxMemoryPerNode as string) ?? "1GB";
        const httpPort = Number(((values.service as Json | undefined)?.port as number | undefined) ?? 8080);
        const https = config.https as { enabled?: boolean; port: number; keystore: { path: string } } | undefined;
        const lines = [
            `coordinator=true`,
            `node-scheduler.include-coordinator=true`,
            `http-server.http.port=${httpPort}`,
            `discovery.uri=http://${address}:${httpPort}`,
            `query.max-memory=${query}`,
            `query.max-memory-per-node=${perNode}`,
        ];
        // The Secrets the coordinator mounts (values.coordinator.secretMounts), as files at a path
        // of this machine; every property naming a mounted file is written with that path.
        const mounts: [string, string][] = [];
        for (const m of (coordinator.secretMounts as Json[] | undefined) ?? []) {
            const local = path.join(dir, "mounts", String(m.name));
            fs.mkdirSync(local, { recursive: true, mode: 0o700 });
            for (const [file, text] of Object.entries(p.secret(ns, String(m.secretName))))
                fs.writeFileSync(path.join(local, file), text, { mode: 0o600 });
            mounts.push([String(m.path).replace(/\/$/, ""), local]);
        }
        const rooted = (v: string) => mounts.reduce((t, [at, local]) => t.split(`${at}/`).join(`${local}/`), v);
        if (typeof config.authenticationType === "string" && config.authenticationType !== "")
            lines.push(`http-server.authentication.type=${config.authenticationType}`);
        // The properties the chart writes into the coordinator's config.properties: every node's, then its own.
        for (const line of (values.additionalConfigProperties as string[] | undefined) ?? []) lines.push(rooted(line));
        const extra = typeof server.coordinatorExtraConfig === "string" ? server.coordinatorExtraConfig : "";
        for (const line of extra.split("\n")) if (line.trim() !== "") lines.push(rooted(line));
        if (https?.enabled)
            lines.push(
                "http-server.https.enabled=true",
                `http-server.https.port=${https.port}`,
                `http-server.https.keystore.path=${rooted(https.keystore.path)}`,
            );
        if (mounts.length > 0)
            report.substitute(
                `the coordinator's Secret volumes (${mounts.map(([at]) => at).join(", ")})`,
                `the same Secrets' files under ${path.join(dir, "mounts")}, and the properties that name them written with that path`,
                "no pods to mount them in",
            );
        const access = values.accessControl as
            { type: string; refreshPeriod?: string; configFile?: string; rules: Record<string, string> } | undefined;
        if (access?.type === "configmap") {
            const file = access.configFile ?? "rules.json";
            fs.writeFileSync(path.join(etc, file), access.rules[file]);
            fs.writeFileSync(
                path.join(etc, "access-control.properties"),
                [
                    "access-control.name=file",
                    ...(access.refreshPeriod ? [`security.refresh-period=${access.refreshPeriod}`] : []),
                    `security.config-file=${path.join(etc, file)}`,
                    "",
                ].join("\n"),
            );
            lines.push(`access-control.config-files=${path.join(etc, "access-control.properties")}`);
        }
        fs.writeFileSync(path.join(etc, "config.properties"), [...lines, ""].join("\n"));
        reportTrinoSubstitutions(report, tc.trino.used, service, address);
        const env: Record<string, string> = {};
        for (const from of (values.envFrom as Json[] | undefined) ?? [])
            if (from.secretRef) Object.assign(env, p.secret(ns, String((from.secretRef as Json).name)));
        const heap = String((coordinator.jvm as Json).maxHeapSize);
        const jvm = [
            `-Xmx${heap}`,
            "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError",
            "--add-modules=jdk.incubator.vector",
            "--enable-native-access=ALL-UNNAMED",
            "-Djdk.attach.allowAttachSelf=true",
            "-XX:+EnableDynamicAgentLoading",
            `-Dnode.environment=${String((server.node as Json).environment)}`,
            "-Dnode.id=e2e-coordinator",
            `-Dnode.data-dir=${path.join(dir, "data")}`,
            `-Dnode.bind-ip=${address}`,
            `-Dnode.internal-address=${address}`,
            `-Dconfig=${path.join(etc, "config.properties")}`,
            `-Dcatalog.config-dir=${path.join(etc, "catalog")}`,
            `-Dplugin.dir=${path.join(tc.trino.home, "plugin")}`,
        ];
        const child = procs.start(
            "trino",
            tc.java25,
            [...jvm, "-cp", path.join(tc.trino.home, "lib", "*"), tc.trino.launcher],
            { cwd: dir, env: { ...process.env, ...env } },
        );
        await procs.waitForPort("trino", child, address, https?.enabled ? https.port : httpPort, 300_000);
        // Listening is not serving: wait for the server to finish starting.
        if (await finishedStarting(service.host, httpPort))
            return new Trino(service.host, httpPort, catalogName, https?.enabled ? https.port : undefined);
        throw new Error(`Trino did not finish starting:\n${tail(procs.read("trino"))}`);
    }
}
