// The platform's certificate authority and the certificates of its TLS servers.
//
// Issued by Helm, inside the install, from a chart of this repository (charts/lakehouse-certificates):
// Sprig's genCA and genSignedCert make the keys where the release is installed, and `lookup` keeps
// what an earlier install issued, so an upgrade changes nothing that still holds. The private keys go
// from Helm straight into the cluster's Secrets: no key is ever an input, output or plan value of
// Pulumi (the Release's state holds its values, never its manifest). @pulumi/tls would keep every key
// in the stack's state, and cert-manager is not on every cluster.
import type * as k8s from "@pulumi/kubernetes";
import { Release as HelmRelease } from "@pulumi/kubernetes/helm/v3/release";
import * as pulumi from "@pulumi/pulumi";
import { childOptions } from "./k8s";

/** The local chart: a directory of this repository, relative to the project as charts/dagster is. */
export const CERTIFICATES_CHART = {
    name: "lakehouse-certificates",
    version: "0.1.0",
    path: "charts/lakehouse-certificates",
} as const;

/** The ConfigMap (key `ca.crt`) that holds the CA's certificate in each namespace whose clients verify servers. */
export const TRUST_CONFIGMAP = "lakehouse-ca";
/** Where a client pod mounts that ConfigMap: its CA file is `${CA_DIR}/ca.crt`. */
export const CA_DIR = "/etc/lakehouse/ca";
/**
 * The CA's ConfigMap as a pod mounts it (volume `ca` at CA_DIR), for every pod that verifies a
 * server; none without a ConfigMap.
 */
export function caMount(configMap: string | undefined): {
    volumes: k8s.types.input.core.v1.Volume[];
    volumeMounts: k8s.types.input.core.v1.VolumeMount[];
} {
    if (configMap === undefined) return { volumes: [], volumeMounts: [] };
    return {
        volumes: [{ name: "ca", configMap: { name: configMap } }],
        volumeMounts: [{ name: "ca", mountPath: CA_DIR, readOnly: true }],
    };
}

/** The Secret of the CA itself (kubernetes.io/tls), in the release's namespace. */
export const CA_SECRET = "lakehouse-ca";

export interface TlsServer {
    /** The kubernetes.io/tls Secret the certificate goes to (keys tls.crt, tls.key, ca.crt, keystore.pem). */
    secretName: string;
    namespace: string;
    /** Every name clients use: the first is the certificate's subject. */
    dnsNames: string[];
    /** A new number issues a new certificate (rotation). */
    generation: number;
}

export interface CertificatesArgs {
    /** Where the release and the CA's Secret live. */
    namespace: string;
    environment: string;
    servers: TlsServer[];
    /** Namespaces whose clients verify the servers: each gets the CA's ConfigMap. */
    trustNamespaces: string[];
    /** A new number issues a new CA (and new certificates); the ConfigMaps trust the old one too until the next. */
    caGeneration: number;
}

/** Values for the lakehouse-certificates chart. */
export function certificatesValues(args: CertificatesArgs): Record<string, unknown> {
    return {
        ca: { secretName: CA_SECRET, commonName: `lakehouse ${args.environment} CA`, generation: args.caGeneration },
        servers: args.servers.map((s) => ({
            secretName: s.secretName,
            namespace: s.namespace,
            generation: s.generation,
            dnsNames: s.dnsNames,
        })),
        trustConfigMap: TRUST_CONFIGMAP,
        trustNamespaces: [...new Set(args.trustNamespaces)].sort(),
    };
}

export class Certificates extends pulumi.ComponentResource {
    public readonly release: HelmRelease;
    /** Where clients find the CA's certificate: the ConfigMap `lakehouse-ca`, key `ca.crt`. */
    public readonly trustConfigMap = TRUST_CONFIGMAP;

    constructor(name: string, args: CertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:security:Certificates", name, {}, opts);
        this.release = new HelmRelease(
            name,
            {
                name: CERTIFICATES_CHART.name,
                chart: CERTIFICATES_CHART.path,
                version: CERTIFICATES_CHART.version,
                namespace: args.namespace,
                values: certificatesValues(args),
                maxHistory: 10,
            },
            childOptions(this, opts),
        );
        this.registerOutputs({ trustConfigMap: this.trustConfigMap });
    }
}
