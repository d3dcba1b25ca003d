// Small builders shared by the components that define their own workloads.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import type { ComponentName, Resources } from "./config";
import { platformLabels } from "./labels";

import Input = k8s.types.input.core.v1;

/**
 * Options of the resources that hold data, and of those a retained workload needs: `protect`,
 * `retainOnDelete`, and the provider that takes them over after a destroy that kept them.
 */
export interface KeepData {
    protect: boolean;
    retainOnDelete: boolean;
    provider?: pulumi.ProviderResource;
}

/** Pod-level security context that passes the `restricted` Pod Security Standard. */
export function restrictedPodSecurity(uid: number, gid = uid): Input.PodSecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: gid,
        fsGroup: gid,
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** Container security context that passes `restricted`; the root file system is read-only unless the image must write to it. */
export function restrictedContainerSecurity(readOnlyRootFilesystem = true): Input.SecurityContext {
    return {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

export function resourceRequirements(r: Resources): Input.ResourceRequirements {
    return { requests: { ...r.requests }, limits: { ...r.limits } };
}

/** An environment variable read from a key of a Secret, so the value never sits in a spec. */
export function envFromSecret(name: string, secret: pulumi.Input<string>, key: string): Input.EnvVar {
    return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

/**
 * Options of an object with a fixed name that a change can only replace (a Job's template, a
 * StatefulSet's volume templates are immutable): the old one is deleted before the new one is
 * created, or the create finds the name taken. Stated, not left to the provider's reading of the
 * object (an object imported after an interrupted update was replaced create-first and failed).
 */
export const REPLACE_DELETE_FIRST = { deleteBeforeReplace: true } as const;

/**
 * Pod-template annotation of a Job holding a checksum of everything it acts on: a change replaces
 * the Job (its template is immutable), so it runs again exactly when its input changed.
 */
export const RUN_CHECKSUM = "lakehouse-platform/run-checksum";

/** Short content hash, for pod-template annotations that roll pods when a file they read changes. */
export function checksum(...parts: string[]): string {
    const h = createHash("sha256");
    for (const p of parts) h.update(p).update("\0");
    return h.digest("hex").slice(0, 16);
}

/** Children of a component: parented to it and waiting on everything the component waits on. */
export function childOptions(
    parent: pulumi.ComponentResource,
    componentOpts: pulumi.ComponentResourceOptions | undefined,
    extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
    return pulumi.mergeOptions({ parent, dependsOn: componentOpts?.dependsOn }, extra);
}

/**
 * Pod-template annotation holding a one-way checksum of the credentials a workload reads from
 * Secrets: Kubernetes does not restart pods whose Secret changed, so a rotated credential changes
 * this annotation and the workload rolls onto it.
 */
export const CREDENTIALS_REVISION = "lakehouse-platform/credentials-revision";

/**
 * A component whose children live in its namespace, carry its labels and are parented to it,
 * through one options helper (`child`) and one metadata helper (`meta`).
 */
export abstract class NamespacedComponent<A extends { namespace: string; environment: string }>
    extends pulumi.ComponentResource
{
    protected readonly args: A;
    protected readonly opts?: pulumi.ComponentResourceOptions;
    /** The component's labels, with `app.kubernetes.io/name` for its workload. */
    protected readonly labels: Record<string, string>;

    protected constructor(
        type: string,
        name: string,
        args: A,
        opts: pulumi.ComponentResourceOptions | undefined,
        identity: { component: ComponentName; app: string },
    ) {
        super(type, name, {}, opts);
        this.args = args;
        this.opts = opts;
        this.labels = {
            ...platformLabels(identity.component, args.environment),
            "app.kubernetes.io/name": identity.app,
        };
    }

    protected child(extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
        return childOptions(this, this.opts, extra);
    }

    protected meta(resourceName: string, namespace: string = this.args.namespace) {
        return { name: resourceName, namespace, labels: this.labels };
    }
}
