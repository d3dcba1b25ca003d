// Trino's client protocol (POST /v1/statement, then each nextUri until there is none), enough for
// the suite to run a statement as a login and read its rows: what the CLI and the drivers do.
// Where the stack's Trino authenticates (trinoAuthentication), over HTTPS as the admin's login,
// verifying the platform's CA, as a person would with the token and CA from the cluster.
import * as http from "http";
import * as https from "https";
import type { Kube } from "./kube";
import { CheckFailed } from "../e2e/report";
import { TRUST_CONFIGMAP } from "../../components/certificates";
import { LOGIN_KEYS, loginSecretName, TRINO_HTTPS_PORT } from "../../components/trino-security";

export interface TrinoResult {
    columns: string[];
    rows: unknown[][];
}

/** Where the suite reaches Trino, and how it proves who it is. */
export interface TrinoServer {
    /** `http://<cluster IP>:8080`, or `https://<cluster IP>:8443`. */
    url: string;
    /** Over HTTPS: the login's token, the CA, and the name the certificate must carry. */
    tls?: { token: string; ca: string; servername: string };
}

/**
 * Trino's coordinator as the node reaches it (its Service's cluster address, through kube-proxy):
 * on its HTTPS port with the admin's token and the CA when the Service has one, else plain HTTP.
 */
export async function trinoServer(kube: Kube, ns: string): Promise<TrinoServer> {
    const svc = await kube.get("Service", "trino", ns);
    const spec = svc?.spec as { clusterIP?: string; ports?: { name?: string; port: number }[] } | undefined;
    if (!spec?.clusterIP) throw new CheckFailed(`no Service trino in ${ns}`);
    if (!spec.ports?.some((p) => p.port === TRINO_HTTPS_PORT)) return { url: `http://${spec.clusterIP}:8080` };
    const secret = await kube.get("Secret", loginSecretName("admin"), ns);
    const token = (secret?.data as Record<string, string> | undefined)?.[LOGIN_KEYS.token];
    const ca = ((await kube.get("ConfigMap", TRUST_CONFIGMAP, ns))?.data as Record<string, string> | undefined)?.[
        "ca.crt"
    ];
    if (!token || !ca) throw new CheckFailed(`Trino in ${ns} serves HTTPS, but the admin's token or the CA is missing`);
    return {
        url: `https://${spec.clusterIP}:${TRINO_HTTPS_PORT}`,
        // The certificate names the Service, not its cluster IP.
        tls: { token: Buffer.from(token, "base64").toString(), ca, servername: `trino.${ns}.svc` },
    };
}

function call(
    server: TrinoServer,
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
): Promise<Record<string, unknown>> {
    const tls = server.tls;
    const client = tls ? https : http;
    const options = tls
        ? {
              method,
              headers: { ...headers, Authorization: `Bearer ${tls.token}` },
              timeout: 60_000,
              ca: tls.ca,
              servername: tls.servername,
          }
        : { method, headers, timeout: 60_000 };
    return new Promise((resolve, reject) => {
        const req = client.request(url, options, (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (text += d));
            res.on("end", () => {
                if ((res.statusCode ?? 0) >= 400)
                    reject(
                        new Error(
                            `Trino ${method} ${new URL(url).pathname}: HTTP ${res.statusCode} ${text.slice(0, 300)}`,
                        ),
                    );
                else {
                    try {
                        resolve(JSON.parse(text) as Record<string, unknown>);
                    } catch {
                        reject(new Error(`Trino answered no JSON: ${text.slice(0, 300)}`));
                    }
                }
            });
        });
        req.on("timeout", () => req.destroy(new Error(`Trino ${method} ${url}: timed out`)));
        req.on("error", reject);
        req.end(body);
    });
}

/**
 * Runs one statement on `server` as `user` (over HTTPS, the login's own name: Trino refuses
 * another); throws with Trino's message when it fails.
 */
export async function trinoQuery(
    server: TrinoServer,
    user: string,
    sql: string,
    catalog?: string,
): Promise<TrinoResult> {
    const all: Record<string, string> = server.tls ? {} : { "X-Trino-User": user };
    if (catalog) all["X-Trino-Catalog"] = catalog;
    // Trino's nextUri names the host the request named: the cluster IP, with the same certificate check.
    let r = await call(server, "POST", `${server.url}/v1/statement`, all, sql);
    const rows: unknown[][] = [];
    let columns: string[] = [];
    for (;;) {
        if (r.error) {
            const e = r.error as { message?: string; errorName?: string };
            throw new Error(`Trino: ${e.errorName ?? "error"}: ${e.message ?? JSON.stringify(e)}`);
        }
        if (Array.isArray(r.columns)) columns = (r.columns as { name: string }[]).map((c) => c.name);
        if (Array.isArray(r.data)) rows.push(...(r.data as unknown[][]));
        if (typeof r.nextUri !== "string") break;
        r = await call(server, "GET", r.nextUri, all);
    }
    return { columns, rows };
}
