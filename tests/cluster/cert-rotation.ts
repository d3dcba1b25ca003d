// A certificate rotation measured from the clients' side: while `pulumi up` issues Trino and
// PostgreSQL new certificates (credentialGenerations tls/<server>), queries run without pause,
// over TLS with the platform's CA verified, and the certificate each server presents is read on
// every new connection, until both present their new one. The claim: no query fails, and no
// server restarts (Trino reloads its keystore every minute; the init Job reloads PostgreSQL).
import * as net from "net";
import * as tls from "tls";
import { sleep } from "../e2e/procs";
import { CheckFailed } from "../e2e/report";
import type { Harness } from "./harness";
import { dagsterPostgresClient, runPod } from "./real-checks";
import { trinoQuery, trinoServer } from "./trino-client";
import { serviceEndpoint, serviceNames } from "../../components/addresses";
import { TRUST_CONFIGMAP } from "../../components/certificates";
import { TRINO_HTTPS_PORT } from "../../components/trino-security";

type Components = Record<string, string>;

/** The certificate a TLS server presents on a new connection (verified against `ca` for `servername`). */
function presented(host: string, port: number, servername: string, ca: string, postgres: boolean): Promise<string> {
    return new Promise((resolve, reject) => {
        const fail = (e: Error) => reject(e);
        const handshake = (socket?: net.Socket) => {
            const s = tls.connect({ host, port, servername, ca, socket }, () => {
                const fingerprint = s.getPeerCertificate().fingerprint256;
                s.end();
                resolve(fingerprint);
            });
            s.setTimeout(10_000, () => s.destroy(new Error(`TLS to ${servername}: timed out`)));
            s.on("error", fail);
        };
        if (!postgres) return handshake();
        // PostgreSQL's SSLRequest (length 8, code 80877103), answered with 'S' before the handshake.
        const socket = net.connect({ host, port }, () => socket.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])));
        socket.setTimeout(10_000, () => socket.destroy(new Error("PostgreSQL: no answer to SSLRequest")));
        socket.once("data", (b) => {
            if (b.toString("latin1", 0, 1) !== "S")
                return fail(new Error(`PostgreSQL refused TLS (${b.toString("latin1", 0, 1)})`));
            socket.setTimeout(0);
            handshake(socket);
        });
        socket.on("error", fail);
    });
}

async function clusterIp(h: Harness, name: string, ns: string): Promise<string> {
    const ip = ((await h.kube.get("Service", name, ns))?.spec as { clusterIP?: string } | undefined)?.clusterIP;
    if (!ip) throw new CheckFailed(`no Service ${ns}/${name}`);
    return ip;
}

/** Each server pod's identity and restarts: `<ns>/<pod> <uid> <restarts>`, for Trino's and PostgreSQL's pods in `namespaces`. */
export async function serverPods(h: Harness, namespaces: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const ns of namespaces) {
        for (const pod of await h.kube.list("Pod", ns)) {
            const meta = pod.metadata as { name: string; uid: string };
            if (!/^(trino-|postgres-0$)/.test(meta.name)) continue;
            const statuses = (pod.status as { containerStatuses?: { restartCount: number }[] }).containerStatuses ?? [];
            out.push(`${ns}/${meta.name} ${meta.uid} ${statuses.map((x) => x.restartCount).join(",")}`);
        }
    }
    return out.sort();
}

export interface RotationWatch {
    /** Waits until the rotation shows from the clients' side, stops the queries, and says what happened. */
    finish(): Promise<string>;
}

/** Starts the queries and the watch of what each server presents; call before the `up` that rotates. */
export async function watchCertificateRotation(
    h: Harness,
    c: Components,
    domain: string,
    seconds = 300,
): Promise<RotationWatch> {
    const started = Date.now();
    const podsBefore = await serverPods(h, [c.trino, c.database]);
    const at = () => Math.round((Date.now() - started) / 1000);
    const ca = ((await h.kube.get("ConfigMap", TRUST_CONFIGMAP, c.database))?.data as Record<string, string>)["ca.crt"];
    const servers = {
        trino: {
            ip: await clusterIp(h, "trino", c.trino),
            port: TRINO_HTTPS_PORT,
            // The certificate's name for the Service within the cluster (as trinoServer verifies it).
            name: serviceNames(serviceEndpoint("trino", c.trino, domain))[1],
            postgres: false,
        },
        postgres: {
            ip: await clusterIp(h, "postgres", c.database),
            port: serviceEndpoint("postgres", c.database, domain).port,
            name: serviceNames(serviceEndpoint("postgres", c.database, domain))[1],
            postgres: true,
        },
    };
    const first: Record<string, string> = {};
    for (const [k, s] of Object.entries(servers)) first[k] = await presented(s.ip, s.port, s.name, ca, s.postgres);
    const changedAt: Record<string, number> = {};
    const changedEpoch: Record<string, number> = {};
    const handshakeErrors: string[] = [];
    let stop = false;

    // Trino: a statement a second as the admin, over HTTPS, the CA verified (trinoServer's client).
    const trino = await trinoServer(h.kube, c.trino);
    const trinoRuns = { ok: 0, failed: [] as string[] };
    const trinoLoop = (async () => {
        while (!stop) {
            try {
                await trinoQuery(trino, "admin", "SELECT 1");
                trinoRuns.ok++;
            } catch (e) {
                trinoRuns.failed.push(`${at()} s: ${String(e).slice(0, 200)}`);
            }
            await sleep(1000);
        }
    })();
    // What each server presents on a new connection, every two seconds.
    const watchLoop = (async () => {
        while (!stop) {
            for (const [k, s] of Object.entries(servers))
                try {
                    const now = await presented(s.ip, s.port, s.name, ca, s.postgres);
                    if (now !== first[k] && changedAt[k] === undefined) {
                        changedAt[k] = at();
                        changedEpoch[k] = Math.floor(Date.now() / 1000);
                    }
                } catch (e) {
                    handshakeErrors.push(`${k} ${at()} s: ${String(e).slice(0, 200)}`);
                }
            await sleep(2000);
        }
    })();
    // PostgreSQL: a query a second as Dagster's login, from Dagster's namespace, verifying the CA.
    const client = await dagsterPostgresClient(h, c, domain);
    const conn = `${client.conn} sslmode=verify-full sslrootcert=/ca/ca.crt`;
    const pgLoop = runPod(
        h.kube,
        c.dagster,
        "probe-cert-rotation",
        // First until it reaches the server (a new pod's NetworkPolicy rules are programmed a few
        // seconds after it starts: a refusal then is the race's), then a query a second, each
        // line with the time, so the suite can tell the counted window covered the renewal.
        [
            `end=$(( $(date +%s) + ${seconds} ))`,
            `n=0; until psql -X -w "${conn}" -Atqc 'SELECT 1' > /dev/null 2>&1; do n=$((n+1)); [ $n -ge 30 ] && { echo "never reached"; exit 90; }; sleep 2; done`,
            'echo "reached $(date +%s)"',
            // Until a time, not for a count: a query takes a while on a loaded node, and the pod
            // must end before the suite stops waiting for it.
            `while [ "$(date +%s)" -lt "$end" ]; do out=$(psql -X -w "${conn}" -Atqc 'SELECT 1' 2>&1) && echo "ok $(date +%s)" || echo "failed $(date +%s): $out"; sleep 1; done`,
        ].join("; "),
        (seconds + 120) * 1000,
        [{ name: TRUST_CONFIGMAP, mountPath: "/ca" }],
        client.image,
        client.env,
    );

    return {
        async finish(): Promise<string> {
            const deadline = started + seconds * 1000 - 15_000;
            while ((changedAt.trino === undefined || changedAt.postgres === undefined) && Date.now() < deadline)
                await sleep(2000);
            stop = true;
            await Promise.all([trinoLoop, watchLoop]);
            const pg = await pgLoop;
            const lines = pg.log.split("\n").filter((l) => /^(ok|failed) /.test(l));
            const pgFailed = lines.filter((l) => !l.startsWith("ok"));
            // The counted queries began before PostgreSQL presented its new certificate and went on after it.
            const reached = Number(/^reached (\d+)/m.exec(pg.log)?.[1] ?? NaN);
            const last = Number(lines.at(-1)?.split(" ")[1] ?? NaN);
            const covered = reached < changedEpoch.postgres && last > changedEpoch.postgres;
            const problems = [
                ...Object.keys(servers)
                    .filter((k) => changedAt[k] === undefined)
                    .map((k) => `${k} still presents its first certificate after ${at()} s`),
                ...trinoRuns.failed.map((f) => `Trino query failed at ${f}`),
                ...pgFailed.slice(0, 5).map((f) => `PostgreSQL query ${f}`),
                ...handshakeErrors.slice(0, 5).map((e) => `TLS handshake ${e}`),
            ];
            const podsAfter = await serverPods(h, [c.trino, c.database]);
            if (podsAfter.join("|") !== podsBefore.join("|"))
                problems.push(`a server restarted: before ${podsBefore.join(", ")}; after ${podsAfter.join(", ")}`);
            if (changedEpoch.postgres !== undefined && !covered)
                problems.push(
                    `the PostgreSQL queries (from ${reached} to ${last}) did not span the renewal (${changedEpoch.postgres})`,
                );
            if (pg.exitCode !== 0)
                problems.push(`the PostgreSQL query pod ended with ${pg.exitCode}: ${pg.log.slice(-300)}`);
            if (problems.length > 0) throw new CheckFailed(problems.join("; "));
            return `Trino presented its new certificate ${changedAt.trino} s after the update began, PostgreSQL ${changedAt.postgres} s; ${trinoRuns.ok} Trino queries (admin, HTTPS, CA verified), none failed; ${lines.length} PostgreSQL queries from ${c.dagster} (dagster, verify-full), none failed; every handshake verified against the CA; no server pod restarted or replaced (${podsBefore.length} pods)`;
        },
    };
}
