// A Trino login rotated, measured from its consumers' side: while `pulumi up` moves a login to its
// next generation (credentialGenerations trino-login/dbt=2), a query a second with the token a
// pod started before the update holds, and one with the token a pod starting at that moment reads
// from the login's Secret, both over HTTPS with the CA verified. The claim (components/trino.ts,
// issueLogins): no query fails and no Trino pod restarts, because the new token's key was in the
// coordinator's volume before the update; and the old token is refused once the coordinator has
// restarted (docs/security.md: how to refuse it at once).
import { decodeProtectedHeader } from "jose";
import { sleep } from "../e2e/procs";
import { CheckFailed } from "../e2e/report";
import type { Harness } from "./harness";
import { secretData } from "./kube";
import { serverPods, type RotationWatch } from "./cert-rotation";
import { restartTrino } from "./real-checks";
import { trinoQuery, trinoServer, type TrinoServer } from "./trino-client";
import { TRINO_LOGIN_CONSUMERS } from "../../components/credentials";
import { LOGIN_KEYS, loginSecretName } from "../../components/trino-security";

type Components = Record<string, string>;

/** Where a login's Secret is: its holder's namespace. */
function holderNamespace(c: Components, login: string): string {
    const consumer = TRINO_LOGIN_CONSUMERS.find((x) => x.name === login);
    if (!consumer) throw new CheckFailed(`no Trino login ${login}`);
    return c[consumer.component];
}

/** The login's token as its Secret holds it now: what a pod starting at this moment reads. */
async function currentToken(h: Harness, ns: string, login: string): Promise<string> {
    const secret = await h.kube.get("Secret", loginSecretName(login), ns);
    const token = secret ? secretData(secret)[LOGIN_KEYS.token] : undefined;
    if (!token) throw new CheckFailed(`no token in Secret ${ns}/${loginSecretName(login)}`);
    return token;
}

const kid = (token: string) => String(decodeProtectedHeader(token).kid);

/** The coordinator as the suite reaches it, presenting `token` instead of the admin's. */
function as(server: TrinoServer, token: string): TrinoServer {
    if (!server.tls) throw new CheckFailed("Trino serves no HTTPS: no login to rotate");
    return { ...server, tls: { ...server.tls, token } };
}

export interface LoginRotationWatch extends RotationWatch {
    /** After `finish`: restarts Trino's pods and says whether the old token is refused and the new one works. */
    oldTokenAfterRestart(): Promise<string>;
}

/** Starts the queries; call before the `up` that rotates `login`. */
export async function watchLoginRotation(
    h: Harness,
    c: Components,
    login: string,
    seconds = 300,
): Promise<LoginRotationWatch> {
    const started = Date.now();
    const at = () => Math.round((Date.now() - started) / 1000);
    const ns = holderNamespace(c, login);
    const podsBefore = await serverPods(h, [c.trino]);
    const server = await trinoServer(h.kube, c.trino);
    const oldToken = await currentToken(h, ns, login);
    let newToken: string | undefined;
    let changedAt: number | undefined;
    const runs = { old: 0, current: 0, newOk: 0, failed: [] as string[] };
    let stop = false;

    const loop = (async () => {
        while (!stop) {
            try {
                await trinoQuery(as(server, oldToken), login, "SELECT 1");
                runs.old++;
            } catch (e) {
                runs.failed.push(`${at()} s, the old token (${kid(oldToken)}): ${String(e).slice(0, 200)}`);
            }
            let token: string | undefined;
            try {
                token = await currentToken(h, ns, login);
                await trinoQuery(as(server, token), login, "SELECT 1");
                runs.current++;
                if (token !== oldToken) {
                    runs.newOk++;
                    newToken = token;
                    changedAt ??= at();
                }
            } catch (e) {
                runs.failed.push(
                    `${at()} s, the Secret's token (${token ? kid(token) : "unread"}): ${String(e).slice(0, 200)}`,
                );
            }
            await sleep(1000);
        }
    })();

    return {
        async finish(): Promise<string> {
            // The update has ended when this is called; a few queries more with the new token show it holds.
            const deadline = started + seconds * 1000;
            while ((newToken === undefined || runs.newOk < 10) && Date.now() < deadline) await sleep(1000);
            stop = true;
            await loop;
            const problems = runs.failed.slice(0, 8).map((f) => `a query failed at ${f}`);
            if (runs.failed.length > 8) problems.push(`and ${runs.failed.length - 8} more`);
            if (newToken === undefined)
                problems.push(`Secret ${ns}/${loginSecretName(login)} still holds ${kid(oldToken)} after ${at()} s`);
            const podsAfter = await serverPods(h, [c.trino]);
            if (podsAfter.join("|") !== podsBefore.join("|"))
                problems.push(`a Trino pod restarted: before ${podsBefore.join(", ")}; after ${podsAfter.join(", ")}`);
            if (problems.length > 0) throw new CheckFailed(problems.join("; "));
            return `${login}'s Secret moved from ${kid(oldToken)} to ${kid(newToken!)} ${changedAt} s after the update began; ${runs.old} queries with the old token and ${runs.current} with the Secret's (${runs.newOk} of them the new one), a second each, HTTPS with the CA verified, none failed; no Trino pod restarted or replaced (${podsBefore.length} pods)`;
        },
        async oldTokenAfterRestart(): Promise<string> {
            if (newToken === undefined) throw new CheckFailed("the login was not rotated");
            await restartTrino(h, c.trino);
            const fresh = await trinoServer(h.kube, c.trino);
            // The restarted coordinator answers a while before it accepts queries: until the new token works.
            const deadline = Date.now() + 180_000;
            for (;;) {
                try {
                    await trinoQuery(as(fresh, newToken), login, "SELECT 1");
                    break;
                } catch (e) {
                    if (Date.now() > deadline) throw new CheckFailed(`the new token after the restart: ${String(e)}`);
                    await sleep(2000);
                }
            }
            try {
                await trinoQuery(as(fresh, oldToken), login, "SELECT 1");
            } catch (e) {
                const why = String(e);
                if (!/HTTP 401/.test(why)) throw new CheckFailed(`the old token failed, but not as refused: ${why}`);
                return `after Trino's pods restarted, the new token (${kid(newToken)}) queries and the old one (${kid(oldToken)}) is refused: ${why.slice(0, 160)}`;
            }
            throw new CheckFailed(`the old token (${kid(oldToken)}) still queries after Trino's pods restarted`);
        },
    };
}
