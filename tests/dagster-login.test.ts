import { strict as assert } from "assert";
import bcrypt from "bcryptjs";
import { PLATFORM_SERVICES } from "../components/addresses";
import {
    DAGSTER_ADMIN_SECRET,
    DAGSTER_ADMIN_USER,
    DAGSTER_LOGIN_KEYS,
    DAGSTER_LOGIN_SECRET,
} from "../components/dagster-login";
import { CREDENTIALS_REVISION } from "../components/k8s";
import { platformConfigOf } from "../offline/run-stack";
import { isSecretValue, run, Run } from "./helpers/stack";

const ON = { "lakehouse-platform:dagsterLogin": true };
const CLIENTS = { "lakehouse-platform:networkPolicyClientNamespaces": ["ingress"] };

function secretNamed(r: Run, name: string): Record<string, string> {
    const [s] = r.ofType("kubernetes:core/v1:Secret").filter((x) => r.inputs(x).metadata.name === name);
    assert.ok(s, `Secret ${name}`);
    return r.inputs(s).stringData as Record<string, string>;
}

/** The Dagster webserver's address the stack publishes. */
function published(r: Run): string {
    return (r.outputs.components as Record<string, { services: Record<string, string> }>).dagster.services.webserver;
}

function proxy(r: Run) {
    return r.inputs(r.one("kubernetes:apps/v1:Deployment", "dagster-login"));
}

/** The ports the client namespaces are admitted to in Dagster's namespace. */
function clientPorts(r: Run): number[] {
    const cfg = platformConfigOf("staging");
    return r
        .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        .map((p) => r.inputs(p))
        .filter((p) => p.metadata.namespace === cfg.namespaces.dagster && p.metadata.name === "lakehouse-from-clients")
        .flatMap((p) => p.spec.ingress.flatMap((i: { ports: { port: number }[] }) => i.ports.map((x) => x.port)));
}

describe("Dagster's webserver behind a login (dagsterLogin)", () => {
    let on: Run;
    let off: Run;
    before(async () => {
        on = await run("staging", { overrides: { ...ON, ...CLIENTS } });
        off = await run("staging", { overrides: CLIENTS });
    });

    it("puts oauth2-proxy in Dagster's namespace in front of the webserver's FQDN, and publishes the proxy's address", () => {
        const cfg = platformConfigOf("staging");
        const d = proxy(on);
        assert.equal(d.metadata.namespace, cfg.namespaces.dagster);
        const [c] = d.spec.template.spec.containers;
        assert.equal(c.image, "quay.io/oauth2-proxy/oauth2-proxy:v7.15.6");
        const webserver = `http://${PLATFORM_SERVICES.dagsterWebserver.service}.${cfg.namespaces.dagster}.svc.${cfg.clusterDomain}:80/`;
        assert.ok(c.args.includes(`--upstream=${webserver}`), c.args.join(" "));
        const login = `http://dagster-login.${cfg.namespaces.dagster}.svc.${cfg.clusterDomain}:4180`;
        assert.equal(published(on), login);
        assert.equal(published(off), webserver.slice(0, -1), "without the login, clients reach the webserver");
        assert.equal(off.ofType("kubernetes:apps/v1:Deployment").filter((x) => x.name === "dagster-login").length, 0);
    });

    it("admits the client namespaces to the proxy's port only, not to the webserver's", () => {
        assert.deepEqual(clientPorts(off), [80]);
        assert.deepEqual(clientPorts(on), [4180]);
    });

    it("keeps the password and cookie secret in Secrets: the proxy reads the hash alone, and the password is a secret output", () => {
        const admin = secretNamed(on, DAGSTER_ADMIN_SECRET);
        const proxySecret = secretNamed(on, DAGSTER_LOGIN_SECRET);
        assert.equal(admin[DAGSTER_LOGIN_KEYS.username], DAGSTER_ADMIN_USER);
        const password = admin[DAGSTER_LOGIN_KEYS.password];
        assert.match(password, /^[A-Za-z0-9]{32}$/);
        const [user, hash] = proxySecret[DAGSTER_LOGIN_KEYS.htpasswd].trim().split(":");
        assert.equal(user, DAGSTER_ADMIN_USER);
        assert.ok(bcrypt.compareSync(password, hash), "the htpasswd entry verifies the admin's password");
        assert.ok(!bcrypt.compareSync(`${password}x`, hash));
        assert.equal(Buffer.byteLength(proxySecret[DAGSTER_LOGIN_KEYS.cookieSecret]), 32, "an AES-256 key");
        assert.ok(isSecretValue(on.raw.outputs.dagsterAdminPassword), "a secret output");
        assert.equal(on.outputs.dagsterAdminPassword, password);
        assert.equal(off.outputs.dagsterAdminPassword, undefined);
        // The pod spec names Secrets, never a value of them.
        const spec = JSON.stringify(proxy(on));
        for (const v of [password, hash, proxySecret[DAGSTER_LOGIN_KEYS.cookieSecret]])
            assert.ok(!spec.includes(v), "no credential in the Deployment");
        const volumes = proxy(on).spec.template.spec.volumes;
        assert.deepEqual(
            volumes
                .find((v: { name: string }) => v.name === "htpasswd")
                .secret.items.map((i: { key: string }) => i.key),
            [DAGSTER_LOGIN_KEYS.htpasswd],
            "the proxy mounts the hash, not the password",
        );
    });

    it("issues a new password and cookie secret with a new generation of dagster-login, rolling the proxy, and the same ones otherwise", async () => {
        const again = await run("staging", {
            overrides: { ...ON, ...CLIENTS, "lakehouse-platform:dagsterSize": "medium" },
        });
        const rotated = await run("staging", {
            overrides: { ...ON, ...CLIENTS, "lakehouse-platform:credentialGenerations": ["dagster-login=2"] },
        });
        const password = (r: Run) => r.outputs.dagsterAdminPassword;
        const cookie = (r: Run) => secretNamed(r, DAGSTER_LOGIN_SECRET)[DAGSTER_LOGIN_KEYS.cookieSecret];
        assert.equal(password(again), password(on));
        assert.equal(cookie(again), cookie(on));
        assert.notEqual(password(rotated), password(on));
        assert.notEqual(cookie(rotated), cookie(on));
        const revision = (r: Run) => proxy(r).spec.template.metadata.annotations[CREDENTIALS_REVISION];
        assert.equal(revision(on), "dagster-login=1");
        assert.equal(revision(rotated), "dagster-login=2");
    });
});
