// What Trino needs to authenticate its clients (`trinoAuthentication`): a signed token per login,
// the keys Trino verifies them with, the access rules of each login, and the names of the Secrets
// the chart mounts. The program, its tests and the end-to-end suite (which starts the real Trino
// with these files) share them.
//
// Logins are JSON Web Tokens, which Trino's own JWT authenticator verifies (trino-main): each
// login has a key of its own (HMAC-SHA256, generated), named by the token's `kid`, so rotating
// one login retires its key alone. Trino's password file authenticator is a plugin that the
// registries here do not serve, so nothing here could ever show it working.
import { SignJWT } from "jose";
import { TRINO_LOGIN_CONSUMERS } from "./credentials";

/** The port clients use: HTTPS (the chart's default); plain HTTP stays for the pods' probes and the workers. */
export const TRINO_HTTPS_PORT = 8443;
/** Where the coordinator mounts its certificate Secret; keystore.pem holds the key and the certificate. */
export const TRINO_TLS_DIR = "/etc/trino/tls";
export const TRINO_TLS_SECRET = "trino-tls";
/** Where the coordinator mounts the logins' keys, one file per key id: `<kid>.key`. */
export const TRINO_JWT_DIR = "/etc/trino/jwt";
export const TRINO_JWT_SECRET = "trino-login-keys";
/** The issuer every login's token names, and Trino requires. */
export const JWT_ISSUER = "lakehouse-platform";
/** The Secret with the secret the coordinator and workers sign their internal requests with. */
export const TRINO_INTERNAL_SECRET = "trino-internal-communication";
export const TRINO_INTERNAL_SECRET_ENV = "TRINO_INTERNAL_SHARED_SECRET";
/** Keys of each login's Secret, in its holder's namespace. */
export const LOGIN_KEYS = { username: "username", token: "token" } as const;

export function loginSecretName(login: string): string {
    return `trino-login-${login}`;
}

/** Characters of a login's key: base64 text of 33 bytes, above the 256 bits HMAC-SHA256 asks for. */
export const LOGIN_KEY_CHARS = 44;

/** The key id of a login at a generation: Trino reads the key from `<kid>.key` (letters, digits, '-' and '_'). */
export function keyId(login: string, generation: number): string {
    return `${login}-${generation}`;
}

/**
 * A login's token: HS256 over `{iss, sub}` with the login's key, `kid` naming the key. HMAC
 * signatures are deterministic, so the same key gives the same token and a preview shows no
 * change. It does not expire: it is a credential like a password, replaced by rotation.
 */
export async function loginToken(login: string, kid: string, keyBase64: string): Promise<string> {
    // The bytes Trino's key file decodes to (base64, as java.util.Base64's MIME decoder reads it).
    return new SignJWT({})
        .setProtectedHeader({ alg: "HS256", typ: "JWT", kid })
        .setIssuer(JWT_ISSUER)
        .setSubject(login)
        .sign(Buffer.from(keyBase64, "base64"));
}

const ALL_TABLE_PRIVILEGES = ["SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP", "GRANT_SELECT"];

/** A regular expression that matches `name` only, as Trino's rules match whole names. */
function exactly(name: string): string {
    return name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Trino's file-based access rules (rules.json): the admin may do anything; dbt owns its schema and
 * the schemas dbt names after it (`<schema>_<custom>`), and reads the rest of the catalog; the
 * analyst reads the catalog. Any user the rules do not name gets nothing.
 */
export function accessRules(catalog: string, dbtSchema: string): Record<string, unknown> {
    const byAccess = (access: string) =>
        TRINO_LOGIN_CONSUMERS.filter((c) => c.access === access)
            .map((c) => exactly(c.name))
            .join("|");
    const [admin, writer, reader] = [byAccess("admin"), byAccess("writer"), byAccess("reader")];
    const cat = exactly(catalog);
    const own = `${exactly(dbtSchema)}(_.*)?`;
    return {
        catalogs: [
            { user: admin, allow: "all" },
            { user: writer, catalog: `(${cat}|system)`, allow: "all" },
            { user: reader, catalog: `(${cat}|system)`, allow: "read-only" },
        ],
        schemas: [
            { user: admin, owner: true },
            { user: writer, catalog: cat, schema: own, owner: true },
        ],
        tables: [
            { user: admin, privileges: ALL_TABLE_PRIVILEGES },
            { user: writer, catalog: cat, schema: own, privileges: ALL_TABLE_PRIVILEGES },
            { user: `(${writer}|${reader})`, catalog: `(${cat}|system)`, privileges: ["SELECT"] },
        ],
    };
}
