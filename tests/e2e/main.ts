// npm run test:e2e -- [--stack dev] [--set key=value]... [--report FILE] [--keep]
// The platform's own configuration, run by the real software: the program runs under the offline
// engine for the stack, the suite installs the pinned software into its cache, gives every
// cluster name a loopback address in a private /etc/hosts (a mount namespace of its own), starts
// PostgreSQL, Garage, the Hive Metastore and Trino from the program's files and checks what the
// wiring promises, then writes the report (versions, substitutions, checks).
// Exit status: 0 every check passed, 1 a check failed, 2 bad input, 3 a failure of the suite.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { ConfigError } from "../../components/config";
import { ProgramError } from "../../offline/engine";
import { EXIT } from "../../offline/exit";
import { parseSetting, UsageError } from "../../offline/plan-cli";
import { PROJECT_DIR, StackFileError } from "../../offline/stack-config";
import { checkDbt, checkGarage, checkMetastore, checkNames, checkPostgres, checkTrino } from "./checks";
import { install, Toolchain, Wanted } from "./install";
import { checkRotation } from "./rotation";
import {
    addIssuedCertificates,
    CERTIFICATES_RENDERED,
    checkDagster,
    clusterDomainOf,
    dagsterVersions,
    renderDagster,
    renderedNames,
    renderRelease,
} from "./dagster";
import { CERTIFICATES_CHART } from "../../components/certificates";

import { ensureHelm, ensureTool, VERSIONS } from "../cluster/tools";
import { hasDagsterLogin } from "./login";
import { checkWiringScripts } from "./wiring";
import { allocate, clusterNames, writeHostsFile } from "./names";
import { PlatformRun } from "./platform";
import { must, Processes, run, runInherit } from "./procs";
import { CheckFailed, Report } from "./report";
import { Context, GarageCluster, Postgres } from "./servers";
import { USAGE } from "./usage";

type Json = Record<string, unknown>;

interface Args {
    stack: string;
    overrides: Record<string, unknown>;
    report: string;
    keep: boolean;
    inside?: string;
    /** Install the software into the cache and stop (the cache warmer, .ci/warm). */
    installOnly: boolean;
}

function parse(argv: string[]): Args {
    const { values } = parseArgs({
        args: argv,
        options: {
            stack: { type: "string", default: "dev" },
            set: { type: "string", multiple: true },
            report: { type: "string", default: "e2e-report.json" },
            keep: { type: "boolean" },
            inside: { type: "string" },
            "install-only": { type: "boolean" },
            help: { type: "boolean", short: "h" },
        },
        strict: true,
        allowPositionals: false,
    });
    if (values.help) throw new HelpRequested();
    return {
        stack: values.stack ?? "dev",
        overrides: Object.fromEntries((values.set ?? []).map((s) => parseSetting(s, "lakehouse-platform"))),
        report: path.resolve(values.report ?? "e2e-report.json"),
        keep: values.keep ?? false,
        inside: values.inside,
        installOnly: values["install-only"] ?? false,
    };
}

class HelpRequested extends Error {}

function tagOf(image: string): string {
    return image
        .slice(image.lastIndexOf(":") + 1)
        .replace(/^v/, "")
        .replace(/-.*$/, "");
}

/** What the program asks for: its images' versions and the JDBC driver its init container downloads. */
export function wantedOf(p: PlatformRun): Wanted {
    const db = Postgres.namespace(p);
    const garage = p.container("StatefulSet", GarageCluster.namespace(p), "garage", "garage").image;
    const postgres = p.container("StatefulSet", db, "postgres", "postgres").image;
    const metastore = p.container("Deployment", db, "hive-metastore", "metastore");
    const busybox = p.container("Job", GarageCluster.namespace(p), "garage-bootstrap", "tools", true).image;
    const driver = p.container("Deployment", db, "hive-metastore", "jdbc-driver", true);
    const url = p.containerEnv(db, driver).env.DRIVER_URL;
    const m = /\/maven2\/(.+)\/([^/]+)\/([^/]+)\/\2-\3\.jar$/.exec(url);
    if (!m) throw new Error(`the JDBC driver URL ${url} is not a Maven repository path`);
    const dagster = p.hasRelease("dagster")
        ? String(((p.helmValues("dagster").dagsterWebserver as Json).image as Json).tag)
        : undefined;
    return {
        dagster,
        garage: tagOf(garage),
        hive: tagOf(metastore.image),
        postgres: tagOf(postgres),
        busybox: tagOf(busybox),
        jdbc: { group: m[1].replace(/\//g, "."), artifact: m[2], version: m[3] },
    };
}

// ---- outside the mount namespace: install, names, then the run inside ----

async function outside(args: Args, say: (s: string) => void): Promise<number> {
    if (process.getuid?.() !== 0) {
        say(
            "test:e2e: needs root: a private mount namespace (unshare -m) holds the cluster's /etc/hosts, and PostgreSQL runs as the postgres user",
        );
        return EXIT.failure;
    }
    say(
        `lakehouse-platform end-to-end · stack ${args.stack}${
            Object.keys(args.overrides).length
                ? ` (${Object.entries(args.overrides)
                      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
                      .join(", ")})`
                : ""
        }`,
    );
    const p = await PlatformRun.of(args.stack, args.overrides);
    say(`program run offline: ${p.run.resources.length} resources`);
    const tc = await install(wantedOf(p), say);
    // Dagster's login (dagsterLogin): the proxy the Deployment runs.
    if (hasDagsterLogin(p))
        tc.oauth2Proxy = { bin: await ensureTool("oauth2-proxy", say), used: VERSIONS.oauth2Proxy.replace(/^v/, "") };
    if (args.installOnly) {
        say(`installed into ${tc.cache}; --install-only: nothing run`);
        return EXIT.ok;
    }
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `lakehouse-e2e-${args.stack}-`));
    // Traversable (not listable) by the postgres user, who owns the database's directory below it.
    fs.chmodSync(work, 0o711);
    // Dagster's chart, rendered with the program's values: its Services are names too.
    const rendered = tc.dagster ? await renderDagster(p, await ensureHelm(say), work) : [];
    // The platform's certificates, issued by Helm as the install would (a new set per rendering).
    if (p.hasRelease(CERTIFICATES_CHART.name)) {
        const issued = await renderRelease(
            p,
            CERTIFICATES_CHART.name,
            await ensureHelm(say),
            path.join(work, "certificates"),
        );
        fs.writeFileSync(path.join(work, CERTIFICATES_RENDERED), JSON.stringify(issued));
    }
    const names = allocate([...new Set([...clusterNames(p), ...renderedNames(rendered, clusterDomainOf(p))])]);
    const hosts = writeHostsFile(path.join(work, "hosts"), names);
    fs.writeFileSync(path.join(work, "toolchain.json"), JSON.stringify(tc, null, 2));
    fs.writeFileSync(path.join(work, "names.json"), JSON.stringify([...names]));
    say(
        `${names.size} cluster names on loopback, in a private /etc/hosts (${hosts.hostsFile}); work directory ${work}`,
    );
    const argv = [
        "--stack",
        args.stack,
        ...Object.entries(args.overrides).flatMap(([k, v]) => [
            "--set",
            `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`,
        ]),
        "--report",
        args.report,
        ...(args.keep ? ["--keep"] : []),
        "--inside",
        work,
    ];
    const code = await runInherit("unshare", [
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        'mount --bind "$0" /etc/hosts && exec "$@"',
        hosts.hostsFile,
        process.execPath,
        path.join(PROJECT_DIR, "offline", "launch.mjs"),
        "e2e",
        ...argv,
    ]);
    if (code === EXIT.ok && !args.keep) fs.rmSync(work, { recursive: true, force: true });
    else say(`servers' logs and data kept in ${work}`);
    return code ?? EXIT.failure;
}

// ---- inside: the servers and the checks ----

async function versions(ctx: Context): Promise<void> {
    const { report, tc } = ctx;
    const g = await must(tc.garage.bin, ["--version"]);
    report.version(
        "garage",
        g.stdout
            .trim()
            .split(/\s+/)[1]
            ?.replace(/^cargo:/, "") ?? g.stdout.trim(),
        tc.garage.pinned,
        tc.garage.note,
    );
    const pg = await must(path.join(tc.postgres.bin, "postgres"), ["--version"]);
    report.version(
        "postgresql",
        pg.stdout.trim().replace(/^postgres \(PostgreSQL\) /, ""),
        tc.postgres.pinned,
        tc.postgres.note,
    );
    const bb = await run(tc.busybox.bin, []);
    report.version("busybox", /BusyBox v(\S+)/.exec(bb.output)?.[1] ?? "?", tc.busybox.pinned, tc.busybox.note);
    const hive = await run(tc.java17, [
        "-cp",
        tc.metastore.classpath.join(":"),
        "org.apache.hadoop.hive.metastore.utils.MetastoreVersionInfo",
    ]);
    report.version("hive-metastore", /Hive (\S+)/.exec(hive.output)?.[1] ?? tc.metastore.used, tc.metastore.pinned);
    const hadoop = await run(tc.java17, [
        "-cp",
        tc.metastore.classpath.join(":"),
        "org.apache.hadoop.util.VersionInfo",
    ]);
    report.version("hadoop", /Hadoop (\S+)/.exec(hadoop.output)?.[1] ?? tc.metastore.hadoop);
    report.version("postgresql-jdbc", path.basename(tc.metastore.jdbcDriver, ".jar").replace(/^postgresql-/, ""));
    const dbt = await run(tc.python.dbt, ["--version"]);
    report.version("dbt-core", /installed:\s*(\S+)/.exec(dbt.output)?.[1] ?? "?");
    report.version("dbt-trino", /trino:\s*(\S+)/.exec(dbt.output)?.[1] ?? "?");
    await dagsterVersions(ctx);
    for (const [name, java] of [
        ["java (metastore)", tc.java17],
        ["java (trino)", tc.java25],
    ]) {
        const v = await run(java, ["-version"]);
        report.version(name, /version "([^"]+)"/.exec(v.output)?.[1] ?? "?");
    }
}

async function inside(args: Args, work: string, say: (s: string) => void): Promise<number> {
    const tc = JSON.parse(fs.readFileSync(path.join(work, "toolchain.json"), "utf8")) as Toolchain;
    const names = new Map(JSON.parse(fs.readFileSync(path.join(work, "names.json"), "utf8")) as [string, string][]);
    const p = await PlatformRun.of(args.stack, args.overrides);
    const report = new Report(args.stack, args.overrides, say);
    const procs = new Processes(path.join(work, "logs"));
    const ctx: Context = { p, tc, names, procs, work, report };
    // A pod has none of the machine's CA bundle variables; Python's requests would let them override
    // the CA file a client names (its `verify`), so no check could tell a wrong CA from the right one.
    const bundles = ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"].filter((v) => process.env[v] !== undefined);
    for (const v of bundles) delete process.env[v];
    if (bundles.length > 0)
        report.substitute(
            `a pod's environment, with no ${bundles.join(" or ")}`,
            `this machine's environment without ${bundles.join(" and ")}`,
            "requests prefers them to the CA file a client is given",
        );
    if (addIssuedCertificates(p, work)) {
        report.substitute(
            "cert-manager-less issuance in the install: the certificates chart's lookup keeps what Helm issued before",
            "helm template of the same chart with the program's values: Sprig's genCA and genSignedCert issue a new CA and certificate for this run",
            "no cluster for lookup to read; the Secrets' keys are the ones Helm makes",
        );
    }
    report.substitute(
        "cluster DNS (CoreDNS: <service>.<namespace>.svc.<domain>)",
        `a private /etc/hosts in a mount namespace: ${names.size} names, each on its own loopback address`,
        "no cluster; short names stay unresolvable, as from another namespace",
    );
    try {
        await versions(ctx);
        await checkNames(ctx);
        const pg = await Postgres.start(ctx);
        report.version("postgresql (server)", (await pg.query(pg.superuser, "SHOW server_version")).split(" ")[0]);
        await checkPostgres(ctx, pg);
        const garage = await GarageCluster.start(ctx);
        await checkGarage(ctx, garage);
        await checkMetastore(ctx);
        const trino = await checkTrino(ctx);
        if (trino) {
            const info = (await (await fetch(`http://${trino.trino.host}:${trino.trino.port}/v1/info`)).json()) as {
                nodeVersion: { version: string };
            };
            report.version("trino (server)", info.nodeVersion.version, tc.trino.pinned, tc.trino.note);
        }
        await checkDbt(ctx);
        await checkDagster(ctx, pg);
        await checkWiringScripts(ctx, garage);
        await trino?.controls.judge();
        await checkRotation(ctx, pg, garage);
    } catch (e) {
        if (!(e instanceof CheckFailed))
            await report.check("the suite ran to its end", () =>
                Promise.reject(e instanceof Error ? e : new Error(String(e))),
            );
    } finally {
        await procs.stopAll();
    }
    report.write(args.report);
    const failed = report.checks.filter((c) => !c.ok);
    say("");
    say(
        `${report.checks.length - failed.length} of ${report.checks.length} checks passed in ${report.data().seconds} s; ${report.substitutions.length} substitutions; report ${args.report}`,
    );
    for (const f of failed) say(`  FAILED ${f.name}`);
    return report.ok ? EXIT.ok : EXIT.violations;
}

export async function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): Promise<number> {
    let args: Args;
    try {
        args = parse(argv);
    } catch (e) {
        if (e instanceof HelpRequested) {
            out(USAGE);
            return EXIT.ok;
        }
        err(`test:e2e: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
        return EXIT.badInput;
    }
    try {
        return args.inside ? await inside(args, args.inside, out) : await outside(args, out);
    } catch (e) {
        const cause = e instanceof ProgramError ? e.cause : e;
        if (cause instanceof ConfigError || cause instanceof StackFileError || cause instanceof UsageError) {
            err(`test:e2e: ${cause.message}`);
            return EXIT.badInput;
        }
        err(`test:e2e: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
        return EXIT.failure;
    }
}
