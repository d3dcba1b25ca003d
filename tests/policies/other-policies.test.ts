import { strict as assert } from "assert";
import { airbyteAuthProblems } from "../../policies/airbyte-auth-on";
import { isLoginProxyImage, loginProxyProblems } from "../../policies/login-proxy-closed";
import { chartValuesKnown } from "../../policies/chart-values-known";
import { chartVersionPinned } from "../../policies/chart-version-pinned";
import { componentNamespace } from "../../policies/component-namespace";
import { configurationReadable } from "../../policies/configuration-readable";
import { chartNameOf } from "../../policies/lib/chart-values";
import { MAX_DEPTH, MAX_STRING } from "../../policies/lib/strings";
import { imageTagPinned } from "../../policies/image-tag-pinned";
import { noIpEndpoints } from "../../policies/no-ip-endpoints";
import { noPlaintextCredentials } from "../../policies/no-plaintext-credentials";
import { sslmodeProblem } from "../../policies/postgres-clients-verify";
import { postgresTlsProblem, trinoTlsProblem } from "../../policies/servers-use-tls";
import { targetProblems } from "../../policies/trino-clients-authenticate";
import {
    configMap,
    deployment,
    devPlatform,
    Fixture,
    messages,
    namespace,
    T,
    trinoCatalog,
    trinoRelease,
} from "../helpers/policy";

describe("policy no-ip-endpoints", () => {
    it("flags an IP address as an endpoint", async () => {
        const [found, ...rest] = await messages(noIpEndpoints, [
            trinoRelease(trinoCatalog({ s3: "http://10.43.12.7:3900" })),
        ]);
        assert.deepEqual(rest, []);
        assert.match(found, /s3\.endpoint = "http:\/\/10\.43\.12\.7:3900": 10\.43\.12\.7 is an IP address/);
        const [env] = await messages(noIpEndpoints, [
            deployment("x", "trino", { env: [{ name: "DB", value: "[fd00::12]:5432" }] }),
        ]);
        assert.match(env, /\[fd00::12\] is an IP address/);
    });

    it("accepts bind addresses, loopback, and addresses the config allows", async () => {
        const toml =
            'rpc_bind_addr = "[::]:3901"\n[s3_api]\napi_bind_addr = "[::]:3900"\n[admin]\napi_bind_addr = "0.0.0.0:3903"\n';
        assert.deepEqual(
            await messages(noIpEndpoints, [
                configMap("garage-config", "garage", { "garage.toml": toml, probe: "http://127.0.0.1:8080/health" }),
            ]),
            [],
        );
        const fixed = deployment("x", "trino", { env: [{ name: "LEGACY_DB", value: "192.0.2.10:5432" }] });
        assert.equal((await messages(noIpEndpoints, [fixed])).length, 1);
        assert.deepEqual(await messages(noIpEndpoints, [fixed], { allowedHosts: ["192.0.2.10"] }), []);
    });
});

describe("policy no-plaintext-credentials", () => {
    it("flags literal passwords, secret keys and tokens, in values, properties, XML and env", async () => {
        const release: Fixture = {
            type: T.release,
            name: "dagster",
            props: {
                chart: "dagster",
                namespace: "dagster",
                version: "1.9.4",
                values: { postgresql: { postgresqlPassword: "test" } },
            },
        };
        const catalog = trinoRelease(
            trinoCatalog().replace("s3.aws-secret-key=${ENV:AWS_SECRET_ACCESS_KEY}", "s3.aws-secret-key=abc123secret"),
        );
        const xml =
            "<configuration><property><name>javax.jdo.option.ConnectionPassword</name><value>hunter2</value></property></configuration>";
        const cm = configMap("conf", "database", { "hive-site.xml": xml });
        const env = deployment("x", "airbyte", {
            env: [
                { name: "DATABASE_PASSWORD", value: "airbyte" },
                { name: "ADMIN_TOKEN", value: "t0k3n" },
            ],
        });
        const found = await messages(noPlaintextCredentials, [release, catalog, cm, env]);
        assert.equal(found.length, 5);
        assert.match(found[0], /values\.postgresql\.postgresqlPassword holds a literal postgresqlPassword/);
        assert.match(found[1], /values\.catalogs\.lakehouse › s3\.aws-secret-key holds a literal s3\.aws-secret-key/);
        assert.match(found[2], /data\["hive-site\.xml"\] › javax\.jdo\.option\.ConnectionPassword holds a literal/);
        assert.match(found[3], /env\["DATABASE_PASSWORD"\] holds a literal DATABASE_PASSWORD/);
        assert.match(found[4], /env\["ADMIN_TOKEN"\]/);
        for (const m of found)
            assert.doesNotMatch(m, /hunter2|abc123secret|t0k3n/, "a message must not repeat the secret");
    });

    it("flags Hadoop's own credential properties written as literals (S3A, Azure, GCS)", async () => {
        const prop = (name: string, value: string) =>
            `<property><name>${name}</name><value>${value}</value></property>`;
        const xml = `<configuration>${prop("fs.s3a.endpoint", "http://garage.garage.svc.cluster.local:3900")}${prop("fs.s3a.access.key", "AKIDEXAMPLEKEY")}${prop("fs.s3a.secret.key", "wJalrXUtnFEMI")}${prop("fs.s3a.session.token", "FwoGZXIvYXdz")}${prop("fs.s3a.bucket.lakehouse.secret.key", "abc")}${prop("fs.azure.account.key.acct.dfs.core.windows.net", "c2VjcmV0")}${prop("fs.gs.auth.service.account.private.key", "MIIEv")}${prop("fs.s3a.path.style.access", "true")}</configuration>`;
        const found = await messages(noPlaintextCredentials, [
            configMap("hive-metastore-conf", "database", { "core-site.xml": xml }),
        ]);
        assert.deepEqual(
            found.map((m) => / › (\S+) holds/.exec(m)![1]),
            [
                "fs.s3a.access.key",
                "fs.s3a.secret.key",
                "fs.s3a.session.token",
                "fs.s3a.bucket.lakehouse.secret.key",
                "fs.azure.account.key.acct.dfs.core.windows.net",
                "fs.gs.auth.service.account.private.key",
            ],
        );
        for (const m of found) assert.doesNotMatch(m, /wJalrXUtnFEMI|AKIDEXAMPLEKEY|c2VjcmV0/);
        // The same properties taken from the environment pass.
        const refs = `<configuration>${prop("fs.s3a.access.key", "${env.AWS_ACCESS_KEY_ID}")}${prop("fs.s3a.secret.key", "${env.AWS_SECRET_ACCESS_KEY}")}</configuration>`;
        assert.deepEqual(
            await messages(noPlaintextCredentials, [configMap("c", "database", { "core-site.xml": refs })]),
            [],
        );
    });

    it("flags key material under any name", async () => {
        const values = {
            config: { id: "GK0123456789abcdef01234567", note: "-----BEGIN RSA PRIVATE KEY-----\nMIIB..." },
            url: "postgresql://airbyte:s3cr3t@postgres.database.svc.cluster.local:5432/airbyte",
        };
        const found = await messages(noPlaintextCredentials, [
            { type: T.release, name: "x", props: { chart: "x", namespace: "x", values } },
        ]);
        assert.deepEqual(
            found.map((m) => /holds (.*); keep/.exec(m)![1]),
            ["a Garage access key id", "a private key", "a password in a URL"],
        );
    });

    it("accepts references: secretKeyRef, ${ENV:...}, ${env.X}, Secret names and keys, existingSecret", async () => {
        const values = {
            global: {
                database: {
                    secretName: "airbyte-postgres-credentials",
                    passwordSecretKey: "password",
                    userSecretKey: "username",
                },
                storage: { secretName: "airbyte-garage-credentials" },
                // The registry Secret's name for the connectors' pods.
                jobs: { kube: { mainContainerImagePullSecret: "lakehouse-registry-login" } },
            },
            auth: { existingSecret: "auth" },
            password: "",
            env: [{ name: "X", valueFrom: { secretKeyRef: { name: "s", key: "password" } } }],
        };
        const xml =
            "<configuration><property><name>javax.jdo.option.ConnectionPassword</name><value>${env.METASTORE_DB_PASSWORD}</value></property></configuration>";
        const env = deployment("x", "database", {
            env: [
                { name: "PGPASSWORD", valueFrom: { secretKeyRef: { name: "postgres-superuser", key: "password" } } },
                { name: "DB_PASSWORD_FILE_NAME_SECRET_NAME", value: "x" },
            ],
        });
        const resources = [
            { type: T.release, name: "a", props: { chart: "airbyte", namespace: "airbyte", values } },
            trinoRelease(),
            configMap("c", "database", { "hive-site.xml": xml }),
            env,
        ];
        assert.deepEqual(await messages(noPlaintextCredentials, resources), []);
    });
});

describe("policy component-namespace", () => {
    it("accepts components in their own labelled namespaces", async () => {
        const resources = [
            ...devPlatform(),
            trinoRelease(),
            configMap("conf", "database", {}, { "lakehouse-platform/component": "database" }),
        ];
        assert.deepEqual(await messages(componentNamespace, resources), []);
    });

    it("flags a release or platform object in the default namespace", async () => {
        const release: Fixture = {
            type: T.release,
            name: "airbyte",
            props: { chart: "airbyte", version: "2.2.0", values: {} },
        };
        const cm = configMap("conf", "default", {}, { "lakehouse-platform/component": "trino" });
        const found = await messages(componentNamespace, [...devPlatform(), release, cm]);
        assert.equal(found.length, 2);
        assert.match(found[0], /kubernetes:helm\.sh\/v3:Release "airbyte": it is in the default namespace/);
        assert.match(found[1], /ConfigMap "conf": it is in the default namespace/);
    });

    it("flags a component in another component's namespace, and names its own", async () => {
        const [found] = await messages(componentNamespace, [
            ...devPlatform(),
            trinoRelease(trinoCatalog(), "database"),
        ]);
        assert.match(
            found,
            /belongs to trino but is in namespace database, which is database's; trino's namespace is trino/,
        );
    });

    it("flags a platform namespace without the platform's labels", async () => {
        const bare = namespace("trino", "trino");
        delete (bare.props as any).metadata.labels["lakehouse-platform/environment"];
        delete (bare.props as any).metadata.labels["pod-security.kubernetes.io/enforce"];
        const [found] = await messages(componentNamespace, [bare]);
        assert.match(
            found,
            /namespace trino lacks the platform labels lakehouse-platform\/environment, pod-security\.kubernetes\.io\/enforce/,
        );
    });
});

describe("policy chart-version-pinned (advisory)", () => {
    it("flags a range or a missing version, and accepts exact versions and local charts", async () => {
        const release = (chart: string, version?: string): Fixture => ({
            type: T.release,
            name: chart,
            props: { chart, version, namespace: "x", values: {} },
        });
        const found = await messages(chartVersionPinned, [
            release("airbyte", "^2.2.0"),
            release("dagster"),
            release("trino", "1.42.2"),
            release("./vendor/charts/dagster"),
        ]);
        assert.equal(found.length, 2);
        assert.match(found[0], /chart "airbyte" has version "\^2\.2\.0"/);
        assert.match(found[1], /chart "dagster" has version null/);
        assert.equal(chartVersionPinned.enforcementLevel, "advisory");
    });
});

describe("policy chart-values-known (mandatory)", () => {
    const release = (chart: string, version: string | undefined, values: Record<string, unknown>): Fixture => ({
        type: T.release,
        name: chartNameOf(chart),
        props: { chart, version, namespace: "x", values },
    });

    it("flags a key the chart version neither defaults nor reads, and accepts the keys it knows", async () => {
        const found = await messages(chartValuesKnown, [
            release("trino", "1.42.2", { coordinator: { jvm: { maxHeapSize: "1G", maxHeap: "1G" } }, serve: {} }),
            release("trino", "1.42.2", { coordinator: { jvm: { maxHeapSize: "1G" } }, catalogs: { mine: "x" } }),
            release("charts/dagster", "1.9.4", { dagsterWebserver: { replicaCount: 2 } }),
        ]);
        assert.equal(found.length, 1);
        assert.match(
            found[0],
            /"trino": values set 2 keys chart trino 1\.42\.2 neither defaults nor reads: coordinator\.jvm\.maxHeap, serve\. Helm ignores them/,
        );
        assert.equal(chartValuesKnown.enforcementLevel, "mandatory");
    });

    it("refuses a chart version whose value paths are not recorded, saying how to record them", async () => {
        const found = await messages(chartValuesKnown, [
            release("trino", "1.43.0", {}),
            release("airbyte", "^2.2.0", {}), // chart-version-pinned's to report
            release("./vendor/charts/dagster", undefined, {}),
        ]);
        assert.equal(found.length, 1);
        assert.match(
            found[0],
            /no value paths are recorded for chart trino 1\.43\.0 \(recorded: 1\.42\.2\).*helm pull trino --repo <repository> --version 1\.43\.0 --untar.*npm run chart-keys -- trino.*policies\/chart-keys\/trino-1\.43\.0\.json/,
        );
    });

    it("lists eight unknown keys and counts the rest", async () => {
        const values = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`nonsense${i}`, true]));
        const [found] = await messages(chartValuesKnown, [release("trino", "1.42.2", values)]);
        assert.match(found, /11 keys [^:]*: (nonsense\d+, ){7}nonsense\d+ and 3 more\./);
    });
});

describe("policy image-tag-pinned (advisory)", () => {
    it("flags :latest and untagged images in workloads and values, and accepts tags, digests and chart defaults", async () => {
        const workload = deployment("x", "database", { image: "postgres:latest" });
        (workload.props as any).spec.template.spec.initContainers = [{ name: "init", image: "busybox" }];
        const values = {
            image: { repository: "trinodb/trino", tag: "" },
            sidecar: { image: "foo/bar:latest" },
            tool: { tag: "latest" },
            pinned: { image: `x@sha256:${"a".repeat(64)}` },
        };
        const found = await messages(imageTagPinned, [
            workload,
            { type: T.release, name: "r", props: { chart: "c", namespace: "n", values } },
            deployment("ok", "database", { image: "postgres:17.6" }),
        ]);
        assert.equal(found.length, 4);
        assert.match(found[0], /initContainers\["init"\]\.image = "busybox"/);
        assert.match(found[1], /containers\["x"\]\.image = "postgres:latest"/);
        assert.match(found[2], /values\.sidecar\.image = "foo\/bar:latest"/);
        assert.match(found[3], /values\.tool\.tag = "latest"/);
    });
});

describe("policy configuration-readable", () => {
    it("reports what no policy can read, as a mandatory violation naming the resource, the value and the reason", async () => {
        let deep: unknown = "garage:3900";
        for (let i = 0; i < MAX_DEPTH + 2; i++) deep = { nested: deep };
        const long = `http://garage:3900 ${"x".repeat(MAX_STRING)}`;
        const found = await messages(configurationReadable, [
            {
                type: T.release,
                name: "deep",
                props: { chart: "c", version: "1.0.0", namespace: "trino", values: { a: deep } },
            },
            configMap("long", "dagster", { "big.txt": long }),
            deployment("fine", "dagster", { env: [{ name: "X", value: "x".repeat(1000) }] }),
        ]);
        assert.equal(found.length, 2);
        assert.match(
            found[0],
            /Release "deep": values\.a(\.nested)+ holds values nested deeper than 64 levels, which the policies cannot read/,
        );
        assert.match(
            found[1],
            /ConfigMap "long": data\["big\.txt"\] holds a string of 1,048,595 characters \(the policies read at most 1,048,576\)/,
        );
        assert.equal(configurationReadable.enforcementLevel, "mandatory");
    });
});

describe("trino-clients-authenticate's reading of a dbt target", () => {
    it("asks for a login, HTTPS where the method does not imply it, and verification", () => {
        assert.deepEqual(targetProblems({ method: "jwt", jwt_token: "{{ env_var('T') }}", cert: "/ca.crt" }), []);
        assert.deepEqual(targetProblems({ method: "jwt", http_scheme: "http", cert: "/ca.crt" }), []);
        assert.equal(targetProblems({}).length, 1, "no method is method none");
        assert.match(targetProblems({ method: "ldap", http_scheme: "http" }).join(), /http_scheme is "http"/);
        assert.match(targetProblems({ method: "jwt", cert: false }).join(), /verification is off/);
    });
});

describe("postgres-clients-verify's reading of an sslmode", () => {
    it("accepts verify-full alone: no sslmode, prefer, require and verify-ca each trust a server they do not check", () => {
        assert.equal(sslmodeProblem("verify-full"), undefined);
        assert.match(sslmodeProblem(undefined)!, /default \(prefer\)/);
        for (const mode of ["disable", "allow", "prefer", "require"])
            assert.match(sslmodeProblem(mode)!, /certificate is not verified/);
        assert.match(sslmodeProblem("verify-ca")!, /name is not checked/);
    });
});

describe("airbyte-auth-on's reading of an Airbyte release", () => {
    it("asks for auth on and the instance admin from a Secret, never from the values", () => {
        const ok = { global: { auth: { enabled: true, secretName: "airbyte-instance-admin" } } };
        assert.deepEqual(airbyteAuthProblems(ok), []);
        assert.match(
            airbyteAuthProblems({ global: { auth: { ...ok.global.auth, enabled: "false" } } }).join(),
            /enabled is false/,
        );
        assert.match(airbyteAuthProblems({ global: {} }).join(), /secretName is not set/);
        const literal = { global: { auth: { ...ok.global.auth, instanceAdmin: { password: "airbyte123" } } } };
        assert.match(airbyteAuthProblems(literal).join(), /instanceAdmin\.password is set in the values/);
    });
});

describe("login-proxy-closed's reading of a login proxy", () => {
    const ok = {
        name: "oauth2-proxy",
        image: "quay.io/oauth2-proxy/oauth2-proxy:v7.15.6",
        args: ["--http-address=0.0.0.0:4180", "--upstream=http://web.dagster.svc.cluster.local:80/"],
        env: [
            {
                name: "OAUTH2_PROXY_COOKIE_SECRET",
                valueFrom: { secretKeyRef: { name: "dagster-login", key: "cookie-secret" } },
            },
        ],
    };
    it("knows the oauth2-proxy image on any registry or mirror, and nothing else", () => {
        assert.ok(isLoginProxyImage(ok.image));
        assert.ok(isLoginProxyImage("127.0.10.1:5000/oauth2-proxy/oauth2-proxy:v7.15.6"));
        assert.ok(!isLoginProxyImage("docker.io/dagster/dagster-celery-k8s:1.9.4"));
        assert.ok(!isLoginProxyImage("example.com/not-oauth2-proxy:1"));
    });
    it("asks for the secrets from a Secret and every route behind the login", () => {
        assert.deepEqual(loginProxyProblems(ok), []);
        assert.match(
            loginProxyProblems({ ...ok, args: [...ok.args, "--cookie-secret=x"] }).join(),
            /--cookie-secret is on the command line/,
        );
        assert.match(
            loginProxyProblems({ ...ok, env: [{ name: "OAUTH2_PROXY_CLIENT_SECRET", value: "x" }] }).join(),
            /OAUTH2_PROXY_CLIENT_SECRET has a literal value/,
        );
        for (const flag of ["--skip-auth-route=^/graphql", "--skip-auth-regex", "--trusted-ip=0.0.0.0/0"])
            assert.match(
                loginProxyProblems({ ...ok, command: ["/bin/oauth2-proxy", flag] }).join(),
                /lets requests past the login/,
            );
    });
});

describe("servers-use-tls's reading of a server", () => {
    it("asks Trino for HTTPS: enabled, not merely configured", () => {
        const https = { enabled: true, port: 8443, keystore: { path: "/etc/trino/tls/keystore.pem" } };
        assert.equal(trinoTlsProblem({ server: { config: { https } } }), undefined);
        assert.match(trinoTlsProblem({})!, /plain HTTP/);
        assert.match(trinoTlsProblem({ server: { config: { https: { ...https, enabled: false } } } })!, /plain HTTP/);
    });
    it("asks a PostgreSQL server for ssl=on, and leaves its clients' psql alone", () => {
        const server = {
            name: "postgres",
            image: "registry.example.com/library/postgres:17.6",
            args: ["-c", "ssl=on"],
            ports: [{ containerPort: 5432 }],
        };
        assert.equal(postgresTlsProblem(server), undefined);
        assert.match(postgresTlsProblem({ ...server, args: ["-c", "max_connections=100"] })!, /without TLS/);
        assert.match(postgresTlsProblem({ ...server, args: ["-c", "ssl=off"] })!, /without TLS/);
        // A wiring check's psql (no port) and a server of another image are not PostgreSQL servers.
        assert.equal(postgresTlsProblem({ ...server, args: [], ports: undefined }), undefined);
        assert.equal(postgresTlsProblem({ ...server, image: "postgres-exporter:1.0", args: [] }), undefined);
    });
});
