// Installs the platform's real software from the registries into a cache of the suite's own,
// outside the checkout (LAKEHOUSE_E2E_CACHE, default ~/.cache/lakehouse-platform-e2e), so fresh
// clones and CI reuse it: Garage compiled from crates.io, Trino and the Hive Metastore assembled
// from Maven Central, dbt and the clients from PyPI, busybox and PostgreSQL from Debian. Each
// version comes from the program's own config where it names one (images, the JDBC driver URL);
// where the pinned version cannot be had, the nearest that can is used, and the report says so.
import { XMLBuilder } from "fast-xml-parser";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { must, run, sleep } from "./procs";
import { dagsterLibraryVersion, PINS } from "./versions";

export interface Installed {
    /** What the program asks for, and what runs here. */
    pinned: string;
    used: string;
    /** Why they differ, when they do. */
    note?: string;
}

export interface Toolchain {
    cache: string;
    garage: Installed & { bin: string };
    busybox: Installed & { bin: string };
    postgres: Installed & { bin: string };
    java17: string;
    java25: string;
    trino: Installed & { home: string; launcher: string };
    metastore: Installed & { home: string; classpath: string[]; hadoop: string; jdbcDriver: string };
    python: Installed & { bin: string; dbt: string };
    /** Dagster at the chart's version, with the libraries its instance and the code location load (absent when the stack has no Dagster). */
    dagster?: Installed & { bin: string; python: string; dbt: string; packages: string[] };
    /** oauth2-proxy, Dagster's login (dagsterLogin), built from the Go module proxy when the stack has the login. */
    oauth2Proxy?: { bin: string; used: string };
}

export interface Wanted {
    /** `dxflrs/garage:v2.3.0` → 2.3.0 */
    garage: string;
    /** `apache/hive:4.0.1` → 4.0.1 */
    hive: string;
    /** `postgres:17.6` → 17.6 */
    postgres: string;
    /** `busybox:1.37.0-musl` → 1.37.0 */
    busybox: string;
    /** Maven coordinates of the JDBC driver the metastore's init container downloads. */
    jdbc: { group: string; artifact: string; version: string };
    /** `dagster/dagster-celery-k8s:1.9.4` → 1.9.4, when the stack deploys Dagster. */
    dagster?: string;
}

export function cacheDir(): string {
    return (
        process.env.LAKEHOUSE_E2E_CACHE ??
        path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "lakehouse-platform-e2e")
    );
}

type Say = (line: string) => void;

/** Runs `step` unless `<dir>/.done` says it ran with the same key; a failed step leaves no marker. */
async function cached<T>(
    dir: string,
    key: string,
    say: Say,
    what: string,
    step: () => Promise<T>,
    read: () => T,
): Promise<T> {
    const marker = path.join(dir, ".done");
    if (fs.existsSync(marker) && fs.readFileSync(marker, "utf8") === key) return read();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    say(`installing ${what} (first run; cached in ${dir})`);
    const started = Date.now();
    // A long step prints that it is alive.
    let done = false;
    void (async () => {
        while (!done) {
            await sleep(60_000);
            if (!done) say(`  ... still installing ${what} (${Math.round((Date.now() - started) / 60_000)} min)`);
        }
    })();
    try {
        const result = await step();
        fs.writeFileSync(marker, key);
        say(`installed ${what} in ${Math.round((Date.now() - started) / 1000)} s`);
        return result;
    } finally {
        done = true;
    }
}

// ---- Garage, from crates.io ----

/**
 * The features Garage is built with: its defaults and the discovery of the upstream image's build,
 * Kubernetes (the program's garage.toml configures `[kubernetes_discovery]`) and Consul. Both
 * matter: with Kubernetes discovery alone, Garage 2.3.0 built by cargo panics at its first request
 * to the API server (kube 3's rustls-tls selects no rustls crypto provider; Consul discovery's
 * reqwest brings aws-lc-rs, the one it then uses). The same binary runs here and in the real
 * node's image.
 */
export const GARAGE_FEATURES = ["kubernetes-discovery", "consul-discovery"];

/**
 * The optimisation level Garage is compiled at. Upstream's release build uses cargo's release
 * profile (3); here 0, because Garage's compile is most of a cold CI run on two cores (52 of its
 * first 63 minutes at 3, beside the Go builds) and LLVM's optimisation is most of that compile.
 * Level 0 is what Garage's own developers run every day (cargo's dev profile; its integration tests
 * run such builds); unlike the dev profile, debug assertions and overflow checks stay off as in
 * release. The source, version and features are upstream's; only speed differs, and the suites move
 * kilobytes. The level a binary was built at is written beside it (`opt-level`) and the image
 * report names it; a binary cached before this file existed was built at 3.
 */
export const GARAGE_OPT_LEVEL = "0";

/** The optimisation level the cached Garage at `bin` was compiled at (see GARAGE_OPT_LEVEL). */
export function garageOptLevel(bin: string): string {
    const f = path.join(path.dirname(path.dirname(bin)), "opt-level");
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim() : "3";
}

async function installGarage(cache: string, want: string, say: Say): Promise<Toolchain["garage"]> {
    const dir = path.join(cache, `garage-${want}`);
    const bin = path.join(dir, "bin", "garage");
    await cached(
        dir,
        `${want} +${GARAGE_FEATURES.join(",")}`,
        say,
        `Garage ${want} (cargo install from crates.io, with ${GARAGE_FEATURES.join(", ")}, opt-level ${GARAGE_OPT_LEVEL}; 15 to 30 min on two cores)`,
        async () => {
            await must(
                "cargo",
                [
                    "install",
                    "garage",
                    "--version",
                    want,
                    "--locked",
                    "--features",
                    GARAGE_FEATURES.join(","),
                    "--root",
                    dir,
                ],
                {
                    log: path.join(cache, "logs", `garage-${want}.log`),
                    timeoutMs: 60 * 60_000,
                    // Compiled dependencies kept: a rebuild (another feature, a new version) reuses what it can.
                    env: {
                        ...process.env,
                        CARGO_TARGET_DIR: path.join(cache, "cargo-target"),
                        CARGO_PROFILE_RELEASE_OPT_LEVEL: GARAGE_OPT_LEVEL,
                    },
                },
            );
            fs.writeFileSync(path.join(dir, "opt-level"), `${GARAGE_OPT_LEVEL}\n`);
        },
        () => undefined,
    );
    return { pinned: want, used: want, bin };
}

// ---- Debian packages ----

async function debianVersion(pkg: string): Promise<string | undefined> {
    const r = await run("dpkg-query", ["-W", "-f", "${Version}", pkg]);
    return r.code === 0 && r.stdout.trim() !== "" ? r.stdout.trim() : undefined;
}

async function aptGet(args: string[], cwd?: string): Promise<void> {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    let r = await run("apt-get", args, { env, cwd });
    if (r.code !== 0) {
        await must("apt-get", ["update", "-qq"], { env });
        r = await run("apt-get", args, { env, cwd });
    }
    if (r.code !== 0) throw new Error(`apt-get ${args.join(" ")} failed:\n${r.output}`);
}

/** Debian's static busybox, unpacked into the cache (no system change). */
async function installBusybox(cache: string, want: string, say: Say): Promise<Toolchain["busybox"]> {
    const dir = path.join(cache, "busybox-static");
    const bin = path.join(dir, "root", "bin", "busybox");
    const version = await cached(
        dir,
        "busybox-static",
        say,
        "Debian's busybox-static",
        async () => {
            await aptGet(["download", "busybox-static"], dir);
            const deb = fs.readdirSync(dir).find((f) => f.endsWith(".deb"))!;
            await must("dpkg-deb", ["-x", path.join(dir, deb), path.join(dir, "root")]);
            const v = (await must("dpkg-deb", ["-f", path.join(dir, deb), "Version"])).stdout.trim();
            fs.writeFileSync(path.join(dir, "version"), v);
            return v;
        },
        () => fs.readFileSync(path.join(dir, "version"), "utf8"),
    );
    const upstream = version.replace(/^\d+:/, "").replace(/-.*$/, "");
    return {
        pinned: want,
        used: upstream,
        bin,
        note:
            upstream === want
                ? undefined
                : `busybox ${want} is not a Debian package here; Debian's busybox-static ${version} runs the script`,
    };
}

/** Debian's PostgreSQL server (the system package: initdb and pg_ctl run as the postgres user). */
async function installPostgres(want: string, say: Say): Promise<Toolchain["postgres"]> {
    const find = () =>
        fs.existsSync("/usr/lib/postgresql")
            ? fs
                  .readdirSync("/usr/lib/postgresql")
                  .filter((v) => fs.existsSync(`/usr/lib/postgresql/${v}/bin/postgres`))
                  .sort((a, b) => Number(a) - Number(b))
            : [];
    if (find().length === 0) {
        say("installing Debian's postgresql package");
        await aptGet(["install", "-y", "-qq", "postgresql"]);
    }
    const major = find().pop()!;
    const wantMajor = want.split(".")[0];
    const version = (await debianVersion(`postgresql-${major}`)) ?? major;
    return {
        pinned: want,
        used: version,
        bin: `/usr/lib/postgresql/${major}/bin`,
        note:
            major === wantMajor
                ? undefined
                : `PostgreSQL ${wantMajor} is not a Debian package of this release; PostgreSQL ${major} (${version}) runs the init SQL (it needs psql 15+ for \\getenv, which both have)`,
    };
}

// ---- Maven Central ----

const xml = new XMLBuilder({ format: true, ignoreAttributes: false });

function pom(
    name: string,
    dependencies: {
        groupId: string;
        artifactId: string;
        version: string;
        exclusions?: { groupId: string; artifactId: string }[];
    }[],
): string {
    return xml.build({
        project: {
            "@_xmlns": "http://maven.apache.org/POM/4.0.0",
            modelVersion: "4.0.0",
            groupId: "lakehouse-platform.e2e",
            artifactId: name,
            version: "1",
            packaging: "pom",
            dependencies: {
                dependency: dependencies.map((d) => ({
                    groupId: d.groupId,
                    artifactId: d.artifactId,
                    version: d.version,
                    ...(d.exclusions ? { exclusions: { exclusion: d.exclusions } } : {}),
                })),
            },
        },
    });
}

function mvn(cache: string, java: string): (args: string[], log: string) => Promise<void> {
    return async (args, log) => {
        const env = { ...process.env, JAVA_HOME: path.dirname(path.dirname(java)) };
        await must("mvn", ["-B", "-q", `-Dmaven.repo.local=${path.join(cache, "m2")}`, ...args], {
            env,
            log,
            timeoutMs: 40 * 60_000,
        });
    };
}

/** `dependency:copy-dependencies` of one artifact into `out`: the artifact and its runtime dependencies. */
async function copyDependencies(
    cache: string,
    java: string,
    name: string,
    deps: Parameters<typeof pom>[1],
    out: string,
): Promise<void> {
    const dir = path.join(cache, "maven", name);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "pom.xml");
    fs.writeFileSync(file, pom(name, deps));
    await mvn(cache, java)(
        ["-f", file, "dependency:copy-dependencies", "-DincludeScope=runtime", `-DoutputDirectory=${out}`],
        path.join(cache, "logs", `maven-${name}.log`),
    );
}

/** Versions to try for a pinned one, nearest first (480, 481, 479, 482, ...). */
export function nearestVersions(pinned: string, spread = 8): string[] {
    const n = Number(pinned);
    const out = [pinned];
    for (let d = 1; d <= spread; d++) out.push(String(n + d), String(n - d));
    return out;
}

/** The `provided` dependencies of a Trino plugin: the server's own SPI, which the plugin's folder must not hold. */
function providedOf(pomFile: string): string[] {
    const text = fs.readFileSync(pomFile, "utf8");
    const out: string[] = [];
    for (const m of text.matchAll(/<dependency>([\s\S]*?)<\/dependency>/g)) {
        if (/<scope>provided<\/scope>/.test(m[1])) out.push(/<artifactId>(.*?)<\/artifactId>/.exec(m[1])![1]);
    }
    return out;
}

/**
 * Trino's server: `trino-main` and its runtime dependencies as `lib/`, the Iceberg connector as
 * `plugin/iceberg/`, assembled as the release tarball has them (published on GitHub only since 477).
 * Two steps of Trino's own packaging are repeated: the plugin folder leaves out the SPI the server
 * provides, and holds the service descriptor naming the plugin's class.
 */
/**
 * Trino `version` from Maven Central: trino-main, the Iceberg plugin without what the server
 * provides (plus its service file), and a main class like TrinoServer's.
 */
async function downloadTrino(cache: string, java25: string, version: string, dir: string): Promise<void> {
    await copyDependencies(
        cache,
        java25,
        `trino-server-${version}`,
        [{ groupId: "io.trino", artifactId: "trino-main", version }],
        path.join(dir, "lib"),
    );
    const plugin = path.join(dir, "plugin", "iceberg");
    await copyDependencies(
        cache,
        java25,
        `trino-iceberg-${version}`,
        [{ groupId: "io.trino", artifactId: "trino-iceberg", version }],
        plugin,
    );
    const provided = providedOf(
        path.join(cache, "m2", "io", "trino", "trino-iceberg", version, `trino-iceberg-${version}.pom`),
    );
    for (const jar of fs.readdirSync(plugin)) {
        if (provided.some((a) => new RegExp(`^${a}-\\d`).test(jar))) fs.rmSync(path.join(plugin, jar));
    }
    const services = path.join(dir, "services", "META-INF", "services");
    fs.mkdirSync(services, { recursive: true });
    fs.writeFileSync(path.join(services, "io.trino.spi.Plugin"), "io.trino.plugin.iceberg.IcebergPlugin\n");
    await must(path.join(path.dirname(java25), "jar"), [
        "cf",
        path.join(plugin, `trino-iceberg-${version}-services.jar`),
        "-C",
        path.join(dir, "services"),
        "META-INF",
    ]);
    // What TrinoServer's main does (trino-server-main is not on Maven Central after 368).
    fs.writeFileSync(
        path.join(dir, "TrinoMain.java"),
        `public class TrinoMain { public static void main(String[] args) { new io.trino.server.Server().start("${version}"); } }\n`,
    );
}

async function installTrino(cache: string, java25: string, say: Say): Promise<Toolchain["trino"]> {
    const tried: string[] = [];
    // Versions that did not resolve are not asked again for a day (a registry may add them later).
    const memo = path.join(cache, "trino-unresolvable.json");
    const unresolvable = (fs.existsSync(memo) ? JSON.parse(fs.readFileSync(memo, "utf8")) : {}) as Record<
        string,
        string
    >;
    for (const version of nearestVersions(PINS.trino)) {
        const dir = path.join(cache, `trino-${version}`);
        const since = unresolvable[version];
        if (since && Date.now() - Date.parse(since) < 24 * 3600_000 && !fs.existsSync(path.join(dir, ".done"))) {
            tried.push(version);
            continue;
        }
        try {
            await cached(
                dir,
                version,
                say,
                `Trino ${version} (trino-main and trino-iceberg from Maven Central, about 500 MB)`,
                () => downloadTrino(cache, java25, version, dir),
                () => undefined,
            );
            const note =
                version === PINS.trino
                    ? undefined
                    : `Trino ${PINS.trino} (the chart's appVersion) does not resolve from the registries here (${tried.join(", ")} tried); ${version} is the nearest that does`;
            return { pinned: PINS.trino, used: version, home: dir, launcher: path.join(dir, "TrinoMain.java"), note };
        } catch (e) {
            tried.push(version);
            fs.rmSync(dir, { recursive: true, force: true });
            unresolvable[version] = new Date().toISOString();
            fs.writeFileSync(memo, JSON.stringify(unresolvable, null, 2));
            say(
                `  Trino ${version} does not resolve: ${
                    (e instanceof Error ? e.message : String(e))
                        .split("\n")
                        .find((l) => /could not be resolved|not found/i.test(l))
                        ?.slice(0, 200) ?? "failed"
                }`,
            );
        }
    }
    throw new Error(`no Trino version near ${PINS.trino} resolves from Maven Central (${tried.join(", ")})`);
}

/**
 * The standalone Hive Metastore (its binary tarball: jars and schema scripts) with the Hadoop of
 * that Hive release (the apache/hive image ships the full Hadoop distribution) and the JDBC driver
 * the program's init container downloads.
 */
/** Hive's standalone metastore from Maven Central, the Hadoop it is built against and the JDBC driver; returns that Hadoop version. */
async function downloadMetastore(cache: string, java17: string, want: Wanted, dir: string): Promise<string> {
    const run = mvn(cache, java17);
    await run(
        [
            "dependency:copy",
            `-Dartifact=org.apache.hive:hive-standalone-metastore-server:${want.hive}:tar.gz:bin`,
            `-DoutputDirectory=${dir}`,
        ],
        path.join(cache, "logs", "maven-hive.log"),
    );
    await must("tar", ["xzf", path.join(dir, `hive-standalone-metastore-server-${want.hive}-bin.tar.gz`), "-C", dir]);
    // The standalone metastore's parent pom says which Hadoop this Hive release is built against.
    await run(
        [
            "dependency:get",
            `-Dartifact=org.apache.hive:hive-standalone-metastore:${want.hive}:pom`,
            "-Dtransitive=false",
        ],
        path.join(cache, "logs", "maven-hive.log"),
    );
    // The Hadoop version this Hive release is built against.
    const parent = fs.readFileSync(
        path.join(
            cache,
            "m2",
            "org",
            "apache",
            "hive",
            "hive-standalone-metastore",
            want.hive,
            `hive-standalone-metastore-${want.hive}.pom`,
        ),
        "utf8",
    );
    const hadoop = /<hadoop\.version>([^<]+)<\/hadoop\.version>/.exec(parent)?.[1];
    if (!hadoop) throw new Error(`hive-standalone-metastore ${want.hive}'s pom names no hadoop.version`);
    const h = (artifactId: string) => ({ groupId: "org.apache.hadoop", artifactId, version: hadoop });
    await copyDependencies(
        cache,
        java17,
        `hadoop-${hadoop}`,
        [
            h("hadoop-common"),
            h("hadoop-hdfs-client"),
            h("hadoop-hdfs"),
            h("hadoop-mapreduce-client-core"),
            h("hadoop-aws"),
        ],
        path.join(dir, "hadoop"),
    );
    await copyDependencies(
        cache,
        java17,
        "jdbc-driver",
        [{ groupId: want.jdbc.group, artifactId: want.jdbc.artifact, version: want.jdbc.version }],
        path.join(dir, "jdbc"),
    );
    fs.writeFileSync(path.join(dir, "hadoop-version"), hadoop);
    return hadoop;
}

async function installMetastore(
    cache: string,
    java17: string,
    want: Wanted,
    say: Say,
): Promise<Toolchain["metastore"]> {
    const dir = path.join(cache, `hive-metastore-${want.hive}`);
    const key = `${want.hive} ${want.jdbc.group}:${want.jdbc.artifact}:${want.jdbc.version}`;
    const info = await cached(
        dir,
        key,
        say,
        `Hive Metastore ${want.hive} with Hadoop and the JDBC driver (Maven Central, about 500 MB)`,
        () => downloadMetastore(cache, java17, want, dir),
        () => fs.readFileSync(path.join(dir, "hadoop-version"), "utf8"),
    );
    const home = path.join(dir, `apache-hive-metastore-${want.hive}-bin`);
    const jars = (d: string) =>
        fs
            .readdirSync(d)
            .filter((f) => f.endsWith(".jar"))
            .map((f) => path.join(d, f));
    // The tarball bundles a PostgreSQL driver; the image has none, and gets the program's.
    const classpath = [
        ...jars(path.join(home, "lib")).filter((j) => !/\/postgresql-[\d.]+\.jar$/.test(j)),
        ...jars(path.join(dir, "hadoop")),
        ...jars(path.join(dir, "jdbc")),
    ];
    const jdbcDriver = jars(path.join(dir, "jdbc")).find((j) =>
        path.basename(j).startsWith(`${want.jdbc.artifact}-${want.jdbc.version}`),
    )!;
    return { pinned: want.hive, used: want.hive, home, classpath, hadoop: info, jdbcDriver };
}

// ---- PyPI ----

/** A virtualenv of its own (`<cache>/<name>`) holding exactly `packages`, made again when they change. */
async function venv(cache: string, name: string, packages: string[], what: string, say: Say): Promise<string> {
    const dir = path.join(cache, name);
    await cached(
        dir,
        packages.join(" "),
        say,
        what,
        async () => {
            await must("python3", ["-m", "venv", dir]);
            await must(path.join(dir, "bin", "pip"), ["install", "-q", ...packages], {
                log: path.join(cache, "logs", `pip-${name}.log`),
                timeoutMs: 30 * 60_000,
            });
        },
        () => undefined,
    );
    return dir;
}

async function installPython(cache: string, say: Say): Promise<Toolchain["python"]> {
    const packages = [
        `dbt-core==${PINS.dbtCore}`,
        `dbt-trino==${PINS.dbtTrino}`,
        `trino==${PINS.trinoClient}`,
        `boto3==${PINS.boto3}`,
    ];
    const dir = await venv(
        cache,
        "venv",
        packages,
        `dbt-core ${PINS.dbtCore}, dbt-trino ${PINS.dbtTrino} and the clients (PyPI)`,
        say,
    );
    return {
        pinned: `dbt-trino ${PINS.dbtTrino}`,
        used: `dbt-trino ${PINS.dbtTrino}`,
        bin: path.join(dir, "bin", "python"),
        dbt: path.join(dir, "bin", "dbt"),
    };
}

/**
 * Dagster at the version of the chart's images, in a virtualenv of its own: the webserver and the
 * daemon (dagster-webserver), the instance's storage and compute logs (dagster-postgres,
 * dagster-aws) and the code location's dbt (dagster-dbt, with the dbt it requires).
 */
async function installDagster(cache: string, version: string, say: Say): Promise<NonNullable<Toolchain["dagster"]>> {
    const lib = dagsterLibraryVersion(version);
    const packages = [
        `dagster==${version}`,
        `dagster-webserver==${version}`,
        `dagster-postgres==${lib}`,
        `dagster-aws==${lib}`,
        `dagster-dbt==${lib}`,
        `dbt-core==${PINS.dagsterDbtCore}`,
        `dbt-trino==${PINS.dagsterDbtTrino}`,
        `SQLAlchemy==${PINS.dagsterSqlalchemy}`,
    ];
    const dir = await venv(
        cache,
        `venv-dagster-${version}`,
        packages,
        `Dagster ${version} and its libraries (PyPI)`,
        say,
    );
    return {
        pinned: version,
        used: version,
        bin: path.join(dir, "bin"),
        python: path.join(dir, "bin", "python"),
        dbt: path.join(dir, "bin", "dbt"),
        packages,
    };
}

// ---- Java ----

function findJava(major: number): string | undefined {
    const dirs = fs.existsSync("/usr/lib/jvm") ? fs.readdirSync("/usr/lib/jvm") : [];
    const dir = dirs.find(
        (d) => new RegExp(`(^|-)${major}(-|$)`).test(d) && fs.existsSync(`/usr/lib/jvm/${d}/bin/java`),
    );
    return dir ? `/usr/lib/jvm/${dir}/bin/java` : undefined;
}

/** Installs (or finds in the cache) everything, Garage's compile in parallel to the downloads. */
export async function install(want: Wanted, say: Say): Promise<Toolchain> {
    const { rest, garage } = startInstall(want, say);
    return { ...(await rest), garage: await garage };
}

/**
 * Starts every install: `rest` is everything but Garage, `garage` its compile, which is still
 * running when the rest is ready on a new machine (what needs no Garage can go on meanwhile).
 */
export function startInstall(
    want: Wanted,
    say: Say,
): { rest: Promise<Omit<Toolchain, "garage">>; garage: Promise<Toolchain["garage"]> } {
    const cache = cacheDir();
    fs.mkdirSync(path.join(cache, "logs"), { recursive: true });
    const garage = installGarage(cache, want.garage, say);
    // Awaited by the caller; a failure of the rest must not leave it unhandled meanwhile.
    garage.catch(() => undefined);
    return { rest: installRest(cache, want, say), garage };
}

async function installRest(cache: string, want: Wanted, say: Say): Promise<Omit<Toolchain, "garage">> {
    const java17 = findJava(17);
    const java25 = findJava(25);
    if (!java17) throw new Error("no Java 17 in /usr/lib/jvm (the Hive Metastore runs on it)");
    if (!java25)
        throw new Error(
            "no Java 25 in /usr/lib/jvm (Trino 480 requires it; a Temurin 25 JDK is expected beside the default Java)",
        );
    const [busybox, postgres] = [
        await installBusybox(cache, want.busybox, say),
        await installPostgres(want.postgres, say),
    ];
    const python = await installPython(cache, say);
    const dagster = want.dagster ? await installDagster(cache, want.dagster, say) : undefined;
    const trino = await installTrino(cache, java25, say);
    const metastore = await installMetastore(cache, java17, want, say);
    return { cache, busybox, postgres, java17, java25, trino, metastore, python, dagster };
}
