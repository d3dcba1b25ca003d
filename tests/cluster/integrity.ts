// What data depends on, read from the cluster: the credentials (every Secret's data) and the
// volumes (PVC UIDs). A credential is valid when both sides agree: a consumer's Garage key is the
// one Garage's bootstrap imports, a consumer's PostgreSQL password verifies against the SCRAM
// verifier the init Job gives its role.
import { createHash, createHmac, pbkdf2Sync } from "crypto";
import { CheckFailed } from "../e2e/report";
import type { Harness } from "./harness";
import { Kube, secretData } from "./kube";

export type Snapshot = Map<string, Record<string, string>>;

/** Every Secret's data in the namespaces (decoded), but Helm's release records and service-account tokens. */
export async function credentialSnapshot(kube: Kube, namespaces: string[]): Promise<Snapshot> {
    const out: Snapshot = new Map();
    for (const ns of namespaces) {
        for (const s of await kube.list("Secret", ns)) {
            const type = s.type as string;
            if (type === "helm.sh/release.v1" || type === "kubernetes.io/service-account-token") continue;
            out.set(`${ns}/${s.metadata.name}`, secretData(s));
        }
    }
    return out;
}

/** The Secrets whose data differs between two snapshots (present in both). */
export function changedSecrets(before: Snapshot, after: Snapshot): string[] {
    return [...before.keys()].filter(
        (k) => after.has(k) && JSON.stringify(after.get(k)) !== JSON.stringify(before.get(k)),
    );
}

export async function pvcUids(kube: Kube, namespaces: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const ns of namespaces)
        for (const p of await kube.list("PersistentVolumeClaim", ns))
            out.set(`${ns}/${p.metadata.name}`, p.metadata.uid ?? "");
    return out;
}

/** SCRAM-SHA-256: does `password` verify against PostgreSQL's stored verifier? (RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key"))). */
export function scramVerifies(password: string, verifier: string): boolean {
    const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
    if (!m) return false;
    const salted = pbkdf2Sync(password, Buffer.from(m[2], "base64"), Number(m[1]), 32, "sha256");
    const stored = createHash("sha256")
        .update(createHmac("sha256", salted).update("Client Key").digest())
        .digest("base64");
    return stored === m[3];
}

/** Each credential in the cluster against its issuer's side; a list of what does not agree. */
export function invalidCredentials(snapshot: Snapshot): { checked: number; invalid: string[] } {
    const invalid: string[] = [];
    let checked = 0;
    const find = (name: string) => [...snapshot].find(([k]) => k.endsWith(`/${name}`))?.[1];
    const keys = find("garage-consumer-keys") ?? {};
    const verifiers = find("postgres-role-verifiers") ?? {};
    for (const [id, data] of snapshot) {
        const garage = /\/([a-z0-9-]+)-garage-credentials$/.exec(id);
        if (garage && data.AWS_ACCESS_KEY_ID) {
            checked++;
            const prefix = `KEY_${garage[1].toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
            if (
                keys[`${prefix}_ID`] !== data.AWS_ACCESS_KEY_ID ||
                keys[`${prefix}_SECRET`] !== data.AWS_SECRET_ACCESS_KEY
            )
                invalid.push(`${id}: not the key Garage's bootstrap imports for ${garage[1]}`);
        }
        if (/-postgres-credentials$/.test(id) && data.username) {
            checked++;
            const password = Object.entries(data).find(([k]) => k !== "username")?.[1] ?? "";
            const verifier = verifiers[`PG_VERIFIER_${data.username.toUpperCase()}`];
            if (!verifier || !scramVerifies(password, verifier))
                invalid.push(`${id}: the password does not verify against role ${data.username}'s verifier`);
        }
        if (/\/postgres-superuser$/.test(id) && data.verifier) {
            checked++;
            if (!scramVerifies(data.password, data.verifier))
                invalid.push(`${id}: the password does not verify against its verifier`);
        }
    }
    return { checked, invalid };
}

/**
 * Every credential valid; and, unless `mayChange`, every Secret's data as it was before (but those
 * of the consumers named in `rotated`, and the issuer-side lists that carry their keys).
 */
export async function checkCredentials(
    h: Harness,
    stack: string,
    namespaces: string[],
    before: Snapshot,
    opts: { rotated: string[]; mayChange?: boolean; when: string },
): Promise<void> {
    await h.report.check(
        `${stack}: ${opts.when}: every credential valid${opts.mayChange ? "" : ", none changed but those rotated"}`,
        async () => {
            const now = await credentialSnapshot(h.kube, namespaces);
            const { checked, invalid } = invalidCredentials(now);
            if (invalid.length > 0) throw new CheckFailed(invalid.join("; "));
            if (checked === 0) throw new CheckFailed("no credential found to check");
            if (opts.mayChange) return `${checked} credentials, each agreeing with its issuer`;
            const issuerSide = ["garage-consumer-keys", "postgres-role-verifiers", "garage-retired-keys"];
            const changed = changedSecrets(before, now).filter(
                (k) =>
                    !opts.rotated.some(
                        (c) => k.endsWith(`/${c}-garage-credentials`) || k.endsWith(`/${c}-postgres-credentials`),
                    ) && !issuerSide.some((s) => k.endsWith(`/${s}`)),
            );
            if (changed.length > 0) throw new CheckFailed(`changed: ${changed.join(", ")}`);
            return `${checked} credentials, each agreeing with its issuer; ${before.size} Secrets compared, only ${opts.rotated.length ? `${opts.rotated.join(", ")}'s` : "none"} changed`;
        },
    );
}
