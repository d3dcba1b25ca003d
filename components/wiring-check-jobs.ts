// `verifyWiring`: after the components are ready, one short-lived Job per namespace that starts a
// connection runs that namespace's wiring checks (components/wiring-checks.ts) with the component's
// own credentials, read from the same Secrets it reads. The Jobs wait on what they check, so
// `pulumi up` waits for them, and a failed check fails the update naming its edge (the Job's
// termination message). A change of the wiring, an image or a credential's generation changes the
// pod template, which replaces the Job: the checks run again.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ComponentName } from "./config";
import {
    checksum,
    childOptions,
    envFromSecret,
    REPLACE_DELETE_FIRST,
    restrictedContainerSecurity,
    restrictedPodSecurity,
    RUN_CHECKSUM,
} from "./k8s";
import { platformLabels } from "./labels";
import { CA_DIR as CA_MOUNT, caMount } from "./certificates";
import { PostgresClientTls, tlsEnv } from "./postgres";
import { LOGIN_KEYS } from "./trino-security";
import { CHECK_ENV, checksBySource, CheckTool, renderWiringCheckScript, WiringCheck } from "./wiring-checks";

import Input = k8s.types.input.core.v1;

/** Name of each namespace's Job and of the ConfigMap with its script. */
export const WIRING_CHECK_NAME = "lakehouse-wiring-check";
export const WIRING_CHECK_SCRIPT = "wiring-check.sh";
const MOUNT = "/checks";

/** uid and gid the images run as: curlimages/curl's `curl_user`, the postgres image's `postgres`. */
const TOOL_USER: Record<CheckTool, { uid: number; gid: number }> = {
    curl: { uid: 100, gid: 101 },
    psql: { uid: 999, gid: 999 },
};

/** The CA's ConfigMap a source's checks mount (one per namespace, whichever server they verify). */
function caOf(source: CheckSource): string | undefined {
    return source.trinoLogin?.caConfigMap ?? source.databaseTls?.caConfigMap;
}

/** A namespace that starts connections: the credentials its component reads, and what its checks wait for. */
export interface CheckSource {
    /** The component's Garage key, a Secret in its namespace. */
    garageKey?: { secretName: string; accessKeyIdKey: string; secretAccessKeyKey: string };
    /** The component's PostgreSQL login, a Secret in its namespace. */
    login?: { secretName: string; passwordKey: string };
    /** The component's Trino login and the ConfigMap of the CA that signed Trino's certificate, in its namespace. */
    trinoLogin?: { secretName: string; caConfigMap: string };
    /** With `postgresTls`: how its PostgreSQL client verifies the server (the CA's ConfigMap in its namespace). */
    databaseTls?: PostgresClientTls;
    /** The credentials with their generations (`garage-key/trino=2`): a rotation runs the checks again. */
    revision: string;
    /** The component itself and the components its edges reach, when this stack deploys them. */
    dependsOn: pulumi.Resource[];
}

export interface WiringCheckJobsArgs {
    environment: string;
    namespaces: Record<ComponentName, string>;
    /** Every check of the stack's wiring. */
    checks: WiringCheck[];
    /** Each component that starts a connection. */
    sources: Partial<Record<ComponentName, CheckSource>>;
    /** The check images: curl (S3, HTTP, TCP), and PostgreSQL's own for psql. Pinned. */
    images: Record<CheckTool, string>;
}

export class WiringCheckJobs extends pulumi.ComponentResource {
    /** The Job of each namespace that starts a connection. */
    public readonly jobs: Partial<Record<ComponentName, k8s.batch.v1.Job>> = {};
    /** The script of each, as the Job runs it. */
    public readonly scripts: Partial<Record<ComponentName, string>> = {};

    private readonly args: WiringCheckJobsArgs;
    private readonly opts?: pulumi.ComponentResourceOptions;
    private readonly name: string;

    constructor(name: string, args: WiringCheckJobsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:platform:WiringChecks", name, {}, opts);
        this.args = args;
        this.opts = opts;
        this.name = name;
        for (const [component, checks] of checksBySource(args.checks)) {
            const source = args.sources[component];
            if (source === undefined)
                throw new Error(
                    `internal error: ${component} starts connections but the platform gave no credentials for its checks`,
                );
            this.jobs[component] = this.job(component, checks, source);
        }
        this.registerOutputs({});
    }

    private job(component: ComponentName, checks: WiringCheck[], source: CheckSource): k8s.batch.v1.Job {
        const namespace = this.args.namespaces[component];
        const labels = {
            ...platformLabels(component, this.args.environment),
            "app.kubernetes.io/name": WIRING_CHECK_NAME,
        };
        const script = renderWiringCheckScript(namespace, checks);
        this.scripts[component] = script;
        const meta = { name: WIRING_CHECK_NAME, namespace, labels };
        const configMap = new k8s.core.v1.ConfigMap(
            `${this.name}-${component}-script`,
            { metadata: meta, data: { [WIRING_CHECK_SCRIPT]: script } },
            childOptions(this, this.opts, { aliases: [{ name: `${component}-wiring-check-script` }] }),
        );
        const tools = (["curl", "psql"] as const).filter((t) => checks.some((c) => c.tool === t));
        const containers = tools.map((t) => this.container(t, source));
        return new k8s.batch.v1.Job(
            `${this.name}-${component}`,
            {
                metadata: meta,
                spec: {
                    // A Service that is not ready yet gets two more tries; a wrong address fails all three.
                    backoffLimit: 2,
                    activeDeadlineSeconds: 600,
                    template: {
                        metadata: {
                            labels,
                            annotations: {
                                [RUN_CHECKSUM]: checksum(
                                    script,
                                    ...tools.map((t) => this.args.images[t]),
                                    source.revision,
                                ),
                            },
                        },
                        spec: {
                            restartPolicy: "Never",
                            automountServiceAccountToken: false,
                            enableServiceLinks: false,
                            securityContext: restrictedPodSecurity(TOOL_USER.curl.uid, TOOL_USER.curl.gid),
                            containers,
                            volumes: [
                                { name: "script", configMap: { name: configMap.metadata.name } },
                                ...caMount(caOf(source)).volumes,
                            ],
                        },
                    },
                },
            },
            childOptions(this, this.opts, {
                dependsOn: [configMap, ...source.dependsOn],
                aliases: [{ name: `${component}-wiring-check` }],
                ...REPLACE_DELETE_FIRST,
            }),
        );
    }

    /** One tool's container: the script with the tool's checks, credentials from the component's Secrets. */
    private container(tool: CheckTool, source: CheckSource): Input.Container {
        const env: Input.EnvVar[] = [{ name: CHECK_ENV.terminationLog, value: "/dev/termination-log" }];
        if (tool === "curl" && source.garageKey) {
            env.push(
                envFromSecret(CHECK_ENV.s3AccessKeyId, source.garageKey.secretName, source.garageKey.accessKeyIdKey),
            );
            env.push(
                envFromSecret(
                    CHECK_ENV.s3SecretAccessKey,
                    source.garageKey.secretName,
                    source.garageKey.secretAccessKeyKey,
                ),
            );
        }
        if (tool === "psql" && source.login)
            env.push(envFromSecret(CHECK_ENV.pgPassword, source.login.secretName, source.login.passwordKey));
        // psql verifies PostgreSQL as the component's own client does (libpq reads these).
        const database = tool === "psql" ? source.databaseTls : undefined;
        env.push(...tlsEnv(database));
        const trino = tool === "curl" ? source.trinoLogin : undefined;
        if (trino) {
            env.push(envFromSecret(CHECK_ENV.trinoUser, trino.secretName, LOGIN_KEYS.username));
            env.push(envFromSecret(CHECK_ENV.trinoToken, trino.secretName, LOGIN_KEYS.token));
            env.push({ name: CHECK_ENV.caFile, value: `${CA_MOUNT}/ca.crt` });
        }
        const user = TOOL_USER[tool];
        return {
            name: tool,
            image: this.args.images[tool],
            command: ["sh", `${MOUNT}/${WIRING_CHECK_SCRIPT}`, tool],
            env,
            resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
            securityContext: { ...restrictedContainerSecurity(), runAsUser: user.uid, runAsGroup: user.gid },
            terminationMessagePolicy: "FallbackToLogsOnError",
            volumeMounts: [
                { name: "script", mountPath: MOUNT, readOnly: true },
                ...(trino || database ? caMount(caOf(source)).volumeMounts : []),
            ],
        };
    }
}
