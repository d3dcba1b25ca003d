import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddressEntry, addressTable, ServiceId } from "./addresses";
import { ComponentName, PlatformConfig } from "./config";
import { Namespaces } from "./namespaces";

export interface LakehousePlatformArgs {
    /** The validated stack configuration. */
    config: PlatformConfig;
}

/**
 * The whole platform of one stack: the Kubernetes provider built from the stack's config, the
 * namespaces, and the components, composed in dependency order.
 */
export class LakehousePlatform extends pulumi.ComponentResource {
    /** The provider every Kubernetes resource of the stack goes through. */
    public readonly provider: k8s.Provider;
    /** Namespace of each deployed component. */
    public readonly namespaces: Partial<Record<ComponentName, pulumi.Output<string>>>;
    /** Address of every service the stack deploys. */
    public readonly addresses: Partial<Record<ServiceId, AddressEntry>>;

    constructor(name: string, args: LakehousePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:platform:LakehousePlatform", name, {}, opts);
        const cfg = args.config;

        this.provider = new k8s.Provider(
            "kubernetes",
            {
                context: cfg.kubernetes.context,
                kubeconfig: cfg.kubernetes.kubeconfig,
                enableServerSideApply: true,
            },
            { parent: this },
        );

        const deployed: Partial<Record<ComponentName, string>> = {};
        for (const c of cfg.components) deployed[c] = cfg.namespaces[c];
        const namespaces = new Namespaces(
            "namespaces",
            { namespaces: deployed, environment: cfg.environment },
            { parent: this, provider: this.provider },
        );

        this.namespaces = namespaces.names;
        this.addresses = addressTable(cfg.namespaces, cfg.clusterDomain, cfg.components);
        this.registerOutputs({ namespaces: this.namespaces, addresses: this.addresses });
    }
}
