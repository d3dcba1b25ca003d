// Dagster's webserver behind a login (`dagsterLogin`). Dagster's open-source webserver has no
// authentication of its own, and it launches runs: anyone who reaches it runs code with Dagster's
// credentials. So clients reach an authenticating proxy in Dagster's namespace instead
// (oauth2-proxy, the proxy the Kubernetes field puts in front of tools without a login), which
// forwards a request to the webserver only with a session: the platform's admin login (an
// htpasswd entry, bcrypt) through its sign-in form or HTTP basic auth. The NetworkPolicies admit
// clients to the proxy's port only (network-policies.ts), so the webserver itself answers the
// proxy, its own namespace, and nobody else.
//
// Generated here, never typed: the admin's password (kept in a Secret and as a secret stack output
// for the person, only its bcrypt hash in the proxy's Secret) and the cookie secret that seals the
// sessions. Both are rotated by generation (`credentialGenerations` `dagster-login=N`); a rotation
// rolls the proxy, and every session signed with the old cookie secret ends.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Endpoint, serviceEndpoint, urlOf } from "./addresses";
import type { SizeProfile } from "./config";
import { generationKeepers } from "./credentials";
import {
    checksum,
    CREDENTIALS_REVISION,
    envFromSecret,
    NamespacedComponent,
    resourceRequirements,
    restrictedContainerSecurity,
    restrictedPodSecurity,
} from "./k8s";
import { PodSize, scaleSizes } from "./sizing";

/** The admin's login name: the one htpasswd entry. */
export const DAGSTER_ADMIN_USER = "admin";
/** The Secret with the admin's name and password (keys `username`, `password`), for the person and the checks. */
export const DAGSTER_ADMIN_SECRET = "dagster-login-admin";
/** The proxy's own Secret: the htpasswd file (the hash only), the cookie secret, the unused provider's client secret. */
export const DAGSTER_LOGIN_SECRET = "dagster-login";
export const DAGSTER_LOGIN_KEYS = {
    username: "username",
    password: "password",
    htpasswd: "htpasswd",
    cookieSecret: "cookie-secret",
    clientSecret: "client-secret",
} as const;

/** Where the proxy's routes live (oauth2-proxy's default prefix): its sign-in form posts to `<prefix>/sign_in`. */
export const LOGIN_PREFIX = "/oauth2";
/** The webserver's API: without a session it answers 401 (not the sign-in page), as an API client expects. */
export const API_ROUTES = ["^/graphql"];

const UID = 65532; // the image's user (distroless `nonroot`)
const MOUNTS = { htpasswd: "/etc/dagster-login/htpasswd", templates: "/etc/dagster-login/templates" };

const SMALL = {
    proxy: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
} satisfies Record<string, PodSize>;

/**
 * The sign-in page: the htpasswd form alone. oauth2-proxy's own page offers its identity provider
 * first, and with htpasswd only there is none (the provider's settings are placeholders it
 * requires), so its button would lead nowhere. The fields are the ones its page writer passes.
 */
export const SIGN_IN_TEMPLATE = `{{define "sign_in.html"}}<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to Dagster</title></head>
<body>
<h1>Sign in to Dagster</h1>
{{ if eq .StatusCode 401 }}<p>Wrong user name or password.</p>{{ end }}
<form method="POST" action="{{.ProxyPrefix}}/sign_in">
<input type="hidden" name="rd" value="{{.Redirect}}">
<label for="username">User name</label> <input type="text" name="username" id="username" autocomplete="username">
<label for="password">Password</label> <input type="password" name="password" id="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form>
</body>
</html>
{{end}}
`;

export interface DagsterLoginArgs {
    namespace: string;
    environment: string;
    clusterDomain: string;
    /** The proxy's image (`dagsterLoginImage`, through the registry mirror when one is set). */
    image: string;
    size: SizeProfile;
    /** The webserver the proxy forwards to, in the same namespace. */
    upstream: Endpoint;
    /** Generation of the admin's password and the cookie secret (`credentialGenerations`, `dagster-login`). */
    generation: number;
    /** The namespace's registry Secret the proxy pulls with (`imageRegistryUsername`). */
    registrySecret?: string;
}

/** The command line the proxy runs with: every setting but the secrets, which come from its Secret. */
export function loginProxyArgs(args: Pick<DagsterLoginArgs, "upstream">, port: number): string[] {
    return [
        `--http-address=0.0.0.0:${port}`,
        `--upstream=${urlOf(args.upstream, "http")}/`,
        `--htpasswd-file=${MOUNTS.htpasswd}/${DAGSTER_LOGIN_KEYS.htpasswd}`,
        "--display-htpasswd-form=true",
        `--custom-templates-dir=${MOUNTS.templates}`,
        // A provider is required, and never used: every session is an htpasswd login.
        "--provider=oidc",
        "--skip-oidc-discovery=true",
        "--oidc-issuer-url=https://login.invalid",
        "--login-url=https://login.invalid/authorize",
        "--redeem-url=https://login.invalid/token",
        "--oidc-jwks-url=https://login.invalid/jwks",
        "--client-id=dagster-login",
        // Whoever holds a password is let in: the htpasswd file is the list of who may.
        "--email-domain=*",
        ...API_ROUTES.map((r) => `--api-route=${r}`),
        "--cookie-name=_dagster_login",
        // The admin's password stays at the proxy; Dagster gets the user's name only.
        "--pass-basic-auth=false",
        "--skip-provider-button=false",
        "--silence-ping-logging=true",
    ];
}

/** The webserver's login proxy: its Secrets, its sign-in page, its Deployment and Service. */
export class DagsterLogin extends NamespacedComponent<DagsterLoginArgs> {
    /** `dagster-login.<ns>.svc.<domain>:4180`: where clients reach Dagster. */
    public readonly service: Endpoint;
    public readonly url: string;
    /** The admin's password: a secret output (`pulumi stack output --show-secrets dagsterAdminPassword`). */
    public readonly adminPassword: pulumi.Output<string>;
    public readonly deployment: k8s.apps.v1.Deployment;

    constructor(name: string, args: DagsterLoginArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:orchestration:DagsterLogin", name, args, opts, {
            component: "dagster",
            app: "dagster-login",
        });
        this.service = serviceEndpoint("dagsterWebserver", args.namespace, args.clusterDomain, { login: true });
        this.url = urlOf(this.service, "http");

        const secrets = this.issueSecrets(name);
        this.adminPassword = secrets.password;
        const templates = new k8s.core.v1.ConfigMap(
            `${name}-templates`,
            { metadata: this.meta("dagster-login-templates"), data: { "sign_in.html": SIGN_IN_TEMPLATE } },
            this.child(),
        );
        this.deployment = this.proxy(name, secrets.proxySecret, templates);
        new k8s.core.v1.Service(
            name,
            {
                metadata: this.meta(this.service.service),
                spec: {
                    selector: { "app.kubernetes.io/name": this.labels["app.kubernetes.io/name"] },
                    ports: [{ name: "http", port: this.service.port, targetPort: "http", protocol: "TCP" }],
                },
            },
            this.child(),
        );

        this.registerOutputs({ service: this.service, url: this.url, adminPassword: this.adminPassword });
    }

    /** The admin's password and the cookie secret, generated; the proxy's Secret holds the password's hash only. */
    private issueSecrets(name: string): { password: pulumi.Output<string>; proxySecret: k8s.core.v1.Secret } {
        const keepers = generationKeepers(this.args.generation);
        const password = new random.RandomPassword(
            `${name}-admin-password`,
            { length: 32, special: false, keepers },
            { parent: this },
        );
        // 32 characters: a 32-byte AES key for the session cookies, as oauth2-proxy requires (16, 24 or 32).
        const cookieSecret = new random.RandomPassword(
            `${name}-cookie-secret`,
            { length: 32, special: false, keepers },
            { parent: this },
        );
        const clientSecret = new random.RandomPassword(
            `${name}-client-secret`,
            { length: 32, special: false },
            { parent: this },
        );
        new k8s.core.v1.Secret(
            `${name}-admin`,
            {
                metadata: this.meta(DAGSTER_ADMIN_SECRET),
                type: "Opaque",
                stringData: {
                    [DAGSTER_LOGIN_KEYS.username]: DAGSTER_ADMIN_USER,
                    [DAGSTER_LOGIN_KEYS.password]: password.result,
                },
            },
            this.child(),
        );
        const proxySecret = new k8s.core.v1.Secret(
            name,
            {
                metadata: this.meta(DAGSTER_LOGIN_SECRET),
                type: "Opaque",
                stringData: {
                    [DAGSTER_LOGIN_KEYS.htpasswd]: pulumi.interpolate`${DAGSTER_ADMIN_USER}:${password.bcryptHash}\n`,
                    [DAGSTER_LOGIN_KEYS.cookieSecret]: cookieSecret.result,
                    [DAGSTER_LOGIN_KEYS.clientSecret]: clientSecret.result,
                },
            },
            this.child(),
        );
        return { password: pulumi.secret(password.result), proxySecret };
    }

    private proxy(name: string, secret: k8s.core.v1.Secret, templates: k8s.core.v1.ConfigMap): k8s.apps.v1.Deployment {
        const args = this.args;
        const port = this.service.port;
        const probe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 10, timeoutSeconds: 2 });
        return new k8s.apps.v1.Deployment(
            name,
            {
                metadata: this.meta(this.service.service),
                spec: {
                    replicas: 1,
                    selector: { matchLabels: { "app.kubernetes.io/name": this.labels["app.kubernetes.io/name"] } },
                    template: {
                        metadata: {
                            labels: this.labels,
                            annotations: {
                                // A rotated password or cookie secret rolls the proxy onto it.
                                [CREDENTIALS_REVISION]: `dagster-login=${args.generation}`,
                                "lakehouse-platform/sign-in-page": checksum(SIGN_IN_TEMPLATE),
                            },
                        },
                        spec: {
                            securityContext: restrictedPodSecurity(UID),
                            automountServiceAccountToken: false,
                            ...(args.registrySecret ? { imagePullSecrets: [{ name: args.registrySecret }] } : {}),
                            containers: [
                                {
                                    name: "oauth2-proxy",
                                    image: args.image,
                                    imagePullPolicy: "IfNotPresent",
                                    args: loginProxyArgs(args, port),
                                    env: [
                                        envFromSecret(
                                            "OAUTH2_PROXY_COOKIE_SECRET",
                                            secret.metadata.name,
                                            DAGSTER_LOGIN_KEYS.cookieSecret,
                                        ),
                                        envFromSecret(
                                            "OAUTH2_PROXY_CLIENT_SECRET",
                                            secret.metadata.name,
                                            DAGSTER_LOGIN_KEYS.clientSecret,
                                        ),
                                    ],
                                    ports: [{ name: "http", containerPort: port, protocol: "TCP" }],
                                    readinessProbe: probe("/ready"),
                                    livenessProbe: { ...probe("/ping"), failureThreshold: 6 },
                                    resources: resourceRequirements(scaleSizes(SMALL, args.size).proxy),
                                    securityContext: restrictedContainerSecurity(),
                                    volumeMounts: [
                                        { name: "htpasswd", mountPath: MOUNTS.htpasswd, readOnly: true },
                                        { name: "templates", mountPath: MOUNTS.templates, readOnly: true },
                                    ],
                                },
                            ],
                            volumes: [
                                {
                                    name: "htpasswd",
                                    secret: {
                                        secretName: secret.metadata.name,
                                        items: [
                                            { key: DAGSTER_LOGIN_KEYS.htpasswd, path: DAGSTER_LOGIN_KEYS.htpasswd },
                                        ],
                                    },
                                },
                                { name: "templates", configMap: { name: templates.metadata.name } },
                            ],
                        },
                    },
                },
            },
            this.child(),
        );
    }
}
