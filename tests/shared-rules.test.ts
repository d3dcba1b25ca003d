// The rules the program and the policy pack share (policies/lib/rules.ts), as one table both sides
// must agree with: the stack config refusing a value is the pack refusing it on a resource, and the
// other way round. The rows include the cases that once drifted apart.
import { strict as assert } from "assert";
import { ConfigError } from "../components/config";
import { platformConfigOf } from "../offline/run-stack";
import { deployment, messages, policyNamed, T } from "./helpers/policy";

const P = "lakehouse-platform";

/** Image references and whether both sides take them as pinned. */
const IMAGES: [string, boolean][] = [
    ["busybox:1.37.0-musl", true],
    ["docker.io/dagster/dagster-celery-k8s:1.11.10", true],
    ["registry.example.com:5000/team/app:2024.1", true],
    [`busybox@sha256:${"a".repeat(64)}`, true],
    [`busybox:1.37.0@sha256:${"0123456789abcdef".repeat(4)}`, true],
    ["busybox", false],
    ["busybox:latest", false],
    ["a b:1", false],
    ["img:-bad", false],
    [`img:${"1".repeat(200)}`, false],
    ["BusyBox:1.37.0", false],
    [`busybox@sha256:${"a".repeat(63)}`, false],
    ["busybox:", false],
];

/** Chart versions and whether both sides take them as exact. */
const CHART_VERSIONS: [string, boolean][] = [
    ["1.42.2", true],
    ["2.0.0-rc.1", true],
    ["1.42", false],
    ["^1.42.2", false],
    ["~1.42.2", false],
    ["1.42.x", false],
    ["v1.42.2", true],
];

/** What the config says of `key` = `value`: the valid form it expected, or undefined when it takes it. */
function configProblem(key: string, value: string): string | undefined {
    try {
        platformConfigOf("dev", { [`${P}:${key}`]: value });
        return undefined;
    } catch (e) {
        if (e instanceof ConfigError) return e.problems.find((p) => p.key.endsWith(`:${key}`))?.expected;
        throw e;
    }
}

function configAccepts(key: string, value: string): boolean {
    return configProblem(key, value) === undefined;
}

/** Chart versions, and whether their value paths are recorded (policies/chart-keys). */
const RECORDED_VERSIONS: [string, boolean][] = [
    ["1.42.2", true],
    ["1.43.0", false],
    ["1.42.1", false],
];

describe("shared rules: the stack config and the policy pack give the same verdict", () => {
    for (const [image, pinned] of IMAGES) {
        it(`image ${image.length > 40 ? `${image.slice(0, 40)}…` : image}: ${pinned ? "pinned" : "refused"} on both sides`, async () => {
            assert.equal(configAccepts("busyboxImage", image), pinned, "config");
            const found = await messages(policyNamed("image-tag-pinned"), [deployment("app", "trino", { image })]);
            assert.equal(found.length === 0, pinned, `policy: ${found.join("; ")}`);
        });
    }
    for (const [version, exact] of CHART_VERSIONS) {
        it(`chart version ${version}: ${exact ? "exact" : "refused"} on both sides`, async () => {
            const problem = configProblem("trinoChartVersion", version) ?? "";
            assert.equal(!problem.startsWith("an exact chart version"), exact, `config: ${problem}`);
            const release = {
                type: T.release,
                name: "trino",
                props: { chart: "trino", version, namespace: "trino", values: {} },
            };
            const found = await messages(policyNamed("chart-version-pinned"), [release]);
            assert.equal(found.length === 0, exact, `policy: ${found.join("; ")}`);
        });
    }
    for (const [version, recorded] of RECORDED_VERSIONS) {
        it(`chart version ${version}: ${recorded ? "recorded" : "unrecorded"} on both sides`, async () => {
            const problem = configProblem("trinoChartVersion", version) ?? "";
            assert.equal(
                !problem.startsWith("a version whose value paths are recorded"),
                recorded,
                `config: ${problem}`,
            );
            const release = {
                type: T.release,
                name: "trino",
                props: { chart: "trino", version, namespace: "trino", values: {} },
            };
            const found = await messages(policyNamed("chart-values-known"), [release]);
            assert.equal(found.length === 0, recorded, `policy: ${found.join("; ")}`);
        });
    }
});
