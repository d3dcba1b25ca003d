// Day two on the real servers: the program run a second time with two credentials rotated (a
// consumer's Garage key and a database login), its Jobs run in the order Pulumi runs them, and
// what a consumer sees at each step; then a Garage that holds another secret for a key the program
// issues, which the bootstrap must refuse by the consumer's name.
import { GarageCredential, loginOf, python, wiring } from "./checks";
import { addIssuedCertificates } from "./dagster";
import { PlatformRun } from "./platform";
import { tail } from "./procs";
import { Context, GarageCluster, PgLogin, Postgres } from "./servers";

const GENERATIONS = "lakehouse-platform:credentialGenerations";

/** The program run again with more generations over the suite's own overrides. */
async function rerun(ctx: Context, entries: string[]): Promise<PlatformRun> {
    const p = await PlatformRun.of(ctx.p.stack, { ...ctx.p.overrides, [GENERATIONS]: entries });
    addIssuedCertificates(p, ctx.work);
    return p;
}

/** What one Garage key may do right now: every request served on its buckets, or refused as a key. */
async function s3(
    ctx: Context,
    key: { accessKeyId: string; secretAccessKey: string },
    c: GarageCredential,
    expect: "works" | "refused",
    probe: string,
): Promise<string> {
    const edge = wiring(ctx).find((e) => e.service === "garageS3");
    if (!edge) throw new Error("the stack makes no S3 connection");
    const results = await python(ctx, "s3_access.py", {
        endpoint: edge.address.replace(/\/+$/, ""),
        region: ctx.p.detail<string>("components.garage.region"),
        ...key,
        probe,
        ...(expect === "works" ? { allowed: c.buckets } : { refused: c.buckets }),
    });
    const bad = results.filter((x) => x.ok !== true);
    if (bad.length > 0)
        throw new Error(bad.map((x) => `${String(x.bucket)} (${String(x.expect)}): ${String(x.detail)}`).join("\n"));
    return results.map((x) => `${String(x.bucket)}: ${String(x.detail)}`).join("; ");
}

function keyOf(p: PlatformRun, c: GarageCredential): { accessKeyId: string; secretAccessKey: string } {
    const s = p.secret(c.namespace, c.secretName);
    return { accessKeyId: s[c.accessKeyIdKey], secretAccessKey: s[c.secretAccessKeyKey] };
}

async function refusedLogin(pg: Postgres, login: PgLogin): Promise<string> {
    const r = await pg.psql(login, "SELECT 1");
    if (r.code === 0) throw new Error(`${login.user} still logs in with the old password`);
    if (!/password authentication failed/.test(r.output))
        throw new Error(`refused for another reason: ${tail(r.output, 3)}`);
    return tail(r.output, 1);
}

export async function checkRotation(ctx: Context, pg: Postgres, garage: GarageCluster): Promise<void> {
    const { report, p } = ctx;
    const keys = p.detail<Record<string, GarageCredential>>("components.garage.credentials");
    const logins = p.detail<Record<string, unknown>>("components.database.credentials");
    const keyConsumer = "trino" in keys ? "trino" : Object.keys(keys)[0];
    const loginConsumer = "airbyte" in logins ? "airbyte" : Object.keys(logins)[0];
    const rotated = [`garage-key/${keyConsumer}=2`, `database-login/${loginConsumer}=2`];
    const p2 = await rerun(ctx, rotated);
    const ctx2: Context = { ...ctx, p: p2 };
    const c = keys[keyConsumer];
    const oldKey = keyOf(p, c);
    const newKey = keyOf(p2, p2.detail<Record<string, GarageCredential>>("components.garage.credentials")[keyConsumer]);
    const oldLogin = loginOf(ctx, loginConsumer);
    const newLogin = loginOf(ctx2, loginConsumer);

    await report.require(
        `rotation: the program run again with ${rotated.join(", ")} issues a new key id, secret and password`,
        () => {
            if (newKey.accessKeyId === oldKey.accessKeyId || newKey.secretAccessKey === oldKey.secretAccessKey)
                throw new Error("the rotated key is the old one");
            if (newLogin.password === oldLogin.password) throw new Error("the rotated password is the old one");
            return Promise.resolve(
                `${keyConsumer}: ${oldKey.accessKeyId} → ${newKey.accessKeyId}; ${loginConsumer}: a new password`,
            );
        },
    );
    await report.check(
        `rotation: the second run's init SQL gives role ${newLogin.user} its new password; the new one logs in, the old one is refused`,
        async () => {
            const r = await pg.runInit(p2);
            if (r.code !== 0) throw new Error(tail(r.output));
            const altered = r.stdout.split("\n").filter((l) => /^ALTER ROLE/.test(l));
            const who = await pg.query(newLogin, "SELECT current_user || '@' || current_database()");
            return `${altered.length} ALTER ROLE; ${who} with the new password; old: ${await refusedLogin(pg, oldLogin)}`;
        },
    );
    await report.check(
        `rotation: after the second run's bootstrap both keys of ${keyConsumer} work (pods still on the old one are served until they roll)`,
        async () => {
            const r = await garage.runBootstrap(p2);
            if (r.code !== 0) throw new Error(tail(r.output));
            return `new: ${await s3(ctx, newKey, c, "works", `e2e-probes/${keyConsumer}-rotated`)}; old: ${await s3(ctx, oldKey, c, "works", `e2e-probes/${keyConsumer}-old`)}`;
        },
    );
    await report.check(
        `rotation: after the retirement Job, ${keyConsumer}'s new key works and the old one is refused`,
        async () => {
            const r = await garage.runRetire(p2);
            if (r.code !== 0) throw new Error(tail(r.output));
            return `${tail(r.stderr, 1).replace(/^garage-bootstrap: /, "")}; new: ${await s3(ctx, newKey, c, "works", `e2e-probes/${keyConsumer}-retired`)}; old: ${await s3(ctx, oldKey, c, "refused", `e2e-probes/${keyConsumer}-old`)}`;
        },
    );

    await checkMismatchedSecret(ctx, garage, keyConsumer, loginConsumer);
}

/** A restored stack, or a replaced random secret: Garage holds the key id with another secret. */
async function checkMismatchedSecret(
    ctx: Context,
    garage: GarageCluster,
    keyConsumer: string,
    loginConsumer: string,
): Promise<void> {
    const { report } = ctx;
    const p3 = await rerun(ctx, [`garage-key/${keyConsumer}=3`, `database-login/${loginConsumer}=2`]);
    const third = keyOf(p3, p3.detail<Record<string, GarageCredential>>("components.garage.credentials")[keyConsumer]);
    await report.check(
        `rotation: a Garage holding ${keyConsumer}'s key with another secret than its Secret makes the bootstrap fail, naming ${keyConsumer}`,
        async () => {
            const other = [...third.secretAccessKey].reverse().join("");
            const imported = await garage.garage([
                "key",
                "import",
                "--yes",
                "-n",
                keyConsumer,
                third.accessKeyId,
                other,
            ]);
            if (imported.code !== 0) throw new Error(`could not set up the mismatch: ${tail(imported.output, 2)}`);
            const r = await garage.runBootstrap(p3);
            if (r.code === 0) throw new Error("the bootstrap succeeded on a key Garage holds with another secret");
            const line = r.stderr.split("\n").find((l) => l.includes("ERROR:")) ?? "";
            if (!line.includes(`consumer ${keyConsumer}:`) || !line.includes("another secret"))
                throw new Error(`failed, but not naming ${keyConsumer}: ${line || tail(r.output, 3)}`);
            if (r.output.includes(third.secretAccessKey) || r.output.includes(other))
                throw new Error("a secret is in the Job's log");
            return line.replace(/^garage-bootstrap: /, "");
        },
    );
}
