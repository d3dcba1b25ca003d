// Images from the user's own registry: with `imageRegistryMirror`, every image a stack runs or
// launches (its own workloads and Jobs, and what the charts render and launch with its values) is
// pulled from the mirror, with its repository path, tag and digest. The real-engine suite checks
// the same list against what the charts render under the real provider.
import { strict as assert } from "assert";
import { airbyteImages, dagsterImages, trinoImages } from "../components/chart-images";
import { planOfRun } from "../offline/plan";
import { platformConfigOf } from "../offline/run-stack";
import { containersOf } from "../policies/lib/strings";
import { isOnMirror, isPinnedImage, mirrorImage } from "../policies/lib/rules";
import { run } from "./helpers/stack";

const MIRROR = "registry.example.com:5000/hub";
const P = "lakehouse-platform";

describe("images through a registry mirror", () => {
    it("keeps the repository path, tag and digest on the mirror; Docker Hub's official images under library/", () => {
        const digest = `sha256:${"a".repeat(64)}`;
        assert.equal(mirrorImage("busybox:1.37.0-musl", MIRROR), `${MIRROR}/library/busybox:1.37.0-musl`);
        assert.equal(mirrorImage("docker.io/busybox:1.28", MIRROR), `${MIRROR}/library/busybox:1.28`);
        assert.equal(mirrorImage("dxflrs/garage:v2.3.0", MIRROR), `${MIRROR}/dxflrs/garage:v2.3.0`);
        assert.equal(mirrorImage("quay.io/team/tool@" + digest, MIRROR), `${MIRROR}/team/tool@${digest}`);
        assert.equal(mirrorImage(`ghcr.io/a/b:1.0@${digest}`, MIRROR), `${MIRROR}/a/b:1.0@${digest}`);
        assert.equal(mirrorImage("docker.io/dagster/user-code-example", MIRROR), `${MIRROR}/dagster/user-code-example`);
        // Already there, or no mirror: unchanged.
        assert.equal(mirrorImage(`${MIRROR}/library/busybox:1.0`, MIRROR), `${MIRROR}/library/busybox:1.0`);
        assert.equal(mirrorImage("busybox:1.37.0-musl", undefined), "busybox:1.37.0-musl");
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: no image reference escapes the mirror, in the workloads, the chart values and what the charts render`, async () => {
            const r = await run(stack, { overrides: { [`${P}:imageRegistryMirror`]: MIRROR } });
            const cfg = platformConfigOf(stack, { [`${P}:imageRegistryMirror`]: MIRROR });
            // Every container the program registers, walked from the resources themselves.
            const containers = r.resources.flatMap((res) =>
                res.custom ? containersOf(res.type, r.inputs(res)).map((c) => ({ res, c })) : [],
            );
            assert.ok(containers.length >= 10, `${containers.length} containers`);
            for (const { res, c } of containers) {
                assert.ok(
                    isOnMirror(String(c.container.image), MIRROR),
                    `${res.type} ${res.name}: ${String(c.container.image)}`,
                );
                assert.ok(isPinnedImage(String(c.container.image)), `${String(c.container.image)} stays pinned`);
            }
            // The plan lists each, and each chart's own images, on the mirror.
            const plan = await planOfRun(r.raw, cfg);
            assert.ok(plan.images.length > containers.length);
            for (const i of plan.images) assert.ok(isOnMirror(i.image, MIRROR), `${i.where}: ${i.image}`);
            for (const chart of ["trino", "airbyte", "dagster"])
                assert.ok(
                    plan.images.some((i) => i.where.startsWith(`${chart} chart:`)),
                    `${chart}'s images are listed`,
                );
            // The values that put the charts' defaults there.
            const values = (name: string) => r.inputs(r.one("kubernetes:helm.sh/v3:Release", name)).values;
            assert.deepEqual(values("trino").image, { registry: MIRROR });
            assert.equal(values("airbyte").global.image.registry, MIRROR);
            const d = values("dagster");
            for (const image of [
                d.dagsterWebserver.image,
                d.dagsterDaemon.image,
                d.busybox.image,
                d.postgresql.image,
                d.pipelineRun.image,
            ])
                assert.ok(isOnMirror(image.repository, MIRROR), image.repository);
        });
    }

    it("without a mirror, lists the charts' own defaults at the pinned versions, and sets none of those values", async () => {
        const r = await run("dev");
        const cfg = platformConfigOf("dev");
        assert.deepEqual(
            trinoImages("1.42.2").map((i) => i.image),
            ["trinodb/trino:480"],
        );
        assert.ok(airbyteImages("2.2.0").some((i) => i.image === "airbyte/server:2.2.0"));
        assert.ok(dagsterImages("1.9.4", cfg.dagster.userCode).some((i) => i.image === "docker.io/busybox:1.28"));
        const values = (name: string) => r.inputs(r.one("kubernetes:helm.sh/v3:Release", name)).values;
        assert.equal(values("trino").image, undefined);
        assert.equal(values("airbyte").global.image, undefined);
        assert.equal(values("dagster").busybox, undefined);
    });
});
