// `verifyWiring` on the real servers: each namespace's wiring-check script, as the program writes it
// into its ConfigMap, run by the shell of the image its Job names (busybox ash for curl's, dash for
// PostgreSQL's), with the environment its Job gives (the Secret values as variables), behind the
// stack's cluster names. Then the two controls the checks exist for: one address wrong (a short
// name in one check's call) and one key without its grant; each must fail naming its edge.
import * as fs from "fs";
import * as path from "path";
import type { WiringCheckEntry } from "../../components/platform";
import { WIRING_CHECK_NAME, WIRING_CHECK_SCRIPT } from "../../components/wiring-check-jobs";
import { CHECK_ENV } from "../../components/wiring-checks";
import { run, RunResult, tail } from "./procs";
import { Context, GarageCluster, withLocalCa } from "./servers";
import { CA_DIR, TRUST_CONFIGMAP } from "../../components/certificates";

type Json = Record<string, unknown>;

/** Components whose servers do not run here: checks of edges into them are listed as not run, with the reason. */
const NOT_HERE = new Set<string>(["airbyte", "dagster"]);

interface Namespaced {
    namespace: string;
    file: string;
    checks: WiringCheckEntry[];
}

/** One tool's run of a namespace's script: the container's env, the image's shell, the ids asked for. */
function runTool(ctx: Context, ns: Namespaced, tool: string, file: string, ids: string[]): Promise<RunResult> {
    const { p, tc, work } = ctx;
    const container = p.container("Job", ns.namespace, WIRING_CHECK_NAME, tool);
    const { env } = p.containerEnv(ns.namespace, container);
    // The CA file the Job mounts (its ConfigMap), curl's CA_FILE and psql's PGSSLROOTCERT: this machine's copy.
    for (const [k, v] of Object.entries(env)) env[k] = withLocalCa(ctx, ns.namespace, v);
    const shell: [string, string[]] = tool === "curl" ? [tc.busybox.bin, ["sh"]] : ["dash", []];
    return run(shell[0], [...shell[1], file, tool, ...ids], {
        env: {
            PATH: `${tc.postgres.bin}:${process.env.PATH ?? ""}`,
            ...env,
            [CHECK_ENV.terminationLog]: path.join(work, `termination-${ns.namespace}-${tool}`),
            // On loopback a refused connection is final: no NetworkPolicy is being programmed here.
            SETTLE_SECONDS: "0",
        },
    });
}

function toolOf(script: string, id: string): string {
    const m = new RegExp(`^want ${id} (\\S+) `, "m").exec(script);
    if (!m) throw new Error(`the script has no check ${id}`);
    return m[1];
}

export async function checkWiringScripts(ctx: Context, garage: GarageCluster): Promise<void> {
    const { p, report, work } = ctx;
    const all = p.detail<WiringCheckEntry[]>("wiringChecks");
    if (all.length === 0) return;
    const byNs = new Map<string, Namespaced>();
    for (const c of all) {
        const namespace = c.job.split("/")[0];
        const entry = byNs.get(namespace) ?? {
            namespace,
            file: path.join(work, `wiring-check-${namespace}.sh`),
            checks: [],
        };
        entry.checks.push(c);
        byNs.set(namespace, entry);
    }
    for (const ns of byNs.values())
        fs.writeFileSync(ns.file, p.configMap(ns.namespace, WIRING_CHECK_NAME)[WIRING_CHECK_SCRIPT]);
    const skipped = all.filter((c) => NOT_HERE.has(c.to));
    report.substitute(
        "the wiring-check Jobs (one pod per namespace, images curlimages/curl and postgres)",
        "the same script from the Job's ConfigMap, run by busybox sh (curl's image) and dash (PostgreSQL's), with the Job's env (Secret values as variables), the machine's curl and the suite's psql",
        "no cluster, no container images",
    );
    report.substitute(
        `${CHECK_ENV.terminationLog}=/dev/termination-log (the kubelet's termination message file)`,
        "a file in the suite's work directory",
        "no kubelet",
    );
    if (
        all.some((c) => c.to === "trino" && c.address.length > 0) &&
        p.has("ConfigMap", p.detail<string>("components.trino.namespace"), TRUST_CONFIGMAP)
    )
        report.substitute(
            `${CHECK_ENV.caFile} at the Job's mount of the ${TRUST_CONFIGMAP} ConfigMap (${CA_DIR}/ca.crt)`,
            "the same ConfigMap's ca.crt in the suite's work directory",
            "no pods to mount it in",
        );
    if (skipped.length > 0)
        report.substitute(
            `checks ${skipped.map((c) => `${c.id} (${c.from} → ${c.to})`).join(", ")}`,
            "not run",
            "no Airbyte server or Dagster webserver runs here",
        );

    for (const ns of byNs.values()) {
        const script = fs.readFileSync(ns.file, "utf8");
        const runnable = ns.checks.filter((c) => !skipped.includes(c));
        for (const tool of [...new Set(runnable.map((c) => toolOf(script, c.id)))]) {
            const ids = runnable.filter((c) => toolOf(script, c.id) === tool).map((c) => c.id);
            await report.check(
                `wiring checks: the ${tool} checks of namespace ${ns.namespace} pass (${ids.join(", ")})`,
                async () => {
                    const r = await runTool(ctx, ns, tool, ns.file, ids);
                    if (r.code !== 0) throw new Error(`exit ${r.code}: ${tail(r.output, 8)}`);
                    const passed = ids.filter((id) => new RegExp(`^ok {6}${id} `, "m").test(r.stdout));
                    if (passed.length !== ids.length)
                        throw new Error(`only ${passed.join(", ")} passed: ${tail(r.output, 8)}`);
                    return r.stdout.trim().split("\n").pop() ?? "";
                },
            );
        }
    }
    await wrongAddress(ctx, byNs);
    await missingGrant(ctx, byNs, garage);
}

/** One address wrong: the first curl check's FQDN as a short name in its call, in a copy of the script. */
async function wrongAddress(ctx: Context, byNs: Map<string, Namespaced>): Promise<void> {
    const ns = [...byNs.values()].find((n) => n.checks.some((c) => c.from === "trino"));
    const check = ns?.checks.find((c) => c.to === "database");
    if (!ns || !check) return;
    await ctx.report.check(
        `wiring checks: with ${check.id}'s address a short name, the check fails naming the edge ${check.from} → ${check.to}`,
        async () => {
            const script = fs.readFileSync(ns.file, "utf8");
            const line = script.split("\n").find((l) => l.startsWith(`want ${check.id} `));
            if (!line) throw new Error(`no call of ${check.id}`);
            const fqdn = /'([a-z0-9-]+)\.[a-z0-9-]+\.svc\.[^']+'/.exec(
                line.replace(/^want \S+ \S+ && \S+ '[^']*' /, ""),
            );
            if (!fqdn) throw new Error(`no address in ${line}`);
            const wrong = script.replace(line, line.replace(fqdn[0], `'${fqdn[1]}'`));
            const file = `${ns.file}.short-name`;
            fs.writeFileSync(file, wrong);
            const r = await runTool(ctx, ns, toolOf(script, check.id), file, [check.id]);
            const named = new RegExp(
                `^FAILED {2}${check.id} ${check.from} → ${check.to} .* at ${check.address.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: ${fqdn[1]} does not resolve \\(DNS\\)$`,
                "m",
            );
            if (r.code !== 1 || !named.test(r.stderr))
                throw new Error(`exit ${r.code}, expected 1 with the edge named: ${tail(r.output, 6)}`);
            return r.stderr.trim();
        },
    );
}

/** One key without its grant: trino's key denied on the warehouse bucket, then granted again. */
async function missingGrant(ctx: Context, byNs: Map<string, Namespaced>, garage: GarageCluster): Promise<void> {
    const { p } = ctx;
    const ns = [...byNs.values()].find((n) => n.checks.some((c) => c.from === "trino"));
    const check = ns?.checks.find((c) => c.from === "trino" && c.to === "garage");
    if (!ns || !check) return;
    const bucket = p.detail<string>("components.garage.buckets.lakehouse");
    const ref = p.detail<Json>("components.garage.credentials.trino");
    const keyId = p.secret(String(ref.namespace), String(ref.secretName))[String(ref.accessKeyIdKey)];
    await ctx.report.check(
        `wiring checks: with trino's key denied on ${bucket}, ${check.id} fails naming the edge ${check.from} → ${check.to}; granted again, it passes`,
        async () => {
            const deny = await garage.garage(["bucket", "deny", "--read", "--write", bucket, "--key", keyId]);
            if (deny.code !== 0) throw new Error(`garage bucket deny: ${tail(deny.output, 4)}`);
            // Granted again whatever the run gives: the rotation checks after this need the grant.
            const failed = await runTool(ctx, ns, "curl", ns.file, [check.id]).catch((e: unknown) =>
                e instanceof Error ? e : new Error(String(e)),
            );
            const allow = await garage.garage(["bucket", "allow", "--read", "--write", bucket, "--key", keyId]);
            if (allow.code !== 0) throw new Error(`garage bucket allow: ${tail(allow.output, 4)}`);
            if (failed instanceof Error) throw failed;
            if (
                failed.code !== 1 ||
                !new RegExp(
                    `^FAILED {2}${check.id} trino → garage .*: writing s3://${bucket}/\\S+: HTTP 403 AccessDenied`,
                    "m",
                ).test(failed.stderr)
            ) {
                throw new Error(
                    `exit ${failed.code}, expected 1 naming the edge and AccessDenied: ${tail(failed.output, 6)}`,
                );
            }
            const again = await runTool(ctx, ns, "curl", ns.file, [check.id]);
            if (again.code !== 0) throw new Error(`after the grant: exit ${again.code}: ${tail(again.output, 6)}`);
            return failed.stderr.trim();
        },
    );
}
