import { strict as assert } from "assert";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { load } from "js-yaml";
import { certificatesValues, CERTIFICATES_CHART, TRUST_CONFIGMAP } from "../components/certificates";
import { renderWiringCheckScript, wiringChecks } from "../components/wiring-checks";
import { accessRules, JWT_ISSUER, loginToken } from "../components/trino-security";
import { platformConfigOf } from "../offline/run-stack";
import { planOfRun } from "../offline/plan";
import { checkValues, chartKeys } from "../policies/lib/chart-values";
import { run, Run } from "./helpers/stack";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const SECRET = "kubernetes:core/v1:Secret";
const ON = { overrides: { "lakehouse-platform:trinoAuthentication": true } };

function trinoValues(r: Run): Record<string, any> {
    return r.inputs(r.one(RELEASE, "trino")).values;
}

function secretNamed(r: Run, name: string): Record<string, any> {
    const found = r.ofType(SECRET).filter((x) => r.inputs(x).metadata?.name === name);
    assert.equal(found.length, 1, `one Secret ${name}`);
    return r.inputs(found[0]);
}

describe("Trino with trinoAuthentication", () => {
    const runs: Record<string, Run> = {};
    before(async () => {
        for (const stack of ["dev", "staging"]) runs[stack] = await run(stack, ON);
        runs.off = await run("dev");
    });

    for (const stack of ["dev", "staging"]) {
        describe(`in ${stack}`, () => {
            it("serves clients over HTTPS on 8443 with the certificate the platform's CA issues, and asks for a login's token", () => {
                const v = trinoValues(runs[stack]);
                assert.deepEqual(v.server.config.https, {
                    enabled: true,
                    port: 8443,
                    keystore: { path: "/etc/trino/tls/keystore.pem" },
                });
                assert.equal(v.server.config.authenticationType, "JWT");
                assert.deepEqual(v.coordinator.secretMounts, [
                    { name: "tls", secretName: "trino-tls", path: "/etc/trino/tls" },
                    { name: "login-keys", secretName: "trino-login-keys", path: "/etc/trino/jwt" },
                ]);
                assert.deepEqual(v.additionalConfigProperties, [
                    "internal-communication.shared-secret=${ENV:TRINO_INTERNAL_SHARED_SECRET}",
                ]);
                // The workers refuse to start on authenticator properties: the coordinator's alone.
                assert.equal(
                    v.server.coordinatorExtraConfig,
                    `http-server.authentication.jwt.key-file=/etc/trino/jwt/\${KID}.key\nhttp-server.authentication.jwt.required-issuer=${JWT_ISSUER}`,
                );
                assert.ok(v.envFrom.some((e: any) => e.secretRef.name === "trino-internal-communication"));
                assert.deepEqual(checkValues(v, chartKeys("trino", "1.42.2")!).unknown, []);
            });

            it("publishes the coordinator at https://…:8443, and dbt reaches it there with its login and the CA", () => {
                const cfg = platformConfigOf(stack);
                const r = runs[stack];
                const host = `trino.${cfg.namespaces.trino}.svc.${cfg.clusterDomain}`;
                const view = r.view as any;
                assert.equal(view.contract.components.trino.services.coordinator.url, `https://${host}:8443`);
                const profiles = load(
                    r.inputs(r.one("kubernetes:core/v1:ConfigMap", "dagster-dbt-profiles")).data["profiles.yml"],
                ) as any;
                const target = profiles.lakehouse.outputs[cfg.environment];
                assert.equal(target.host, host);
                assert.equal(target.port, 8443);
                assert.equal(target.method, "jwt", "dbt-trino's jwt method speaks HTTPS only");
                assert.equal(target.jwt_token, "{{ env_var('TRINO_TOKEN') }}");
                assert.equal(target.cert, "{{ env_var('TRINO_CA_FILE') }}");
                const deployment = r.inputs(r.one(RELEASE, "dagster")).values["dagster-user-deployments"]
                    .deployments[0];
                const env = Object.fromEntries(deployment.env.map((e: any) => [e.name, e]));
                assert.deepEqual(env.TRINO_TOKEN.valueFrom, {
                    secretKeyRef: { name: "trino-login-dbt", key: "token" },
                });
                assert.equal(env.TRINO_CA_FILE.value, "/etc/lakehouse/ca/ca.crt");
                assert.ok(
                    deployment.volumes.some((v: any) => v.configMap?.name === TRUST_CONFIGMAP),
                    "the code location mounts the CA's ConfigMap",
                );
            });

            it("issues one login per consumer, each in its holder's namespace: a token Trino verifies with that login's key", async () => {
                const cfg = platformConfigOf(stack);
                const r = runs[stack];
                const logins = {
                    admin: cfg.namespaces.trino,
                    analyst: cfg.namespaces.trino,
                    dbt: cfg.namespaces.dagster,
                };
                const keys = secretNamed(r, "trino-login-keys");
                assert.equal(keys.metadata.namespace, cfg.namespaces.trino);
                // Each login's key and the next generation's, published ahead of a rotation.
                assert.deepEqual(Object.keys(keys.stringData).sort(), [
                    "admin-1.key",
                    "admin-2.key",
                    "analyst-1.key",
                    "analyst-2.key",
                    "dbt-1.key",
                    "dbt-2.key",
                ]);
                const tokens: string[] = [];
                for (const [login, namespace] of Object.entries(logins)) {
                    const s = secretNamed(r, `trino-login-${login}`);
                    assert.equal(s.metadata.namespace, namespace, login);
                    assert.equal(s.stringData.username, login);
                    const token = String(s.stringData.token);
                    assert.equal(decodeProtectedHeader(token).kid, `${login}-1`);
                    // As Trino's JWT authenticator does: the key file the kid names, the issuer required.
                    const key = Buffer.from(keys.stringData[`${login}-1.key`], "base64");
                    assert.ok(key.length >= 32, "at least the 256 bits HMAC-SHA256 asks for");
                    assert.match(keys.stringData[`${login}-1.key`], /^[A-Za-z0-9]{44}$/);
                    const { payload } = await jwtVerify(token, key, { issuer: JWT_ISSUER });
                    assert.equal(payload.sub, login);
                    await assert.rejects(
                        jwtVerify(
                            token,
                            Buffer.from(keys.stringData[`${login === "dbt" ? "admin" : "dbt"}-1.key`], "base64"),
                        ),
                        "another login's key does not verify it",
                    );
                    tokens.push(token);
                }
                const values = JSON.stringify(r.inputs(r.one(RELEASE, "trino")).values);
                const keyFile = JSON.stringify(keys.stringData);
                for (const t of tokens) {
                    assert.ok(!values.includes(t), "no token in the values");
                    assert.ok(!keyFile.includes(t), "no token beside the keys");
                }
            });

            it("issues the CA and Trino's certificate in the install (Helm), for every name clients use, trusted where clients run", () => {
                const cfg = platformConfigOf(stack);
                const rel = runs[stack].inputs(runs[stack].one(RELEASE, "certificates"));
                assert.equal(rel.chart, CERTIFICATES_CHART.path);
                assert.equal(rel.namespace, cfg.namespaces.trino);
                const host = `trino.${cfg.namespaces.trino}.svc.${cfg.clusterDomain}`;
                assert.deepEqual(rel.values.servers, [
                    {
                        secretName: "trino-tls",
                        namespace: cfg.namespaces.trino,
                        generation: 1,
                        dnsNames: [host, `trino.${cfg.namespaces.trino}.svc`, `trino.${cfg.namespaces.trino}`],
                    },
                ]);
                assert.deepEqual(rel.values.trustNamespaces, [cfg.namespaces.dagster, cfg.namespaces.trino].sort());
                assert.deepEqual(checkValues(rel.values, chartKeys("lakehouse-certificates", "0.1.0")!).unknown, []);
                assert.ok(!/PRIVATE KEY|BEGIN CERT/.test(JSON.stringify(rel.values)), "no key material in the values");
            });
        });
    }

    it("admits clients and dbt on 8443 only, where NetworkPolicies are on", () => {
        const cfg = platformConfigOf("staging");
        const r = runs.staging;
        const rule = r
            .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
            .find((x) => x.name.endsWith("trino-from-dagster"));
        assert.ok(rule, "a rule admits dagster → trino");
        const ingress = r.inputs(rule).spec.ingress;
        assert.deepEqual(
            ingress.flatMap((i: any) => i.ports.map((p: any) => p.port)),
            [8443],
            `${cfg.namespaces.dagster} reaches Trino on its HTTPS port only`,
        );
    });

    it("keeps every token and key out of the plan, its JSON and the outputs", async () => {
        const r = runs.dev;
        const plan = JSON.stringify(
            await planOfRun(r.raw, platformConfigOf("dev", { "lakehouse-platform:trinoAuthentication": true })),
        );
        const secrets = ["trino-login-admin", "trino-login-analyst", "trino-login-dbt", "trino-login-keys"].flatMap(
            (name) => Object.values(secretNamed(r, name).stringData).map(String),
        );
        const values = secrets.filter((v) => v.length > 20);
        assert.ok(values.length >= 6, "tokens and keys were generated");
        for (const v of values) {
            assert.ok(!plan.includes(v), "a token or key in the plan");
            assert.ok(!JSON.stringify(r.outputs).includes(v), "a token or key in the outputs");
        }
        assert.doesNotMatch(plan, /PRIVATE KEY|eyJ[A-Za-z0-9_-]{10}/);
    });

    it("rotates one login by its generation onto the key the coordinator already has, restarting no Trino pod", async () => {
        const rotate = (n: number) =>
            run("dev", {
                overrides: { ...ON.overrides, "lakehouse-platform:credentialGenerations": [`trino-login/dbt=${n}`] },
            });
        const before = runs.dev;
        const rotated = await rotate(2);
        const token = (r: Run, login: string) => secretNamed(r, `trino-login-${login}`).stringData.token;
        const keys = (r: Run) => secretNamed(r, "trino-login-keys").stringData as Record<string, string>;
        assert.equal(decodeProtectedHeader(token(rotated, "dbt")).kid, "dbt-2");
        assert.notEqual(token(rotated, "dbt"), token(before, "dbt"));
        assert.equal(token(rotated, "admin"), token(before, "admin"), "the other logins stay");
        // The new token verifies with the key published before the rotation, which the
        // coordinator's volume has held since: no wait for the kubelet, no restart.
        assert.equal(keys(rotated)["dbt-2.key"], keys(before)["dbt-2.key"]);
        await jwtVerify(token(rotated, "dbt"), Buffer.from(keys(before)["dbt-2.key"], "base64"), {
            issuer: JWT_ISSUER,
        });
        // The old key leaves the Secret; a third generation gets a key of its own.
        assert.deepEqual(Object.keys(keys(rotated)).sort(), [
            "admin-1.key",
            "admin-2.key",
            "analyst-1.key",
            "analyst-2.key",
            "dbt-2.key",
            "dbt-3.key",
        ]);
        assert.ok(![keys(before)["dbt-1.key"], keys(before)["dbt-2.key"]].includes(keys(rotated)["dbt-3.key"]));
        // And the next rotation again finds its key published.
        const third = await rotate(3);
        assert.equal(keys(third)["dbt-3.key"], keys(rotated)["dbt-3.key"]);
        assert.equal(decodeProtectedHeader(token(third, "dbt")).kid, "dbt-3");
        // Trino's release is untouched: its pods keep running.
        assert.deepEqual(trinoValues(rotated), trinoValues(before));
        const codeLocation = (r: Run) =>
            r.inputs(r.one(RELEASE, "dagster")).values["dagster-user-deployments"].deployments[0].annotations;
        assert.notDeepEqual(
            codeLocation(rotated),
            codeLocation(before),
            "Dagster's code location rolls onto dbt's new token",
        );
    });

    it("leaves Trino on plain HTTP when off (the default): no login, no certificate", () => {
        const r = runs.off;
        const v = trinoValues(r);
        assert.equal(v.server.config.https, undefined);
        assert.equal(v.auth, undefined);
        assert.ok(!r.ofType(RELEASE).some((x) => x.name === "certificates"));
        const view = r.view as any;
        assert.match(view.contract.components.trino.services.coordinator.url, /^http:\/\/trino\..*:8080$/);
    });

    it("checks dagster → trino as dbt's login over HTTPS, verifying the CA, with the password in no argument", () => {
        const view = runs.dev.view as any;
        const checks = wiringChecks(view.wiring, {
            buckets: { lakehouse: "l", airbyte: "a" },
            s3Region: "us-east-1",
            trinoCatalog: "lakehouse",
        });
        const trino = checks.filter((c) => c.kind === "trino");
        assert.ok(trino.length > 0);
        for (const c of trino) assert.deepEqual((c as any).trino, { catalog: "lakehouse", login: "dbt" });
        const script = renderWiringCheckScript("dagster", trino);
        assert.match(
            script,
            /check_trino '[^']*' 'https:\/\/trino\.trino\.svc\.cluster\.local:8443' 'lakehouse' login/,
        );
        assert.match(script, /request -K - --cacert "\$CA_FILE"/);
        assert.doesNotMatch(script, /--insecure|\s-k\s/);
    });
});

describe("Trino's access rules and password file", () => {
    it("lets the admin do anything, dbt own its schemas and read the catalog, the analyst read", () => {
        const rules = accessRules("lakehouse", "analytics") as any;
        const user = (re: string, name: string) => new RegExp(`^(${re})$`).test(name);
        const catalogRule = (name: string, catalog: string) =>
            rules.catalogs.find(
                (c: any) => user(c.user, name) && (!c.catalog || new RegExp(`^${c.catalog}$`).test(catalog)),
            );
        assert.equal(catalogRule("admin", "anything").allow, "all");
        assert.equal(catalogRule("dbt", "lakehouse").allow, "all");
        assert.equal(catalogRule("analyst", "lakehouse").allow, "read-only");
        assert.equal(catalogRule("someone", "lakehouse"), undefined, "a user the rules do not name gets nothing");
        const owns = (name: string, schema: string) =>
            rules.schemas.some(
                (s: any) => user(s.user, name) && s.owner && (!s.schema || new RegExp(`^${s.schema}$`).test(schema)),
            );
        assert.ok(owns("dbt", "analytics"));
        assert.ok(owns("dbt", "analytics_marts"), "dbt's custom schemas are named after its own");
        assert.ok(!owns("dbt", "raw"));
        assert.ok(!owns("analyst", "analytics"));
    });

    it("signs the same token for the same key (no diff in a preview), another for another key", async () => {
        const key = Buffer.alloc(32, 7).toString("base64");
        const a = await loginToken("dbt", "dbt-1", key);
        assert.equal(a, await loginToken("dbt", "dbt-1", key));
        assert.notEqual(a, await loginToken("dbt", "dbt-1", Buffer.alloc(32, 8).toString("base64")));
    });

    it("gives the certificates chart only the names and generations, never a key", () => {
        const values = certificatesValues({
            namespace: "trino",
            environment: "dev",
            caGeneration: 1,
            servers: [{ secretName: "trino-tls", namespace: "trino", dnsNames: ["a", "b"], generation: 2 }],
            trustNamespaces: ["dagster", "trino", "dagster"],
        });
        assert.deepEqual(values.trustNamespaces, ["dagster", "trino"]);
        assert.deepEqual((values.ca as any).generation, 1);
    });
});
