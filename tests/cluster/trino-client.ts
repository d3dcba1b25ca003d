// Trino's client protocol (POST /v1/statement, then each nextUri until there is none), enough for
// the suite to run a statement as a login and read its rows: what the CLI and the drivers do.
import * as http from "http";

export interface TrinoResult {
    columns: string[];
    rows: unknown[][];
}

function call(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method, headers, timeout: 60_000 }, (res) => {
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

/** Runs one statement at `server` (http://host:port) as `user`; throws with Trino's message when it fails. */
export async function trinoQuery(server: string, user: string, sql: string, catalog?: string): Promise<TrinoResult> {
    const headers = { "X-Trino-User": user, ...(catalog ? { "X-Trino-Catalog": catalog } : {}) };
    let r = await call("POST", `${server}/v1/statement`, headers, sql);
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
        r = await call("GET", r.nextUri, headers);
    }
    return { columns, rows };
}
