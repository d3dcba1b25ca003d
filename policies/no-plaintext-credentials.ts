import { ResourceValidationPolicy } from "@pulumi/policy";
import { resourceLabel } from "./lib/report";
import { isSecretPointer, isUnusedCredential } from "./lib/rules";
import { configStrings, FoundString } from "./lib/strings";

/**
 * Field names whose value is a credential: `password`, `adminToken`, `s3.aws-secret-key`,
 * `AWS_SECRET_ACCESS_KEY`, and Hadoop's dotted properties (`fs.s3a.secret.key`,
 * `fs.s3a.access.key`, `fs.s3a.session.token`, `fs.s3a.bucket.<b>.secret.key`,
 * `fs.s3a.encryption.key`, `fs.gs.auth.service.account.private.key`,
 * `javax.jdo.option.ConnectionPassword`).
 */
const CREDENTIAL_KEY =
    /(password|passwd|passphrase|pwd|secret|token|api[_.-]?key|access[_.-]?key([_.-]?id)?|secret[_.-]?(access[_.-]?)?key|private[_.-]?key|encryption[_.-]?key|credentials?)$/i;

/** Hadoop credential properties whose name does not end with the credential's kind. */
const HADOOP_CREDENTIAL_KEY = [
    // fs.azure.account.key.<account>.dfs.core.windows.net: an Azure storage account key.
    /^fs\.azure\.account\.key\./,
    // fs.azure.sas.<container>.<account>.blob.core.windows.net: a shared access signature.
    /^fs\.azure\.sas\./,
];

/** Field names that name a Secret or a key in one, rather than hold a credential. */
const REFERENCE_KEY =
    /([a-z0-9](SecretKey|SecretName|SecretRef|KeyRef|SecretKeyName|PullSecret)|^(secretName|existingSecret|secretRef|secretKeyRef|secretKeyName))$|[_-]SECRET_NAME$/;

/**
 * Values that refer to a credential kept elsewhere: `${ENV:X}`, `${env.X}`, `$(X)`, `{{ ... }}`
 * (and `see Secret <name> key <key>`, or `unused: <why>` for a part that never runs; see rules.ts).
 */
const REFERENCE_VALUE = /^\s*(\$\{[^}]+\}|\$\([A-Za-z_][\w]*\)|\{\{.*\}\})\s*$/s;

/** Key material whatever the field: cloud and Garage access keys, private keys, passwords in URLs. */
const MATERIAL: [RegExp, string][] = [
    [/\bAKIA[0-9A-Z]{16}\b/, "an AWS access key id"],
    [/\bGK[0-9a-f]{24}\b/, "a Garage access key id"],
    [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
    [/\b[a-z][a-z0-9+.-]*:\/\/[^:@/\s]+:[^@/\s]+@/i, "a password in a URL"],
];

export interface CredentialFinding {
    found: FoundString;
    what: string;
}

export function credentialFindings(type: string, props: unknown): CredentialFinding[] {
    const out: CredentialFinding[] = [];
    configStrings(type, props, (found) => {
        if (found.expanded) return;
        const value = found.value;
        const credentialKey =
            (CREDENTIAL_KEY.test(found.key) || HADOOP_CREDENTIAL_KEY.some((k) => k.test(found.key))) &&
            !REFERENCE_KEY.test(found.key);
        if (
            credentialKey &&
            value.trim() !== "" &&
            !REFERENCE_VALUE.test(value) &&
            !isSecretPointer(value) &&
            !isUnusedCredential(value)
        ) {
            out.push({ found, what: `a literal ${found.key}` });
            return;
        }
        for (const [pattern, what] of MATERIAL) {
            if (pattern.test(value)) {
                out.push({ found, what });
                return;
            }
        }
    });
    return out;
}

export const noPlaintextCredentials: ResourceValidationPolicy = {
    name: "no-plaintext-credentials",
    description:
        "No password, secret key or token as a literal in Helm values, ConfigMaps or env values: Helm keeps values in its release Secret and charts copy them into ConfigMaps. Refer to a Secret instead (secretKeyRef, ${ENV:...}, existingSecret, a Secret's name).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        for (const { found, what } of credentialFindings(args.type, args.props)) {
            // The value itself is never repeated in the message.
            reportViolation(
                `${resourceLabel(args.type, args.name)}: ${found.path} holds ${what}; keep it in a Secret and refer to it (secretKeyRef, envFrom, \${ENV:...}, the chart's existingSecret).`,
            );
        }
    },
};
