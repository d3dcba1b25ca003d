// The images the platform runs, built here from what the registries serve (no container registry
// is reachable): a Debian base from Debian's packages (mmdebstrap), the same software at the same
// version where it can be had (Garage from crates.io, PostgreSQL and busybox from Debian, the Hive
// Metastore and Trino from Maven Central, Dagster and dbt from PyPI: the end-to-end suite's
// installs, tests/e2e/install.ts), laid out as the upstream image's Dockerfile lays it out (its
// user, paths, entrypoint and environment). What differs is said per image, for the report. Each
// image is an OCI layout in a cache of its own, made once per key (its inputs' versions and
// files); a warm run rebuilds nothing.
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DBT_PROFILE } from "../../../components/dagster";
import { must, run } from "../../e2e/procs";
import { GARAGE_FEATURES, garageOptLevel, type Toolchain } from "../../e2e/install";
import { PINS, dagsterLibraryVersion } from "../../e2e/versions";
import { planted } from "../../cluster/plants";
import { ensureTool, VERSIONS } from "../../cluster/tools";
import { ImageConfig, writeLayout } from "./oci";

const FILES = path.join(__dirname, "files");
/** The source of the image files: the TypeScript tree's (the compiled tree holds no .c or .sh). */
const SOURCE_FILES = fs.existsSync(FILES)
    ? FILES
    : path.resolve(__dirname, "..", "..", "..", "..", "tests", "node", "images", "files");
const DEBIAN = "http://deb.debian.org/debian";
/** Bumped when the way images are built changes, so that every cached image is built again. */
const BUILDER = "1";

export function imageCacheDir(): string {
    return (
        process.env.LAKEHOUSE_IMAGE_CACHE ??
        path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "lakehouse-platform-images")
    );
}

/** One image: the references the program names it by, how it is made here, and what differs from upstream. */
export interface ImageSpec {
    id: string;
    /** Repository:tag as the program names them (a mirror prefixes them). */
    refs: string[];
    upstream: string;
    builtFrom: string;
    differs: string;
    /** What the image is made of, as text: its cache key (with the files it copies, hashed). */
    key: string[];
    files: string[];
    build(work: string, log: string): Promise<{ layers: string[]; config: ImageConfig }>;
}

export interface BuiltImage {
    spec: ImageSpec;
    layout: string;
    /** Whether this run built it (false: found in the cache). */
    built: boolean;
    seconds: number;
}

function file(name: string): string {
    return path.join(SOURCE_FILES, name);
}

/** The repository the files come from: keys name files relative to it, so any clone shares the cache. */
const REPO = path.resolve(SOURCE_FILES, "..", "..", "..", "..");

function hashFiles(files: string[]): string {
    const h = createHash("sha256");
    for (const f of files) h.update(path.relative(REPO, f)).update("\0").update(fs.readFileSync(f)).update("\0");
    return h.digest("hex").slice(0, 16);
}

/** A layer tarball of a folder, as root owns it unless the folder's own owners are to stay. */
async function tarDir(dir: string, out: string): Promise<string> {
    await must("tar", ["--numeric-owner", "--xattrs", "-C", dir, "-cf", out, "."]);
    return out;
}

/** A Debian root file system (mmdebstrap), its packages and customizations, as one tarball. */
async function debian(
    out: string,
    log: string,
    suite: "bullseye" | "bookworm" | "trixie",
    opts: { variant?: string; include?: string[]; essential?: string[]; customize?: string[] },
): Promise<string> {
    const args = [
        `--variant=${opts.variant ?? "minbase"}`,
        '--aptopt=Acquire::Retries "3"',
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        ...(opts.include?.length ? [`--include=${opts.include.join(",")}`] : []),
        ...(opts.essential ?? []).map((h) => `--essential-hook=${h}`),
        ...(opts.customize ?? []).map((h) => `--customize-hook=${h}`),
        suite,
        out,
        DEBIAN,
    ];
    await must("mmdebstrap", args, { log, timeoutMs: 30 * 60_000 });
    return out;
}

/** The shared libraries a binary loads (ldd), to lay out an image that has nothing else. */
async function sharedLibraries(bin: string): Promise<string[]> {
    // A static binary: ldd says "not a dynamic executable" and exits 1.
    const r = await run("ldd", [bin]);
    return r.stdout
        .split("\n")
        .map((l) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(l)?.[1])
        .filter((l): l is string => l !== undefined);
}

/** A scratch image's root: the binary, its libraries, and the few files a process expects. */
async function scratchRoot(root: string, binaries: Record<string, string>, passwd: string[]): Promise<void> {
    fs.mkdirSync(path.join(root, "etc"), { recursive: true });
    fs.mkdirSync(path.join(root, "tmp"), { mode: 0o1777 });
    fs.chmodSync(path.join(root, "tmp"), 0o1777);
    fs.writeFileSync(path.join(root, "etc", "passwd"), passwd.join("\n") + "\n");
    fs.writeFileSync(
        path.join(root, "etc", "group"),
        passwd
            .map((l) => l.split(":"))
            .map(([n, , , g]) => `${n}:x:${g}:`)
            .join("\n") + "\n",
    );
    for (const [dest, src] of Object.entries(binaries)) {
        fs.mkdirSync(path.dirname(path.join(root, dest)), { recursive: true });
        fs.copyFileSync(src, path.join(root, dest));
        fs.chmodSync(path.join(root, dest), 0o755);
        for (const lib of await sharedLibraries(src)) {
            fs.mkdirSync(path.dirname(path.join(root, lib)), { recursive: true });
            fs.copyFileSync(fs.realpathSync(lib), path.join(root, lib));
        }
    }
}

/**
 * Every image of the platform but Airbyte's (whose software exists only as images) and Garage's
 * (garageImageSpec).
 */
export function imageSpecsButGarage(tc: Omit<Toolchain, "garage">): ImageSpec[] {
    const dagster = tc.dagster?.used ?? "1.9.4";
    const lib = dagsterLibraryVersion(dagster);
    const dagsterPackages = [
        `dagster==${dagster}`,
        `dagster-webserver==${dagster}`,
        `dagster-graphql==${dagster}`,
        `dagster-postgres==${lib}`,
        `dagster-aws==${lib}`,
        `dagster-k8s==${lib}`,
        `dagster-celery==${lib}`,
        `dagster-celery-k8s==${lib}`,
        `SQLAlchemy==${PINS.dagsterSqlalchemy}`,
    ];
    const codePackages = [
        ...dagsterPackages,
        `dagster-dbt==${lib}`,
        `dbt-core==${PINS.dagsterDbtCore}`,
        `dbt-trino==${PINS.dagsterDbtTrino}`,
    ];
    const trinoHome = tc.trino.home;
    const metastoreDir = path.dirname(tc.metastore.home);
    return [
        {
            id: "pause",
            refs: ["pause:3.10.1"],
            upstream: "registry.k8s.io/pause:3.10.1 (FROM scratch, a static /pause, user 65535)",
            builtFrom: "tests/node/images/files/pause.c, compiled static with the machine's gcc",
            differs:
                "the program is the suite's own, written to the pause binary's behaviour (hold the namespaces, reap children, exit 0 on SIGINT/SIGTERM)",
            key: ["gcc -Os -static"],
            files: [file("pause.c")],
            async build(work) {
                const root = path.join(work, "root");
                fs.mkdirSync(root, { recursive: true });
                await must("gcc", [
                    "-Os",
                    "-Wall",
                    "-Werror",
                    "-static",
                    "-o",
                    path.join(root, "pause"),
                    file("pause.c"),
                ]);
                await must("strip", [path.join(root, "pause")]);
                return {
                    layers: [await tarDir(root, path.join(work, "layer.tar"))],
                    config: { user: "65535:65535", entrypoint: ["/pause"] },
                };
            },
        },
        busyboxImage(
            "busybox",
            ["library/busybox:1.37.0-musl", "library/busybox:1.37.0-uclibc"],
            "busybox:1.37.0-musl (FROM scratch, a static busybox with its applets in /bin, CMD sh)",
            "trixie",
            "busybox 1.37.0 linked statically against glibc, not musl or uclibc",
        ),
        // The Dagster chart's init containers wait with `nslookup`; from 1.31 on, busybox's nslookup
        // exits 1 when any name of the search list misses, even once one resolved (seen on this
        // node: the webserver never started). 1.30.1 behaves as 1.28 does.
        busyboxImage(
            "busybox-1.28",
            ["library/busybox:1.28"],
            "busybox:1.28 (FROM scratch, a static busybox with its applets in /bin, CMD sh)",
            "bullseye",
            "busybox 1.30.1 (Debian bullseye's, the nearest Debian has; its nslookup behaves as 1.28's), static against glibc",
        ),
        {
            id: "curl",
            // 8.12.1: the tag the fault run and the removed-rule check switch the wiring checks to.
            refs: ["curlimages/curl:8.11.1", "curlimages/curl:8.12.1"],
            upstream:
                "curlimages/curl:8.11.1 (alpine 3.21, curl, user curl_user 100:101, ENTRYPOINT /entrypoint.sh, CMD curl)",
            builtFrom:
                "Debian trixie (mmdebstrap) with curl and ca-certificates, the same user, entrypoint and CA bundle path",
            differs:
                "curl 8.14.1 (Debian trixie's) for 8.11.1 and 8.12.1, on Debian with dash as sh instead of Alpine's busybox ash",
            key: [`trixie curl ca-certificates${BROKEN_PACKAGE ? ` ${BROKEN_PACKAGE}` : ""}`],
            files: [file("curl-entrypoint.sh")],
            async build(work, log) {
                const rootfs = await debian(path.join(work, "rootfs.tar"), log, "trixie", {
                    include: ["curl", "ca-certificates", ...(BROKEN_PACKAGE ? [BROKEN_PACKAGE] : [])],
                    customize: [
                        'chroot "$1" groupadd -g 101 curl_group',
                        'chroot "$1" useradd -u 100 -g 101 -m -d /home/curl_user -s /bin/sh curl_user',
                        `cp ${file("curl-entrypoint.sh")} "$1/entrypoint.sh"`,
                        'chmod 755 "$1/entrypoint.sh"',
                        'ln -s /etc/ssl/certs/ca-certificates.crt "$1/cacert.pem"',
                    ],
                });
                return {
                    layers: [rootfs],
                    config: {
                        user: "curl_user",
                        workingDir: "/home/curl_user",
                        env: [
                            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                            "CURL_CA_BUNDLE=/cacert.pem",
                        ],
                        entrypoint: ["/entrypoint.sh"],
                        cmd: ["curl"],
                    },
                };
            },
        },
        {
            id: "postgres",
            refs: ["library/postgres:17.6", "library/postgres:14.6"],
            upstream:
                "postgres:17.6 (Debian, postgres 999:999, PGDATA /var/lib/postgresql/data, docker-entrypoint.sh, CMD postgres)",
            builtFrom:
                "Debian trixie's postgresql-17 (mmdebstrap), the same user, paths and environment; tests/node/images/files/postgres-entrypoint.sh as docker-entrypoint.sh",
            differs:
                "PostgreSQL 17.12 (Debian trixie's) for 17.6; 14.6 (the Dagster chart's init containers, pg_isready only) is served by the same image (Debian has no 14); LANG C.UTF-8 instead of a generated en_US.utf8; the entrypoint is the suite's own, drops privileges with setpriv instead of gosu",
            key: ["trixie postgresql-17"],
            files: [file("postgres-entrypoint.sh")],
            async build(work, log) {
                const rootfs = await debian(path.join(work, "rootfs.tar"), log, "trixie", {
                    include: ["postgresql-17", "postgresql-client-17"],
                    // The user and group the image's runs rely on, before the package makes its own.
                    essential: [
                        // (the user tools are not installed yet at this point: the files, as useradd writes them)
                        'echo "postgres:x:999:" >> "$1/etc/group"',
                        'echo "postgres:x:999:999::/var/lib/postgresql:/bin/bash" >> "$1/etc/passwd"',
                        'echo "postgres:*:20000:0:99999:7:::" >> "$1/etc/shadow"',
                        'mkdir -p "$1/etc/postgresql-common" && echo "create_main_cluster = false" > "$1/etc/postgresql-common/createcluster.conf"',
                    ],
                    customize: [
                        // As the upstream image: the sample configuration listens everywhere.
                        'sed -ri "s!^#?(listen_addresses)\\s*=\\s*\\S+.*!\\1 = \'*\'!" "$1/usr/share/postgresql/17/postgresql.conf.sample"',
                        'mkdir -p "$1/docker-entrypoint-initdb.d" "$1/var/run/postgresql" "$1/var/lib/postgresql/data"',
                        'chown -R 999:999 "$1/var/run/postgresql" "$1/var/lib/postgresql"',
                        'chmod 3777 "$1/var/run/postgresql" && chmod 1777 "$1/var/lib/postgresql/data"',
                        `cp ${file("postgres-entrypoint.sh")} "$1/usr/local/bin/docker-entrypoint.sh"`,
                        'chmod 755 "$1/usr/local/bin/docker-entrypoint.sh"',
                    ],
                });
                return {
                    layers: [rootfs],
                    config: {
                        env: [
                            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/17/bin",
                            "LANG=C.UTF-8",
                            "PG_MAJOR=17",
                            "PGDATA=/var/lib/postgresql/data",
                        ],
                        entrypoint: ["docker-entrypoint.sh"],
                        cmd: ["postgres"],
                        stopSignal: "SIGINT",
                        exposedPorts: ["5432/tcp"],
                    },
                };
            },
        },
        {
            id: "hive",
            refs: [`apache/hive:${tc.metastore.used}`],
            upstream: `apache/hive:${tc.metastore.used} (openjdk 8, Hive at /opt/hive, Hadoop at /opt/hadoop, user hive 1000, ENTRYPOINT sh -c /entrypoint.sh)`,
            builtFrom: `Debian bookworm with OpenJDK 17; the standalone Hive Metastore ${tc.metastore.used} and Hadoop ${tc.metastore.hadoop}'s jars from Maven Central (the end-to-end suite's download) in the image's paths; tests/node/images/files/hive-entrypoint.sh as /entrypoint.sh`,
            differs: `the standalone metastore's distribution (no HiveServer2: the platform runs only the metastore), Hadoop's jars without its tarball's scripts (tests/node/images/files/hadoop stands for bin/hadoop), Java 17 for Java 8, no PostgreSQL driver (the program's init container brings it, as upstream)`,
            key: [`hive ${tc.metastore.used} hadoop ${tc.metastore.hadoop} bookworm openjdk-17`],
            files: [file("hive-entrypoint.sh"), file("hadoop")],
            async build(work, log) {
                const rootfs = await debian(path.join(work, "rootfs.tar"), log, "bookworm", {
                    include: ["openjdk-17-jre-headless", "procps"],
                    customize: [
                        'chroot "$1" groupadd -g 1000 hive',
                        'chroot "$1" useradd -u 1000 -g 1000 -m -d /home/hive -s /bin/bash hive',
                        'mkdir -p "$1/opt/hadoop/bin" "$1/opt/hadoop/etc/hadoop" "$1/opt/hadoop/share/hadoop/common/lib" "$1/opt/hadoop/share/hadoop/tools/lib"',
                        `cp -r ${tc.metastore.home} "$1/opt/hive"`,
                        'rm -f "$1"/opt/hive/lib/postgresql-*.jar',
                        `cp ${metastoreDir}/hadoop/*.jar "$1/opt/hadoop/share/hadoop/common/lib/"`,
                        'mv "$1"/opt/hadoop/share/hadoop/common/lib/hadoop-aws-*.jar "$1"/opt/hadoop/share/hadoop/common/lib/aws-java-sdk-bundle-*.jar "$1/opt/hadoop/share/hadoop/tools/lib/"',
                        `printf '%s\\n' ${tc.metastore.hadoop} > "$1/opt/hadoop/VERSION"`,
                        `cp ${file("hadoop")} "$1/opt/hadoop/bin/hadoop"`,
                        `cp ${file("hive-entrypoint.sh")} "$1/entrypoint.sh"`,
                        'chmod 755 "$1/entrypoint.sh" "$1/opt/hadoop/bin/hadoop" "$1"/opt/hive/bin/*',
                        'chown -R 1000:1000 "$1/opt/hive" "$1/opt/hadoop"',
                    ],
                });
                return {
                    layers: [rootfs],
                    config: {
                        user: "hive",
                        workingDir: "/opt/hive",
                        env: [
                            "PATH=/opt/hive/bin:/opt/hadoop/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                            "HIVE_HOME=/opt/hive",
                            "HADOOP_HOME=/opt/hadoop",
                            "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64",
                            // What Hive's bin/hive sets (the standalone distribution's scripts do not):
                            // Hive's jars before Hadoop's (jline, log4j, jackson, protobuf of its own).
                            "HADOOP_USER_CLASSPATH_FIRST=true",
                        ],
                        entrypoint: ["sh", "-c", "/entrypoint.sh"],
                        exposedPorts: ["9083/tcp"],
                    },
                };
            },
        },
        {
            id: "trino",
            refs: [`trinodb/trino:${tc.trino.pinned}`],
            upstream: `trinodb/trino:${tc.trino.pinned} (ubi9, Temurin JDK 25, /usr/lib/trino, /etc/trino, /data/trino, user trino 1000, CMD run-trino)`,
            builtFrom: `Debian trixie with OpenJDK 25; Trino ${tc.trino.used}'s server jars and Iceberg plugin from Maven Central (the end-to-end suite's download) in /usr/lib/trino; run-trino, health-check and libjvmkill.so of tests/node/images/files`,
            differs: `Trino ${tc.trino.used} for ${tc.trino.pinned}${tc.trino.note ? ` (${tc.trino.note})` : ""}; only the Iceberg plugin (the platform's one catalog); OpenJDK 25 from Debian for Temurin 25; run-trino starts the server's main class itself (the launcher is in trino-server's tarball, on GitHub only); jvmkill is the suite's own JVMTI agent`,
            key: [`trino ${tc.trino.used} trixie openjdk-25`],
            files: [file("run-trino"), file("health-check"), file("jvmkill.c")],
            async build(work, log) {
                const java25 = path.dirname(tc.java25);
                const jdk = path.dirname(java25);
                // The launcher's main class, compiled against the server's jars.
                const classes = path.join(work, "classes");
                fs.mkdirSync(classes);
                await must(
                    path.join(java25, "javac"),
                    ["-cp", `${trinoHome}/lib/*`, "-d", classes, tc.trino.launcher],
                    { log },
                );
                const mainJar = path.join(work, "lakehouse-main.jar");
                await must(path.join(java25, "jar"), ["cf", mainJar, "-C", classes, "."], { log });
                const agent = path.join(work, "libjvmkill.so");
                await must("gcc", [
                    "-shared",
                    "-fPIC",
                    "-Wall",
                    "-Werror",
                    "-O2",
                    `-I${jdk}/include`,
                    `-I${jdk}/include/linux`,
                    "-o",
                    agent,
                    file("jvmkill.c"),
                ]);
                const defaults = path.join(work, "etc");
                fs.mkdirSync(path.join(defaults, "catalog"), { recursive: true });
                fs.writeFileSync(
                    path.join(defaults, "node.properties"),
                    "node.environment=docker\nnode.data-dir=/data/trino\n",
                );
                fs.writeFileSync(
                    path.join(defaults, "config.properties"),
                    "coordinator=true\nnode-scheduler.include-coordinator=true\nhttp-server.http.port=8080\ndiscovery.uri=http://localhost:8080\n",
                );
                fs.writeFileSync(
                    path.join(defaults, "jvm.config"),
                    "-server\n-agentpath:/usr/lib/trino/bin/libjvmkill.so\n-XX:InitialRAMPercentage=80\n-XX:MaxRAMPercentage=80\n-XX:+ExitOnOutOfMemoryError\n-Djdk.attach.allowAttachSelf=true\n",
                );
                fs.writeFileSync(path.join(defaults, "log.properties"), "#io.trino=DEBUG\n");
                const rootfs = await debian(path.join(work, "rootfs.tar"), log, "trixie", {
                    include: ["openjdk-25-jre-headless", "curl", "less"],
                    customize: [
                        'chroot "$1" groupadd -g 1000 trino',
                        'chroot "$1" useradd -u 1000 -g 1000 -m -d /home/trino -s /bin/bash trino',
                        'mkdir -p "$1/usr/lib/trino/bin" "$1/usr/lib/trino/plugin" "$1/data/trino"',
                        `cp -r ${trinoHome}/lib "$1/usr/lib/trino/lib"`,
                        `cp ${mainJar} "$1/usr/lib/trino/lib/"`,
                        `cp -r ${trinoHome}/plugin/iceberg "$1/usr/lib/trino/plugin/iceberg"`,
                        `cp ${file("run-trino")} ${file("health-check")} ${agent} "$1/usr/lib/trino/bin/"`,
                        'chmod 755 "$1/usr/lib/trino/bin/run-trino" "$1/usr/lib/trino/bin/health-check"',
                        `cp -r ${defaults} "$1/etc/trino"`,
                        'chown -R 1000:1000 "$1/usr/lib/trino" "$1/data/trino" "$1/etc/trino"',
                    ],
                });
                return {
                    layers: [rootfs],
                    config: {
                        user: "trino:trino",
                        env: [
                            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/jvm/java-25-openjdk-amd64/bin",
                            "JAVA_HOME=/usr/lib/jvm/java-25-openjdk-amd64",
                            "CATALOG_MANAGEMENT=static",
                        ],
                        cmd: ["/usr/lib/trino/bin/run-trino"],
                        exposedPorts: ["8080/tcp"],
                    },
                };
            },
        },
        {
            id: "oauth2-proxy",
            refs: [`oauth2-proxy/oauth2-proxy:${VERSIONS.oauth2Proxy}`],
            upstream: `quay.io/oauth2-proxy/oauth2-proxy:${VERSIONS.oauth2Proxy} (distroless static, a static /bin/oauth2-proxy, user 65532, ENTRYPOINT /bin/oauth2-proxy)`,
            builtFrom: `oauth2-proxy ${VERSIONS.oauth2Proxy} from the Go module proxy (tests/cluster/build-tools.sh, CGO off: static, as upstream's), on scratch with the same path, user and entrypoint`,
            differs:
                "no CA bundle or time zone data (distroless has them): the platform's login talks to no HTTPS server",
            key: [`oauth2-proxy ${VERSIONS.oauth2Proxy} static`],
            files: [],
            async build(work, log) {
                const bin = await ensureTool("oauth2-proxy", (line) => fs.appendFileSync(log, `${line}\n`));
                const root = path.join(work, "root");
                await scratchRoot(root, { "bin/oauth2-proxy": bin }, [
                    "root:x:0:0:root:/root:/sbin/nologin",
                    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin",
                ]);
                return {
                    layers: [await tarDir(root, path.join(work, "layer.tar"))],
                    config: { user: "65532:65532", entrypoint: ["/bin/oauth2-proxy"] },
                };
            },
        },
        {
            id: "dagster",
            refs: [`dagster/dagster-celery-k8s:${dagster}`],
            upstream: `dagster/dagster-celery-k8s:${dagster} (python:3.x-slim, dagster and its integration libraries installed with pip, root, no entrypoint)`,
            builtFrom: `Debian bookworm's Python 3.11 (mmdebstrap) with ${dagsterPackages.join(", ")} from PyPI`,
            differs:
                "Debian's Python 3.11.2 for python:3.x-slim's, packages in /usr/local/lib/python3.11/dist-packages; without dagster-azure and dagster-gcp (the platform uses neither)",
            key: ["bookworm python3", ...dagsterPackages],
            files: [],
            build: (work, log) => pythonImage(work, log, dagsterPackages, []),
        },
        {
            id: "dbt-code",
            refs: [`lakehouse/dbt-code:${dagster}`],
            upstream: "the user's code location image (dagsterUserCodeImage): a user builds it",
            builtFrom: `the Dagster image's base with ${codePackages.slice(dagsterPackages.length).join(", ")} and the suite's code location (tests/e2e/py/dagster_location.py, a two-model dbt project, its manifest written by dbt parse)`,
            differs: "it is the suite's code, as a user's image would hold theirs",
            key: ["bookworm python3", ...codePackages, DBT_PROFILE],
            files: [path.resolve(SOURCE_FILES, "..", "..", "..", "e2e", "py", "dagster_location.py")],
            build: (work, log) =>
                pythonImage(
                    work,
                    log,
                    codePackages,
                    [
                        `mkdir -p "$1/opt/lakehouse/dbt/models" "$1/opt/lakehouse/parse-profile"`,
                        `cp ${path.resolve(SOURCE_FILES, "..", "..", "..", "e2e", "py", "dagster_location.py")} "$1/opt/lakehouse/dagster_location.py"`,
                        `printf 'name: lakehouse_node\\nversion: "1.0.0"\\nconfig-version: 2\\nprofile: ${DBT_PROFILE}\\nmodel-paths: ["models"]\\n' > "$1/opt/lakehouse/dbt/dbt_project.yml"`,
                        `printf "{{ config(materialized='table') }}\\nselect item, sum(amount) as total, count(*) as orders from {{ target.database }}.raw.orders group by item\\n" > "$1/opt/lakehouse/dbt/models/orders_by_item.sql"`,
                        `printf "{{ config(materialized='table') }}\\nselect item, total from {{ ref('orders_by_item') }} order by total desc limit 1\\n" > "$1/opt/lakehouse/dbt/models/top_item.sql"`,
                        // A build-time profile, as an image build has one: dbt parse reads no server.
                        `printf '${DBT_PROFILE}:\\n  target: build\\n  outputs:\\n    build:\\n      type: trino\\n      method: none\\n      user: build\\n      host: localhost\\n      port: 8080\\n      database: lakehouse\\n      schema: build\\n      threads: 1\\n' > "$1/opt/lakehouse/parse-profile/profiles.yml"`,
                        'chroot "$1" sh -c "cd /opt/lakehouse/dbt && DBT_SEND_ANONYMOUS_USAGE_STATS=false dbt parse --profiles-dir /opt/lakehouse/parse-profile --target build"',
                        'rm -rf "$1/opt/lakehouse/parse-profile" "$1/opt/lakehouse/dbt/logs"',
                        'chmod -R a+rX "$1/opt/lakehouse"',
                    ],
                    ["LAKEHOUSE_E2E_DBT_PROJECT=/opt/lakehouse/dbt", "DBT_SEND_ANONYMOUS_USAGE_STATS=false"],
                ),
        },
    ];
}

/** A scratch image of Debian's static busybox, its applets linked in /bin, as the busybox images lay it out. */
function busyboxImage(
    id: string,
    refs: string[],
    upstream: string,
    suite: "trixie" | "bullseye",
    differs: string,
): ImageSpec {
    return {
        id,
        refs,
        upstream,
        builtFrom: `Debian ${suite}'s busybox-static (mmdebstrap), its applets linked in /bin`,
        differs,
        key: [`${suite} busybox-static`],
        files: [],
        async build(work, log) {
            const extracted = await debian(path.join(work, "bb.tar"), log, suite, {
                variant: "extract",
                include: ["busybox-static"],
            });
            const x = path.join(work, "x");
            fs.mkdirSync(x);
            await must("tar", ["-C", x, "-xf", extracted]);
            const bin = ["usr/bin/busybox", "bin/busybox"].map((b) => path.join(x, b)).find((b) => fs.existsSync(b));
            if (!bin) throw new Error("busybox-static holds no busybox binary");
            const root = path.join(work, "root");
            await scratchRoot(root, { "bin/busybox": bin }, [
                "root:x:0:0:root:/root:/bin/sh",
                "nobody:x:65534:65534:nobody:/home:/bin/false",
            ]);
            fs.mkdirSync(path.join(root, "root"), { mode: 0o700 });
            const applets = (await must(bin, ["--list"])).stdout.split("\n").filter((a) => a && a !== "busybox");
            for (const a of applets) fs.linkSync(path.join(root, "bin", "busybox"), path.join(root, "bin", a));
            return {
                layers: [await tarDir(root, path.join(work, "layer.tar"))],
                config: { env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], cmd: ["sh"] },
            };
        },
    };
}

/**
 * The wheels of `packages` and their dependencies, made on this machine (the same CPython minor
 * as Debian bookworm's): downloaded, or built from a source distribution where PyPI has no wheel
 * (dbt-core 1.8's logbook 1.5), as pip builds them when it installs.
 */
async function wheelhouse(dir: string, packages: string[], log: string): Promise<void> {
    await must("python3", ["-m", "pip", "wheel", "-q", "-w", dir, ...packages], {
        log,
        timeoutMs: 30 * 60_000,
    });
}

async function pythonImage(
    work: string,
    log: string,
    packages: string[],
    customize: string[],
    env: string[] = [],
): Promise<{ layers: string[]; config: ImageConfig }> {
    const wheels = path.join(work, "wheels");
    await wheelhouse(wheels, packages, log);
    const rootfs = await debian(path.join(work, "rootfs.tar"), log, "bookworm", {
        include: ["python3", "python3-pip", "ca-certificates", "bash"],
        customize: [
            `cp -r ${wheels} "$1/tmp/wheels"`,
            `chroot "$1" python3 -m pip install -q --break-system-packages --no-index --find-links /tmp/wheels ${packages.map((p) => `'${p}'`).join(" ")}`,
            'rm -rf "$1/tmp/wheels" "$1/root/.cache"',
            ...customize,
        ],
    });
    return {
        layers: [rootfs],
        config: {
            env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", ...env],
            cmd: ["python3"],
        },
    };
}

/** Garage's image: the only one that needs Garage's compile, so the others build while it runs. */
export function garageImageSpec(garage: Toolchain["garage"]): ImageSpec {
    return {
        id: "garage",
        refs: [`dxflrs/garage:v${garage.used}`],
        upstream: `dxflrs/garage:v${garage.used} (FROM scratch, a static /garage, CMD /garage server, RUST_LOG=garage=info)`,
        builtFrom: `Garage ${garage.used} from crates.io (the end-to-end suite's cargo install, with ${GARAGE_FEATURES.join(" and ")}), its shared libraries beside it`,
        differs: `the binary is linked against glibc and carries its shared libraries (upstream's is static musl), compiled at opt-level ${garageOptLevel(garage.bin)} (upstream's release profile: 3); same path, command and environment`,
        key: [`garage ${garage.used}`, fs.statSync(garage.bin).mtimeMs.toString()],
        files: [],
        async build(work) {
            const root = path.join(work, "root");
            await scratchRoot(root, { garage: garage.bin }, [
                "root:x:0:0:root:/:/garage",
                "garage:x:1000:1000:garage:/:/garage",
            ]);
            return {
                layers: [await tarDir(root, path.join(work, "layer.tar"))],
                config: {
                    env: [
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "RUST_BACKTRACE=1",
                        "RUST_LOG=garage=info",
                    ],
                    cmd: ["/garage", "server"],
                },
            };
        },
    };
}

/** Planted (broken-image): a package Debian does not have, so that a real build fails for real. */
const BROKEN_PACKAGE = planted("broken-image") ? "lakehouse-planted-missing-package" : undefined;

/** The image's OCI layout in the cache, built when its key is new; `say` tells what is built. */
export async function buildImage(spec: ImageSpec, say: (line: string) => void): Promise<BuiltImage> {
    const cache = imageCacheDir();
    const key = createHash("sha256")
        .update([BUILDER, spec.id, ...spec.refs, ...spec.key, hashFiles(spec.files)].join("\n"))
        .digest("hex")
        .slice(0, 16);
    const layout = path.join(cache, "layouts", `${spec.id}-${key}`);
    if (fs.existsSync(path.join(layout, ".done"))) return { spec, layout, built: false, seconds: 0 };
    const started = Date.now();
    // A new machine has no cache folder yet (a cold .ci/warm stopped here: ENOENT).
    fs.mkdirSync(cache, { recursive: true });
    const work = fs.mkdtempSync(path.join(cache, `work-${spec.id}-`));
    const log = path.join(cache, "logs", `${spec.id}.log`);
    fs.mkdirSync(path.dirname(log), { recursive: true });
    fs.writeFileSync(log, "");
    say(`  building image ${spec.refs[0]} (${spec.builtFrom.slice(0, 90)}...; log ${log})`);
    try {
        const { layers, config } = await spec.build(work, log);
        await writeLayout(layout, layers, {
            ...config,
            labels: { "lakehouse-platform.upstream": spec.upstream, "lakehouse-platform.built-from": spec.builtFrom },
        });
        fs.writeFileSync(path.join(layout, ".done"), key);
    } catch (e) {
        fs.rmSync(layout, { recursive: true, force: true });
        const tail = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").slice(-20).join("\n") : "";
        throw new Error(
            `building image ${spec.refs[0]} failed: ${e instanceof Error ? e.message : String(e)}\n  log ${log}, its end:\n${tail}\n  what to do: the log's end names the step that failed. A download that failed (Debian, PyPI, Maven Central, crates.io) is retried by running again; a package or version the registry no longer serves is named there, and the image's spec (tests/node/images/index.ts) says what it is built from. Nothing of this image was cached; the images built before it were.`,
            { cause: e },
        );
    } finally {
        fs.rmSync(work, { recursive: true, force: true });
    }
    // Older layouts of this image are of no further use.
    for (const old of fs.readdirSync(path.join(cache, "layouts")))
        if (old.startsWith(`${spec.id}-`) && old !== path.basename(layout))
            fs.rmSync(path.join(cache, "layouts", old), { recursive: true, force: true });
    return { spec, layout, built: true, seconds: (Date.now() - started) / 1000 };
}
