// The suite's admission webhook: a pod none of whose images the run could build (Airbyte's
// server, workers, Temporal and bootloader exist only as images, and no container registry is
// reachable) goes to the kwok node, whose taint only such pods tolerate; every other pod runs on
// the real node, Airbyte's wiring check included. The program is unchanged: the webhook decides
// by the images alone, at admission, as a cluster operator's policy engine would. Named in the
// report as a substitution.
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { SIMULATED_TAINT } from "../cluster/control-plane";
import { Kube } from "../cluster/kube";
import { NODE_LABEL } from "./configs";

export const WEBHOOK = { host: "127.0.10.21", port: 9443 } as const;

interface PodSpec {
    containers?: { image?: string }[];
    initContainers?: { image?: string }[];
    nodeSelector?: Record<string, string>;
    tolerations?: unknown[];
}

interface AdmissionReview {
    apiVersion: string;
    kind: string;
    request: {
        uid: string;
        namespace?: string;
        object: { metadata: { name?: string; generateName?: string }; spec: PodSpec };
    };
}

/** `127.0.10.20:5000/airbyte/server:2.2.0` → `airbyte/server:2.2.0`; `docker.io/busybox:1.28` → `library/busybox:1.28`. */
export function repositoryOf(image: string): string {
    const parts = image.split("/");
    const rest = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]) ? parts.slice(1) : parts;
    return rest.length === 1 ? `library/${rest[0]}` : rest.join("/");
}

/** The JSON patch that sends a pod to the kwok node, or undefined when one of its images is built here. */
export function placement(spec: PodSpec, built: Set<string>): object[] | undefined {
    const images = [...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.image ?? "");
    if (images.some((i) => built.has(repositoryOf(i)))) return undefined;
    return [
        spec.nodeSelector
            ? {
                  op: "add",
                  path: `/spec/nodeSelector/${NODE_LABEL.key.replace(/\//g, "~1")}`,
                  value: NODE_LABEL.simulated,
              }
            : { op: "add", path: "/spec/nodeSelector", value: { [NODE_LABEL.key]: NODE_LABEL.simulated } },
        spec.tolerations
            ? { op: "add", path: "/spec/tolerations/-", value: { ...SIMULATED_TAINT, operator: "Equal" } }
            : { op: "add", path: "/spec/tolerations", value: [{ ...SIMULATED_TAINT, operator: "Equal" }] },
    ];
}

export class AdmissionWebhook {
    private server?: https.Server;
    private readonly built: Set<string>;
    /** `<ns>/<name>` of every pod sent to the kwok node, with its images. */
    readonly sentToKwok: string[] = [];

    constructor(
        private readonly pki: string,
        builtRefs: string[],
        private readonly say: (line: string) => void,
    ) {
        this.built = new Set(builtRefs.map(repositoryOf));
    }

    async start(kube: Kube): Promise<void> {
        const read = (f: string) => fs.readFileSync(path.join(this.pki, f));
        this.server = https.createServer({ cert: read("webhook.crt"), key: read("webhook.key") }, (req, res) => {
            let body = "";
            req.setEncoding("utf8");
            req.on("data", (d: string) => (body += d));
            req.on("end", () => {
                const review = JSON.parse(body) as AdmissionReview;
                const pod = review.request.object;
                const patch = placement(pod.spec, this.built);
                if (patch) {
                    const images = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])].map(
                        (c) => c.image,
                    );
                    this.sentToKwok.push(
                        `${review.request.namespace}/${pod.metadata.name ?? `${pod.metadata.generateName ?? ""}*`} (${[...new Set(images)].join(", ")})`,
                    );
                }
                res.setHeader("content-type", "application/json");
                res.end(
                    JSON.stringify({
                        apiVersion: review.apiVersion,
                        kind: review.kind,
                        response: {
                            uid: review.request.uid,
                            allowed: true,
                            ...(patch
                                ? {
                                      patchType: "JSONPatch",
                                      patch: Buffer.from(JSON.stringify(patch)).toString("base64"),
                                  }
                                : {}),
                        },
                    }),
                );
            });
        });
        await new Promise<void>((resolve) => this.server!.listen(WEBHOOK.port, WEBHOOK.host, resolve));
        await kube.apply({
            apiVersion: "admissionregistration.k8s.io/v1",
            kind: "MutatingWebhookConfiguration",
            metadata: { name: "lakehouse-suite-simulated-images" },
            webhooks: [
                {
                    name: "simulated-images.lakehouse.test",
                    clientConfig: {
                        url: `https://${WEBHOOK.host}:${WEBHOOK.port}/mutate`,
                        caBundle: read("ca.crt").toString("base64"),
                    },
                    rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
                    namespaceSelector: {
                        matchExpressions: [
                            { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] },
                        ],
                    },
                    sideEffects: "None",
                    admissionReviewVersions: ["v1"],
                    failurePolicy: "Fail",
                    timeoutSeconds: 5,
                },
            ],
        });
        this.say(
            `  admission webhook on ${WEBHOOK.host}:${WEBHOOK.port}: pods with none of the ${this.built.size} built images go to the kwok node`,
        );
    }

    async stop(): Promise<void> {
        await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }
}
