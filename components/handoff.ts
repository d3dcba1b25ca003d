// Split stacks: credentials issued by another stack (Garage keys, PostgreSQL logins) wait in the
// issuer's namespace; the consuming stack copies each into its own namespace, under the name the
// single-stack deployment gives it, because a pod reads Secrets of its own namespace only.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface SecretLocation {
    namespace: string;
    name: string;
}

/**
 * Reads the Secret at `from` (it must exist: the issuing stack is deployed first) and writes its
 * data to `to`. The data passes through this stack's state as a secret; no value is in the code,
 * the config or the outputs.
 */
export function copySecret(
    name: string,
    from: SecretLocation,
    to: SecretLocation,
    labels: Record<string, string>,
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
    const source = k8s.core.v1.Secret.get(`${name}-source`, `${from.namespace}/${from.name}`, opts);
    return new k8s.core.v1.Secret(
        name,
        {
            metadata: {
                name: to.name,
                namespace: to.namespace,
                labels,
                annotations: { "lakehouse-platform/copied-from": `${from.namespace}/${from.name}` },
            },
            type: "Opaque",
            data: pulumi.secret(source.data),
        },
        opts,
    );
}
