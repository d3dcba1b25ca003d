// The suite's view of the API server: plain HTTPS with the admin's client certificate, the way
// kubectl talks to it. Reads objects, lists a kind across namespaces, applies the few objects the
// suite owns (the node, the default StorageClass), and watches a kind for what an update does to it.
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import { load } from "js-yaml";

export interface KubeObject {
    apiVersion?: string;
    kind?: string;
    metadata: {
        name: string;
        namespace?: string;
        uid?: string;
        resourceVersion?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
        ownerReferences?: { kind: string; name: string }[];
        deletionTimestamp?: string;
        creationTimestamp?: string;
    };
    [key: string]: unknown;
}

/** Where a kind lives in the API: `/api/v1` or `/apis/<group>/<version>`, its plural, and whether it is namespaced. */
export interface Kind {
    prefix: string;
    plural: string;
    namespaced: boolean;
}

/** The kinds the platform creates or the suite inspects. */
export const KINDS: Record<string, Kind> = {
    Namespace: { prefix: "/api/v1", plural: "namespaces", namespaced: false },
    Node: { prefix: "/api/v1", plural: "nodes", namespaced: false },
    Secret: { prefix: "/api/v1", plural: "secrets", namespaced: true },
    ConfigMap: { prefix: "/api/v1", plural: "configmaps", namespaced: true },
    Service: { prefix: "/api/v1", plural: "services", namespaced: true },
    ServiceAccount: { prefix: "/api/v1", plural: "serviceaccounts", namespaced: true },
    Pod: { prefix: "/api/v1", plural: "pods", namespaced: true },
    PersistentVolumeClaim: { prefix: "/api/v1", plural: "persistentvolumeclaims", namespaced: true },
    PersistentVolume: { prefix: "/api/v1", plural: "persistentvolumes", namespaced: false },
    StatefulSet: { prefix: "/apis/apps/v1", plural: "statefulsets", namespaced: true },
    Deployment: { prefix: "/apis/apps/v1", plural: "deployments", namespaced: true },
    Job: { prefix: "/apis/batch/v1", plural: "jobs", namespaced: true },
    CronJob: { prefix: "/apis/batch/v1", plural: "cronjobs", namespaced: true },
    Role: { prefix: "/apis/rbac.authorization.k8s.io/v1", plural: "roles", namespaced: true },
    RoleBinding: { prefix: "/apis/rbac.authorization.k8s.io/v1", plural: "rolebindings", namespaced: true },
    ClusterRole: { prefix: "/apis/rbac.authorization.k8s.io/v1", plural: "clusterroles", namespaced: false },
    ClusterRoleBinding: {
        prefix: "/apis/rbac.authorization.k8s.io/v1",
        plural: "clusterrolebindings",
        namespaced: false,
    },
    NetworkPolicy: { prefix: "/apis/networking.k8s.io/v1", plural: "networkpolicies", namespaced: true },
    PodDisruptionBudget: { prefix: "/apis/policy/v1", plural: "poddisruptionbudgets", namespaced: true },
    StorageClass: { prefix: "/apis/storage.k8s.io/v1", plural: "storageclasses", namespaced: false },
    EndpointSlice: { prefix: "/apis/discovery.k8s.io/v1", plural: "endpointslices", namespaced: true },
    MutatingWebhookConfiguration: {
        prefix: "/apis/admissionregistration.k8s.io/v1",
        plural: "mutatingwebhookconfigurations",
        namespaced: false,
    },
};

export function kindOf(name: string): Kind {
    const k = KINDS[name];
    if (!k) throw new Error(`the suite knows no API path for kind ${name}`);
    return k;
}

interface Credentials {
    server: string;
    ca: Buffer;
    cert: Buffer;
    key: Buffer;
}

/** The server and the first user of a kubeconfig with embedded certificates (as the suite writes them). */
function credentialsOf(kubeconfig: string): Credentials {
    const doc = load(fs.readFileSync(kubeconfig, "utf8")) as {
        clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
        users: { user: { "client-certificate-data": string; "client-key-data": string } }[];
    };
    const b64 = (s: string) => Buffer.from(s, "base64");
    return {
        server: doc.clusters[0].cluster.server,
        ca: b64(doc.clusters[0].cluster["certificate-authority-data"]),
        cert: b64(doc.users[0].user["client-certificate-data"]),
        key: b64(doc.users[0].user["client-key-data"]),
    };
}

/** A Secret's data, decoded from base64 as a pod reads it. */
export function secretData(secret: KubeObject): Record<string, string> {
    return Object.fromEntries(
        Object.entries((secret.data as Record<string, string> | undefined) ?? {}).map(([k, v]) => [
            k,
            Buffer.from(v, "base64").toString("utf8"),
        ]),
    );
}

export class ApiError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

export class Kube {
    private readonly creds: Credentials;
    private readonly agent: https.Agent;

    constructor(kubeconfig: string) {
        this.creds = credentialsOf(kubeconfig);
        this.agent = new https.Agent({
            ca: this.creds.ca,
            cert: this.creds.cert,
            key: this.creds.key,
            keepAlive: true,
        });
    }

    close(): void {
        this.agent.destroy();
    }

    request<T>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
        const url = new URL(path, this.creds.server);
        const data = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
        return new Promise((resolve, reject) => {
            const req = https.request(
                url,
                {
                    method,
                    agent: this.agent,
                    headers: {
                        accept: "application/json",
                        ...(data !== undefined
                            ? { "content-type": contentType, "content-length": Buffer.byteLength(data) }
                            : {}),
                    },
                    timeout: 30_000,
                },
                (res) => {
                    let text = "";
                    res.setEncoding("utf8");
                    res.on("data", (d: string) => (text += d));
                    res.on("end", () => {
                        const status = res.statusCode ?? 0;
                        if (status >= 200 && status < 300) {
                            const json = /json/.test(res.headers["content-type"] ?? "");
                            resolve((json && text ? JSON.parse(text) : text || undefined) as T);
                            return;
                        }
                        let message = text;
                        try {
                            message = (JSON.parse(text) as { message?: string }).message ?? text;
                        } catch {
                            // not JSON: keep the text
                        }
                        reject(new ApiError(status, `${method} ${url.pathname}: ${status} ${message}`));
                    });
                },
            );
            req.on("timeout", () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
            req.on("error", reject);
            if (data !== undefined) req.write(data);
            req.end();
        });
    }

    static path(kind: string, namespace?: string, name?: string): string {
        const k = kindOf(kind);
        const ns = k.namespaced && namespace ? `/namespaces/${namespace}` : "";
        return `${k.prefix}${ns}/${k.plural}${name ? `/${name}` : ""}`;
    }

    /** The object, or undefined when it does not exist. */
    async get(kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
        try {
            return await this.request<KubeObject>("GET", Kube.path(kind, namespace, name));
        } catch (e) {
            if (e instanceof ApiError && e.status === 404) return undefined;
            throw e;
        }
    }

    /**
     * The first of `namespaces` that holds `kind` `name`: a stack names its namespaces in its
     * config, and the object a component publishes tells which one is the component's.
     */
    async namespaceWith(namespaces: string[], kind: string, name: string): Promise<string | undefined> {
        for (const ns of namespaces) if (await this.get(kind, name, ns)) return ns;
        return undefined;
    }

    /** Every object of a kind (in one namespace, or all of them). */
    async list(kind: string, namespace?: string): Promise<KubeObject[]> {
        const r = await this.request<{ items: KubeObject[] }>("GET", Kube.path(kind, namespace));
        return r.items;
    }

    /** Server-side apply as the suite's own field manager. */
    async apply(obj: KubeObject): Promise<KubeObject> {
        const kind = obj.kind!;
        return this.request<KubeObject>(
            "PATCH",
            `${Kube.path(kind, obj.metadata.namespace, obj.metadata.name)}?fieldManager=lakehouse-cluster-suite&force=true`,
            obj,
            "application/apply-patch+yaml",
        );
    }

    /** Creates an object as a client of its own would (`fieldManager`: kubectl's is `kubectl-create`). */
    async create(obj: KubeObject, fieldManager: string): Promise<KubeObject> {
        return this.request<KubeObject>(
            "POST",
            `${Kube.path(obj.kind!, obj.metadata.namespace)}?fieldManager=${encodeURIComponent(fieldManager)}`,
            obj,
        );
    }

    /** Deletes an object (`Orphan`: its dependents stay, as `kubectl delete --cascade=orphan`). */
    async delete(
        kind: string,
        name: string,
        namespace?: string,
        propagationPolicy?: "Orphan" | "Background" | "Foreground",
    ): Promise<void> {
        try {
            await this.request(
                "DELETE",
                Kube.path(kind, namespace, name),
                propagationPolicy ? { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy } : undefined,
            );
        } catch (e) {
            if (!(e instanceof ApiError && e.status === 404)) throw e;
        }
    }

    /**
     * Watches a kind across namespaces from now on; `onEvent` sees every ADDED, MODIFIED and
     * DELETED object until `stop()`. What the watch may have missed is never passed over: an
     * ERROR event (the server's "resource version too old", a timeout) or a stream that ends or
     * fails before `stop()` is reported to `onBreak` and ends the watch, since a watch started
     * again cannot prove nothing happened in between.
     */
    watch(
        kind: string,
        onEvent: (type: string, obj: KubeObject) => void,
        onBreak: (why: string) => void = () => undefined,
    ): { stop: () => void; drop: () => void; ready: Promise<void> } {
        let stopped = false;
        let current: http.ClientRequest | undefined;
        let resolveReady: () => void = () => undefined;
        const ready = new Promise<void>((r) => (resolveReady = r));
        const broke = (why: string) => {
            resolveReady();
            if (stopped) return;
            stopped = true;
            current?.destroy();
            onBreak(why);
        };
        const start = async () => {
            const version = (await this.request<{ metadata: { resourceVersion: string } }>("GET", Kube.path(kind)))
                .metadata.resourceVersion;
            const url = new URL(
                `${Kube.path(kind)}?watch=1&allowWatchBookmarks=true&resourceVersion=${version}&timeoutSeconds=3600`,
                this.creds.server,
            );
            let buffered = "";
            current = https.get(url, { agent: this.agent }, (res) => {
                if (res.statusCode !== 200) {
                    broke(`the watch of ${kind} was refused: HTTP ${res.statusCode}`);
                    return;
                }
                resolveReady();
                res.setEncoding("utf8");
                res.on("data", (d: string) => {
                    buffered += d;
                    let nl: number;
                    while ((nl = buffered.indexOf("\n")) >= 0) {
                        const line = buffered.slice(0, nl);
                        buffered = buffered.slice(nl + 1);
                        if (!line.trim()) continue;
                        const ev = JSON.parse(line) as { type: string; object: KubeObject & { message?: string } };
                        if (ev.type === "ERROR")
                            broke(`the watch of ${kind} got an ERROR event: ${ev.object?.message ?? line}`);
                        else if (ev.type !== "BOOKMARK") onEvent(ev.type, ev.object);
                    }
                });
                res.on("end", () => broke(`the watch of ${kind} was closed by the server`));
                res.on("error", (e) => broke(`the watch of ${kind} failed: ${e.message}`));
            });
            current.on("error", (e) => broke(`the watch of ${kind} failed: ${e.message}`));
        };
        start().catch((e: unknown) => broke(`the watch of ${kind} could not start: ${String(e)}`));
        return {
            ready,
            stop: () => {
                stopped = true;
                current?.destroy();
            },
            // What a network drop does to the stream (the planted missed-watch): a break, not a stop.
            drop: () => current?.destroy(new Error("connection dropped")),
        };
    }
}
