// Mirrors and chart repositories that need a login: `imageRegistryUsername` with a secret
// `imageRegistryPassword` gives every namespace a registry Secret and every pod the platform runs
// or launches (its own workloads and Jobs, the charts' pods, Airbyte's connectors, Dagster's runs)
// pulls with it; `chartRepositoryUsername` logs Helm in to the charts' https:// repositories.
// Without them nothing changes: pulls and chart downloads stay anonymous.
import { strict as assert } from "assert";
import { beyondTlsAdvisories } from "./helpers/policy";
import { ConfigError } from "../components/config";
import { REGISTRY_SECRET } from "../components/namespaces";
import { isSecretValue } from "../offline/engine";
import { planOfRun } from "../offline/plan";
import { platformConfigOf } from "../offline/run-stack";
import { run } from "./helpers/stack";

const P = "lakehouse-platform";
const MIRROR = "registry.example.com:5000/hub";
const SECURE = { secure: "v1:AAAA" };
const LOGIN = {
    [`${P}:imageRegistryMirror`]: MIRROR,
    [`${P}:imageRegistryUsername`]: "puller",
    [`${P}:imageRegistryPassword`]: SECURE,
};
const POD_TEMPLATES = [
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
];

/** The problems the program reports for a stack with `overrides`, as `key: expected` lines (values as shown). */
function problemsOf(overrides: Record<string, unknown>): string[] {
    try {
        platformConfigOf("dev", overrides);
    } catch (e) {
        if (e instanceof ConfigError)
            return e.problems.map(
                (p) => `${p.key}${p.hidden ? " (hidden)" : ` = ${JSON.stringify(p.value)}`}: ${p.expected}`,
            );
        throw e;
    }
    return [];
}

describe("registry and chart repository logins", () => {
    describe("the configuration, checked before anything is registered", () => {
        it("a registry login needs the mirror it is for, both halves, and a password set as a secret (never shown)", () => {
            const noMirror = problemsOf({
                [`${P}:imageRegistryUsername`]: "puller",
                [`${P}:imageRegistryPassword`]: SECURE,
            });
            assert.equal(noMirror.length, 1, noMirror.join("\n"));
            assert.match(
                noMirror[0],
                /imageRegistryUsername = "puller": a login to lakehouse-platform:imageRegistryMirror, which is not set/,
            );

            const clear = problemsOf({ ...LOGIN, [`${P}:imageRegistryPassword`]: "hunter2-in-clear" });
            assert.equal(clear.length, 1, clear.join("\n"));
            assert.match(
                clear[0],
                /imageRegistryPassword \(hidden\): a secret: set it again with `pulumi config set --secret/,
            );
            assert.ok(!clear.join("\n").includes("hunter2"), "the password is never shown");

            const half = problemsOf({ ...LOGIN, [`${P}:imageRegistryPassword`]: undefined });
            assert.match(half.join("\n"), /imageRegistryPassword = undefined: the password of puller/);
            assert.match(
                problemsOf({ ...LOGIN, [`${P}:imageRegistryUsername`]: "a:b" }).join("\n"),
                /a user name without colons or spaces/,
            );
            assert.deepEqual(problemsOf(LOGIN), []);
        });

        it("a chart login needs a chart from an https:// repository, and is refused for OCI (the provider's Release cannot log in there)", () => {
            const login = { [`${P}:chartRepositoryUsername`]: "charts", [`${P}:chartRepositoryPassword`]: SECURE };
            assert.deepEqual(problemsOf(login), []);
            const oci = problemsOf({ ...login, [`${P}:trinoChart`]: "oci://registry.example.com/charts/trino" });
            assert.match(oci.join("\n"), /trinoChart is an OCI reference.*pulumi\/pulumi-kubernetes#1914/);
        });
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: every pod template the program registers pulls with the namespace's registry Secret, and every chart's values name it`, async () => {
            const r = await run(stack, { overrides: LOGIN });
            const cfg = platformConfigOf(stack, LOGIN);
            const templates = r.resources.filter((res) => POD_TEMPLATES.includes(res.type));
            assert.ok(templates.length >= 5, `${templates.length} pod templates`);
            for (const res of templates)
                assert.deepEqual(
                    r.inputs(res).spec.template.spec.imagePullSecrets,
                    [{ name: REGISTRY_SECRET }],
                    `${res.type} ${res.name}`,
                );
            // One Secret per namespace, for the mirror's host, its content secret.
            const secrets = r
                .ofType("kubernetes:core/v1:Secret")
                .filter((res) => r.inputs(res).metadata.name === REGISTRY_SECRET);
            assert.deepEqual(
                secrets.map((s) => r.inputs(s).metadata.namespace).sort(),
                cfg.components.map((c) => cfg.namespaces[c]).sort(),
            );
            for (const s of secrets) {
                assert.equal(r.inputs(s).type, "kubernetes.io/dockerconfigjson");
                assert.ok(isSecretValue((s.inputs as any).stringData), "kept secret");
                const auths = JSON.parse(r.inputs(s).stringData[".dockerconfigjson"]).auths;
                assert.deepEqual(Object.keys(auths), ["registry.example.com:5000"]);
                assert.equal(auths["registry.example.com:5000"].username, "puller");
            }
            const values = (name: string) => r.inputs(r.one("kubernetes:helm.sh/v3:Release", name)).values;
            const pull = [{ name: REGISTRY_SECRET }];
            if (cfg.components.includes("trino")) assert.deepEqual(values("trino").imagePullSecrets, pull);
            if (cfg.components.includes("airbyte")) {
                assert.deepEqual(values("airbyte").global.imagePullSecrets, pull);
                assert.equal(values("airbyte").global.jobs.kube.mainContainerImagePullSecret, REGISTRY_SECRET);
            }
            if (cfg.components.includes("dagster")) {
                assert.deepEqual(
                    values("dagster").imagePullSecrets,
                    pull,
                    "the chart's pods and the run launcher's runs",
                );
                assert.deepEqual(values("dagster")["dagster-user-deployments"].imagePullSecrets, pull);
            }
            // The plan shows the Secret's content as secret.
            const plan = await planOfRun(r.raw, cfg);
            const shown = JSON.stringify(plan);
            assert.ok(!shown.includes('"auths"'), "no registry credential in the plan");
            assert.deepEqual(
                beyondTlsAdvisories(plan.policy.violations),
                [],
                "the pack passes the registry Secret and the pull secrets",
            );
        });
    }

    it("without a login, nothing pulls with one and no registry Secret exists", async () => {
        const r = await run("dev", { overrides: { [`${P}:imageRegistryMirror`]: MIRROR } });
        for (const res of r.resources.filter((x) => POD_TEMPLATES.includes(x.type)))
            assert.equal(r.inputs(res).spec.template.spec.imagePullSecrets, undefined, `${res.type} ${res.name}`);
        assert.ok(!r.ofType("kubernetes:core/v1:Secret").some((s) => r.inputs(s).metadata.name === REGISTRY_SECRET));
        assert.equal(r.inputs(r.one("kubernetes:helm.sh/v3:Release", "trino")).values.imagePullSecrets, undefined);
    });

    it("the chart login reaches Helm as the Release's repository options, its password secret", async () => {
        const login = { [`${P}:chartRepositoryUsername`]: "charts", [`${P}:chartRepositoryPassword`]: SECURE };
        const r = await run("dev", { overrides: login });
        const cfg = platformConfigOf("dev", login);
        const fromRepositories = (["trino", "airbyte", "dagster"] as const).filter(
            (c) => cfg[c].chart.source.kind === "repository",
        );
        assert.ok(fromRepositories.length > 0);
        for (const name of fromRepositories) {
            const release = r.one("kubernetes:helm.sh/v3:Release", name);
            assert.equal(r.inputs(release).repositoryOpts.username, "charts", name);
            assert.ok(isSecretValue((release.inputs as any).repositoryOpts), `${name}: the password is secret`);
        }
    });
});
