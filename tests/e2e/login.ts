// Dagster's webserver behind its login (dagsterLogin): the real oauth2-proxy, built from the Go
// module proxy, run with the program's Deployment (its args, its env from the Secret, the htpasswd
// file and sign-in page as the pod mounts them) in front of the real webserver. The checks are a
// user's: no session, no Dagster; the admin's password, a session and Dagster's answer.
import * as path from "path";
import { DAGSTER_ADMIN_SECRET, DAGSTER_LOGIN_KEYS, LOGIN_PREFIX } from "../../components/dagster-login";
import { PLATFORM_SERVICES } from "../../components/addresses";
import type { PlatformRun } from "./platform";
import type { Report } from "./report";
import { mountVolumes, type Context } from "./servers";

/** The login's Deployment (and the suite's process of it): named as its Service, by the address registry. */
export const DEPLOYMENT = PLATFORM_SERVICES.dagsterWebserver.login.service;

/** Whether the stack puts Dagster's webserver behind its login (dagsterLogin). */
export function hasDagsterLogin(p: PlatformRun): boolean {
    return p.hasRelease("dagster") && p.has("Deployment", p.detail<string>("components.dagster.namespace"), DEPLOYMENT);
}

/** Where the suite reaches Dagster through its login, and the admin's login as a header. */
export interface LoginProxy {
    /** `http://<host>:<port>` of the login's Service. */
    url: string;
    authorization: string;
    user: string;
    password: string;
}

/** The login's process, with the Deployment's args and env; undefined when the stack has no login. */
export async function startDagsterLogin(ctx: Context): Promise<LoginProxy | undefined> {
    const { p, tc, procs, work, report, names } = ctx;
    if (!hasDagsterLogin(p)) return undefined;
    const ns = p.detail<string>("components.dagster.namespace");
    if (!tc.oauth2Proxy) throw new Error("the stack has Dagster's login, and no oauth2-proxy was built for it");
    const c = p.container("Deployment", ns, DEPLOYMENT, "oauth2-proxy");
    const mounts = mountVolumes(p, ns, p.podSpec("Deployment", ns, DEPLOYMENT), c, path.join(work, DEPLOYMENT));
    const service = p.detail<{ host: string; port: number }>("components.dagster.services.webserver");
    const address = names.get(service.host);
    if (!address) throw new Error(`no loopback address for ${service.host}`);
    const args = c.args.map((a) => {
        const bind = /^--http-address=0\.0\.0\.0:(\d+)$/.exec(a);
        if (bind) return `--http-address=${address}:${bind[1]}`;
        for (const [inPod, here] of mounts) a = a.split(inPod).join(here);
        return a;
    });
    const { env } = p.containerEnv(ns, c);
    const child = procs.start(DEPLOYMENT, tc.oauth2Proxy.bin, args, { env: { PATH: process.env.PATH, ...env } });
    await procs.waitForPort(DEPLOYMENT, child, address, service.port, 60_000);
    report.version("oauth2-proxy", tc.oauth2Proxy.used);
    report.substitute(
        `the ${DEPLOYMENT} pod (image ${c.image})`,
        `oauth2-proxy ${tc.oauth2Proxy.used} built from the Go module proxy, run with the Deployment's args and env (its Secret's), bound to its Service's loopback address; the htpasswd file and sign-in page are the Secret's and ConfigMap's, as files under ${path.join(work, DEPLOYMENT)}`,
        "no pods",
    );
    return loginAt(`http://${service.host}:${service.port}`, p.secret(ns, DAGSTER_ADMIN_SECRET));
}

/** The login at `url`, as the admin whose Secret (`dagster-login-admin`, decoded) is `admin`. */
export function loginAt(url: string, admin: Record<string, string>): LoginProxy {
    const user = admin[DAGSTER_LOGIN_KEYS.username];
    const password = admin[DAGSTER_LOGIN_KEYS.password];
    return { url, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`, user, password };
}

async function request(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; headers: Headers }> {
    const res = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(30_000) });
    return { status: res.status, body: await res.text(), headers: res.headers };
}

function expect(what: string, got: { status: number; body: string }, status: number, body?: RegExp): string {
    if (got.status !== status || (body && !body.test(got.body)))
        throw new Error(`${what}: HTTP ${got.status} (expected ${status}): ${got.body.slice(0, 300)}`);
    return `${what}: ${got.status}`;
}

/** No session, no Dagster; the admin's login, Dagster. The real node runs the same checks on the pods. */
export async function checkDagsterLogin(report: Report, login: LoginProxy): Promise<void> {
    const graphql = (headers: Record<string, string> = {}) =>
        request(`${login.url}/graphql`, {
            method: "POST",
            headers: { "Content-Type": "application/json", ...headers },
            body: JSON.stringify({ query: "{ version }" }),
        });
    await report.check(
        "dagster: without a login, the webserver's login answers with its sign-in page (403) and the API with 401; a wrong password gets no further",
        async () => {
            const basic = (password: string) => `Basic ${Buffer.from(`${login.user}:${password}`).toString("base64")}`;
            return [
                expect("GET / (a browser)", await request(`${login.url}/`), 403, /action="\/oauth2\/sign_in"/),
                expect("POST /graphql (the API)", await graphql(), 401),
                expect(
                    "POST /graphql, a wrong password",
                    await graphql({ Authorization: basic(`${login.password}x`) }),
                    401,
                ),
                expect(
                    "the sign-in form, a wrong password",
                    await request(`${login.url}${LOGIN_PREFIX}/sign_in`, {
                        method: "POST",
                        headers: { "Content-Type": "application/x-www-form-urlencoded" },
                        body: new URLSearchParams({
                            username: login.user,
                            password: `${login.password}x`,
                            rd: "/",
                        }).toString(),
                    }),
                    401,
                ),
            ].join("; ");
        },
    );
    await report.check(
        "dagster: the admin's login (the platform's generated password) opens a session at the sign-in form (302, a cookie) that reaches the webserver (200), and so does HTTP basic auth",
        async () => {
            const signIn = await request(`${login.url}${LOGIN_PREFIX}/sign_in`, {
                method: "POST",
                headers: { "Content-Type": "application/x-www-form-urlencoded" },
                body: new URLSearchParams({
                    username: login.user,
                    password: login.password,
                    rd: "/server_info",
                }).toString(),
            });
            const cookie = signIn.headers
                .getSetCookie()
                .map((c) => c.split(";")[0])
                .find((c) => c.startsWith("_dagster_login="));
            if (signIn.status !== 302 || !cookie)
                throw new Error(
                    `sign-in: HTTP ${signIn.status}, ${cookie ? "a" : "no"} session cookie: ${signIn.body.slice(0, 300)}`,
                );
            const withSession = await request(`${login.url}/server_info`, { headers: { Cookie: cookie } });
            const version = /"dagster_webserver_version"\s*:\s*"([^"]+)"/.exec(withSession.body)?.[1];
            if (withSession.status !== 200 || !version)
                throw new Error(
                    `GET /server_info with the session: HTTP ${withSession.status}: ${withSession.body.slice(0, 300)}`,
                );
            return [
                `sign-in: 302 to ${signIn.headers.get("location")} with a session cookie`,
                `GET /server_info with it: 200, Dagster webserver ${version}`,
                expect(
                    "POST /graphql with basic auth",
                    await graphql({ Authorization: login.authorization }),
                    200,
                    /"version"/,
                ),
            ].join("; ");
        },
    );
}
