// The platform as one stack's program produces it, run under the offline engine: the files it
// writes (ConfigMap data), the values of the Secrets it generates, the container specs that say
// which file goes where and which Secret key becomes which environment variable, the Helm values,
// the outputs. The end-to-end suite takes all of it as it is; nothing here edits a file.
import { unwrapSecrets } from "../../offline/engine";
import { platformView, runStack, StackRun } from "../../offline/run-stack";

type Json = Record<string, unknown>;

const isMap = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

export interface K8sObject {
    type: string;
    /** The Pulumi resource name. */
    name: string;
    namespace: string;
    /** metadata.name: the object's name in the cluster. */
    objectName: string;
    inputs: Json;
}

export interface ContainerEnv {
    /** Every variable the container gets, as the kubelet would set it. */
    env: Record<string, string>;
    /** Which of them come from Secrets (their values are never printed). */
    fromSecrets: string[];
}

export interface Container {
    name: string;
    image: string;
    command: string[];
    args: string[];
    spec: Json;
}

/** One stack's program, run offline, as the files and values it would hand the cluster. */
export class PlatformRun {
    readonly outputs: Json;
    /**
     * The platform component's outputs: the contract in full (every service with its host and
     * port), `addresses`, `namespaces`, `wiring`, `wiringChecks`; the stack outputs are the short form.
     */
    readonly details: Json;
    readonly objects: K8sObject[];

    constructor(
        readonly run: StackRun,
        /** The config values given over the stack file (`--set`). */
        readonly overrides: Record<string, unknown> = {},
    ) {
        this.outputs = unwrapSecrets(run.outputs);
        const view = unwrapSecrets(platformView(run)) as Json;
        this.details = { ...(isMap(view.contract) ? view.contract : {}), ...view };
        this.objects = run.resources.flatMap((r) => {
            if (!r.custom || r.read || !r.type.startsWith("kubernetes:")) return [];
            const inputs = unwrapSecrets(r.inputs);
            const meta = isMap(inputs.metadata) ? inputs.metadata : {};
            const namespace =
                typeof meta.namespace === "string"
                    ? meta.namespace
                    : typeof inputs.namespace === "string"
                      ? inputs.namespace
                      : "";
            const objectName =
                typeof meta.name === "string" ? meta.name : typeof inputs.name === "string" ? inputs.name : r.name;
            return [{ type: r.type, name: r.name, namespace, objectName, inputs }];
        });
    }

    static async of(stack: string, overrides: Record<string, unknown> = {}): Promise<PlatformRun> {
        return new PlatformRun(await runStack(stack, { overrides }), overrides);
    }

    get stack(): string {
        return this.run.stack;
    }

    /** The object of `kind` (`ConfigMap`, `Secret`, `StatefulSet`, `Release`, ...) named so in the cluster. */
    object(kind: string, namespace: string, name: string): K8sObject {
        const found = this.objects.find(
            (o) => o.type.endsWith(`:${kind}`) && o.namespace === namespace && o.objectName === name,
        );
        if (!found) throw new Error(`the program creates no ${kind} ${namespace}/${name} in stack ${this.stack}`);
        return found;
    }

    has(kind: string, namespace: string, name: string): boolean {
        return this.objects.some(
            (o) => o.type.endsWith(`:${kind}`) && o.namespace === namespace && o.objectName === name,
        );
    }

    /** A ConfigMap's data: the files as the pods get them. */
    configMap(namespace: string, name: string): Record<string, string> {
        return (this.object("ConfigMap", namespace, name).inputs.data ?? {}) as Record<string, string>;
    }

    /** A Secret's values, as the API serves them decoded (stringData, or base64 data). */
    secret(namespace: string, name: string): Record<string, string> {
        const inputs = this.object("Secret", namespace, name).inputs;
        const out: Record<string, string> = {};
        if (isMap(inputs.data))
            for (const [k, v] of Object.entries(inputs.data))
                out[k] = Buffer.from(String(v), "base64").toString("utf8");
        if (isMap(inputs.stringData)) for (const [k, v] of Object.entries(inputs.stringData)) out[k] = String(v);
        return out;
    }

    /** Whether the stack deploys a Helm release of this name. */
    hasRelease(release: string): boolean {
        return this.objects.some((o) => o.type === "kubernetes:helm.sh/v3:Release" && o.objectName === release);
    }

    /** A Helm release's inputs (chart, version, namespace, values), by its release name. */
    release(release: string): Json {
        const r = this.objects.find((o) => o.type === "kubernetes:helm.sh/v3:Release" && o.objectName === release);
        if (!r) throw new Error(`the program deploys no Helm release ${release} in stack ${this.stack}`);
        return r.inputs;
    }

    /**
     * Adds the objects a chart renders (`helm template` with the release's values) beside the
     * program's own, so that a rendered workload's env resolves against both: the chart's
     * ConfigMaps and the program's Secrets, as in the release's namespace.
     */
    addRendered(objects: K8sObject[]): void {
        this.objects.push(...objects);
    }

    /** A Helm release's values, by its release name. */
    helmValues(release: string): Json {
        const r = this.objects.find((o) => o.type === "kubernetes:helm.sh/v3:Release" && o.objectName === release);
        if (!r) throw new Error(`the program deploys no Helm release ${release} in stack ${this.stack}`);
        return (r.inputs.values ?? {}) as Json;
    }

    /** The pod spec of a workload (StatefulSet, Deployment, Job). */
    podSpec(kind: string, namespace: string, name: string): Json {
        const spec = this.object(kind, namespace, name).inputs.spec as Json;
        return (spec.template as Json).spec as Json;
    }

    replicas(kind: string, namespace: string, name: string): number {
        return Number((this.object(kind, namespace, name).inputs.spec as Json).replicas ?? 1);
    }

    container(kind: string, namespace: string, name: string, container: string, init = false): Container {
        const pod = this.podSpec(kind, namespace, name);
        const list = (init ? pod.initContainers : pod.containers) as Json[];
        const c = list.find((x) => x.name === container);
        if (!c) throw new Error(`${kind} ${namespace}/${name} has no container ${container}`);
        return {
            name: container,
            image: String(c.image),
            command: (c.command as string[]) ?? [],
            args: (c.args as string[]) ?? [],
            spec: c,
        };
    }

    /**
     * The environment the kubelet would give a container: `envFrom` Secrets and ConfigMaps first,
     * then `env` (values, and `secretKeyRef`/`configMapKeyRef` resolved in the pod's namespace).
     */
    containerEnv(namespace: string, container: Container): ContainerEnv {
        const env: Record<string, string> = {};
        const fromSecrets: string[] = [];
        for (const from of (container.spec.envFrom as Json[] | undefined) ?? []) {
            if (isMap(from.secretRef)) {
                if (from.secretRef.optional === true && !this.has("Secret", namespace, String(from.secretRef.name)))
                    continue;
                for (const [k, v] of Object.entries(this.secret(namespace, String(from.secretRef.name)))) {
                    env[k] = v;
                    fromSecrets.push(k);
                }
            } else if (isMap(from.configMapRef)) {
                Object.assign(env, this.configMap(namespace, String(from.configMapRef.name)));
            }
        }
        for (const e of (container.spec.env as Json[] | undefined) ?? []) {
            const name = String(e.name);
            if (typeof e.value === "string") {
                env[name] = e.value;
            } else if (isMap(e.valueFrom) && isMap(e.valueFrom.secretKeyRef)) {
                const ref = e.valueFrom.secretKeyRef;
                const value = this.secret(namespace, String(ref.name))[String(ref.key)];
                if (value === undefined)
                    throw new Error(
                        `${container.name}: env ${name} refers to key ${String(ref.key)} that Secret ${namespace}/${String(ref.name)} does not have`,
                    );
                env[name] = value;
                fromSecrets.push(name);
            } else if (isMap(e.valueFrom) && isMap(e.valueFrom.configMapKeyRef)) {
                const ref = e.valueFrom.configMapKeyRef;
                env[name] = this.configMap(namespace, String(ref.name))[String(ref.key)];
            }
        }
        return { env, fromSecrets: [...new Set(fromSecrets)] };
    }

    /** A detail of the platform's view by path (`components.garage.services.s3.host`, `wiringChecks`). */
    detail<T = unknown>(path: string): T {
        let v: unknown = this.details;
        for (const k of path.split(".")) v = isMap(v) ? v[k] : undefined;
        if (v === undefined) throw new Error(`stack ${this.stack}'s platform has no output ${path}`);
        return v as T;
    }
}
