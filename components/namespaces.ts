import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ComponentName, RegistryLogin } from "./config";
import { childOptions, KeepData } from "./k8s";
import { platformLabels } from "./labels";

export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/**
 * The Pod Security Admission level each component's pods pass. `audit` and `warn` are always
 * `restricted`, so whatever keeps a namespace below it stays visible.
 */
export const POD_SECURITY: Record<ComponentName, PodSecurityLevel> = {
    garage: "restricted",
    database: "restricted",
    trino: "restricted",
    airbyte: "baseline",
    dagster: "baseline",
};

export interface NamespacesArgs {
    /** Namespace name of each component this stack deploys. */
    namespaces: Partial<Record<ComponentName, string>>;
    /** Environment label value (the stack name unless configured). */
    environment: string;
    /**
     * Options of the namespaces that hold data: deleting a namespace deletes its volumes, so these
     * get `protect` and `retainOnDelete` as configured.
     */
    keepData?: Partial<Record<ComponentName, KeepData>>;
    /**
     * The registry login every pod of the platform pulls with (`imageRegistryUsername`): a
     * `kubernetes.io/dockerconfigjson` Secret named REGISTRY_SECRET in each namespace, which a
     * namespace's name waits for, so that no pod starts before it can pull.
     */
    registryLogin?: RegistryLogin;
}

/** The registry Secret of each namespace (`imagePullSecrets` of every pod). */
export const REGISTRY_SECRET = "lakehouse-registry-login";

/** The `.dockerconfigjson` of a registry login, as `kubectl create secret docker-registry` writes it. */
export function dockerConfigJson(login: RegistryLogin): string {
    const auth = Buffer.from(`${login.username}:${login.password}`).toString("base64");
    return JSON.stringify({ auths: { [login.server]: { username: login.username, password: login.password, auth } } });
}

/** Labels of a platform namespace: ownership, component, environment and Pod Security Admission. */
export function namespaceLabels(component: ComponentName, environment: string): Record<string, string> {
    const level = POD_SECURITY[component];
    return {
        ...platformLabels(component, environment),
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    };
}

/** One labelled Namespace per component the stack deploys. */
export class Namespaces extends pulumi.ComponentResource {
    /** Namespace name per component; resolves once the Namespace exists. */
    public readonly names: Partial<Record<ComponentName, pulumi.Output<string>>> = {};
    public readonly namespaces: Partial<Record<ComponentName, k8s.core.v1.Namespace>> = {};

    constructor(name: string, args: NamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:platform:Namespaces", name, {}, opts);
        for (const [component, namespace] of Object.entries(args.namespaces) as [ComponentName, string][]) {
            // Named after this component (`namespaces-garage`); the alias keeps stacks deployed under the old name.
            const ns = new k8s.core.v1.Namespace(
                `${name}-${component}`,
                { metadata: { name: namespace, labels: namespaceLabels(component, args.environment) } },
                childOptions(this, opts, { ...args.keepData?.[component], aliases: [{ name: component }] }),
            );
            this.namespaces[component] = ns;
            this.names[component] = ns.metadata.name;
            if (args.registryLogin) {
                const login = new k8s.core.v1.Secret(
                    `${name}-${component}-registry-login`,
                    {
                        metadata: {
                            name: REGISTRY_SECRET,
                            namespace: ns.metadata.name,
                            labels: platformLabels(component, args.environment),
                        },
                        type: "kubernetes.io/dockerconfigjson",
                        stringData: { ".dockerconfigjson": pulumi.secret(dockerConfigJson(args.registryLogin)) },
                    },
                    // Kept with the data: a retained workload pulls with it when its pods start again.
                    childOptions(this, opts, { ...args.keepData?.[component] }),
                );
                this.names[component] = pulumi.all([ns.metadata.name, login.metadata.name]).apply(([n]) => n);
            }
        }
        this.registerOutputs({ names: this.names });
    }
}
