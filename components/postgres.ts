// The platform's metadata PostgreSQL: one database and one role per consumer (Hive Metastore,
// Airbyte, Dagster). The images the Airbyte and Dagster charts bundle are no longer published, so
// this component owns the databases they use.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { createHash, createHmac, pbkdf2Sync } from "crypto";
import { Endpoint, jdbcPostgresUrl, serviceEndpoint } from "./addresses";
import { CA_DIR, caMount } from "./certificates";
import { Resources } from "./config";
import { credentialName, generationKeepers } from "./credentials";
import {
    checksum,
    CREDENTIALS_REVISION,
    envFromSecret,
    KeepData,
    NamespacedComponent,
    REPLACE_DELETE_FIRST,
    resourceRequirements,
    restrictedContainerSecurity,
    restrictedPodSecurity,
    RUN_CHECKSUM,
} from "./k8s";
import { credentialLabels } from "./labels";
import type { ComponentName } from "./config";

/** uid and gid of the `postgres` user in the official (Debian-based) image. */
const POSTGRES_UID = 999;
const PORT = 5432;
const SCRAM_ITERATIONS = 4096;

export interface DatabaseConsumer {
    /** Consumer name, used for its Secret: `<name>-postgres-credentials`. */
    name: string;
    /** The component the consumer is part of (its Secret is labelled with it). */
    component: ComponentName;
    /** Namespace the consumer's Secret is created in: its own, or the database's when it is a handoff. */
    namespace: string;
    database: string;
    role: string;
    /** Key of the password in the consumer's Secret (charts expect their own, e.g. `postgresql-password`). */
    passwordKey: string;
    /** The role may create databases (Airbyte's Temporal creates its own). */
    createDatabases?: boolean;
    /** Another stack deploys the consumer: its Secret waits in the database namespace for that stack to copy. */
    handoff?: boolean;
    /** Generation of its password (`credentialGenerations`, database-login/<name>): a new one issues a new password. */
    generation: number;
    /**
     * Its client verifies the server's certificate (sslmode=verify-full with the platform's CA). With
     * `tls`, a consumer that cannot is the one role admitted without TLS (docs/security.md names it).
     */
    verifiesTls: boolean;
}

/** TLS for every connection (`postgresTls`): the server's certificate and the CA its clients verify it with. */
export interface PostgresTls {
    /** The kubernetes.io/tls Secret (tls.crt, tls.key) the platform's Certificates issued for `postgres.<ns>.svc.<domain>`. */
    secretName: string;
    /** The CA's ConfigMap (key `ca.crt`) in the database's namespace: the init Job verifies the server with it. */
    caConfigMap: string;
    /** The certificate's generation (`credentialGenerations` tls/postgres): a new one runs the init Job, which reloads the server. */
    generation: number;
}

/** How a client reaches the server with `postgresTls`: libpq's and pgJDBC's parameters, and the CA file they name. */
export interface PostgresClientTls {
    sslmode: "verify-full";
    /** The CA's file in a client pod that mounts the CA's ConfigMap at CA_DIR. */
    sslrootcert: string;
    /** The CA's ConfigMap, in every namespace whose clients verify the server. */
    caConfigMap: string;
}

export interface MetadataDatabaseArgs {
    namespace: string;
    clusterDomain: string;
    environment: string;
    image: string;
    storageSize: string;
    storageClass?: string;
    resources: Resources;
    maxConnections: number;
    consumers: DatabaseConsumer[];
    /** TLS only, every client verifying the server (`postgresTls`); undefined: the image's pg_hba.conf (password logins without TLS). */
    tls?: PostgresTls;
    /**
     * Options of the resources that hold the data and of what the server needs to start again
     * after a destroy that kept it (StatefulSet, its governing Service, the superuser's Secret).
     */
    keepData?: KeepData;
}

/** Where a consumer finds its database credentials. */
export interface DatabaseCredentials {
    namespace: string;
    secretName: string;
    usernameKey: string;
    passwordKey: string;
    database: string;
    role: string;
    /** The password's generation (`credentialGenerations`); stacks deployed before rotation existed omit it: 1. */
    generation?: number;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** The server's certificate (kubernetes.io/tls), issued by the platform's Certificates with `postgresTls`. */
export const POSTGRES_TLS_SECRET = "postgres-tls";

/** Where the server reads its certificate and its pg_hba.conf (with `tls`). */
const TLS_DIR = "/etc/postgresql/tls";
const HBA_DIR = "/etc/postgresql/hba";
/** The pod annotation with the checksum of pg_hba.conf: PostgreSQL reads it at start. */
const HBA_CHECKSUM = "lakehouse-platform/hba-checksum";

/** The parameters every client with `postgresTls` connects with (libpq's names; pgJDBC reads the same). */
export function postgresClientTls(caConfigMap: string): PostgresClientTls {
    return { sslmode: "verify-full", sslrootcert: `${CA_DIR}/ca.crt`, caConfigMap };
}

/** A client's connection parameters (a JDBC URL's, dagster-postgres' `params`): none without TLS. */
export function tlsParams(tls: PostgresClientTls | undefined): Record<string, string> {
    return tls ? { sslmode: tls.sslmode, sslrootcert: tls.sslrootcert } : {};
}

/** The same as libpq's environment (psql in a Job): none without TLS. */
export function tlsEnv(tls: PostgresClientTls | undefined): k8s.types.input.core.v1.EnvVar[] {
    return Object.entries(tlsParams(tls)).map(([k, v]) => ({ name: `PG${k.toUpperCase()}`, value: v }));
}

/**
 * pg_hba.conf with `postgresTls`: over the network, TLS only, each role with its SCRAM password;
 * without TLS only the roles whose clients cannot verify (each named), and nobody else (a
 * connection no line matches is refused). The socket, which only the server's pod reaches, is
 * the image's own first start (peer: the OS user postgres is the role postgres).
 */
export function renderHba(consumers: Pick<DatabaseConsumer, "role" | "name" | "verifiesTls">[]): string {
    const exempt = consumers.filter((c) => !c.verifiesTls);
    return [
        "# pg_hba.conf of the lakehouse platform's PostgreSQL with postgresTls, generated by components/postgres.ts.",
        "# TYPE    DATABASE  USER      ADDRESS  METHOD",
        "local     all       postgres           peer",
        "hostssl   all       all       all      scram-sha-256",
        ...exempt.flatMap((c) => [
            `# ${c.name}: its client cannot verify the server (docs/security.md), admitted without TLS.`,
            `hostnossl all       ${c.role.padEnd(9)} all      scram-sha-256`,
        ]),
        "",
    ].join("\n");
}

/** Where the init Job mounts the certificate the server must serve (with `tls`). */
const ISSUED_DIR = "/etc/postgresql/issued";

const INIT = 'until pg_isready -q; do echo "waiting for $PGHOST"; sleep 2; done; exec psql -X -f /sql/init.sql';

/**
 * The init SQL, then, with TLS, the certificate: PostgreSQL reads its files at start and on a
 * reload, and the kubelet updates a mounted Secret within a minute or two of its change, so the
 * Job waits until the server's copy (read by the server itself) is the one this Job mounts, then
 * reloads: open connections stay, new ones get the new certificate, and nothing restarts.
 */
const INIT_AND_RELOAD = [
    'until pg_isready -q; do echo "waiting for $PGHOST"; sleep 2; done',
    "psql -X -f /sql/init.sql || exit 1",
    "i=0",
    `until [ "$(psql -XAtq -c "SELECT pg_read_file(current_setting('ssl_cert_file'))")" = "$(cat ${ISSUED_DIR}/tls.crt)" ]; do`,
    '  i=$((i+1)); [ $i -ge 150 ] && { echo "the certificate file of the server is still not the issued one after 300 s"; exit 1; }',
    "  sleep 2",
    "done",
    'psql -XAtq -c "SELECT pg_reload_conf()" > /dev/null && echo "the server serves the issued certificate (reloaded)"',
].join("\n");

function envName(role: string): string {
    return `PG_VERIFIER_${role.toUpperCase()}`;
}

/**
 * PostgreSQL's SCRAM-SHA-256 verifier of a password (RFC 5802/7677, as `CREATE ROLE ... PASSWORD`
 * accepts it pre-hashed), so the plain password never reaches the server or the init job.
 * Only printable ASCII passwords are accepted: for them SASLprep changes nothing.
 */
export function scramSha256Verifier(password: string, salt: Buffer, iterations = SCRAM_ITERATIONS): string {
    if (!/^[\x21-\x7e]+$/.test(password))
        throw new Error("SCRAM verifier: the password must be printable ASCII without spaces");
    const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/**
 * The init SQL, run with psql as the superuser. Every statement runs only when the catalog differs
 * from what is wanted (`\gexec` over a query that is empty otherwise), so a second run writes
 * nothing and a consumer added later is created without touching the others. The verifiers come
 * from the environment (`\getenv`, psql 15+), never from this file.
 */
export function renderInitSql(consumers: DatabaseConsumer[]): string {
    const parts = [
        "-- Metadata databases of the lakehouse platform, generated by components/postgres.ts.",
        "-- Idempotent: each change is made only when the catalog differs from what is wanted.",
        "\\set ON_ERROR_STOP on",
        "",
        "-- Consumers reach only their own database.",
        "SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', datname) FROM pg_catalog.pg_database d",
        " WHERE datname = 'postgres' AND EXISTS (SELECT FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE a.grantee = 0)",
        "\\gexec",
    ];
    for (const c of consumers) {
        for (const id of [c.role, c.database]) {
            if (!IDENTIFIER.test(id))
                throw new Error(
                    `postgres init: ${JSON.stringify(id)} is not a plain identifier (lower-case letters, digits, '_')`,
                );
        }
        const v = `verifier_${c.role}`;
        const env = envName(c.role);
        const createdb = c.createDatabases ? "CREATEDB" : "NOCREATEDB";
        parts.push(
            "",
            `-- ${c.name}: role ${c.role}, database ${c.database}`,
            `\\getenv ${v} ${env}`,
            `\\if :{?${v}}`,
            `\\else`,
            `DO $$ BEGIN RAISE EXCEPTION 'environment variable ${env} is not set'; END $$;`,
            `\\endif`,
            `SELECT format('CREATE ROLE %I LOGIN ${createdb} PASSWORD %L', '${c.role}', :'${v}')`,
            ` WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '${c.role}')`,
            `\\gexec`,
            `SELECT format('ALTER ROLE %I WITH LOGIN ${createdb} PASSWORD %L', rolname, :'${v}') FROM pg_catalog.pg_authid`,
            ` WHERE rolname = '${c.role}' AND (rolpassword IS DISTINCT FROM :'${v}' OR NOT rolcanlogin OR rolcreatedb <> ${c.createDatabases ? "true" : "false"})`,
            `\\gexec`,
            `SELECT format('CREATE DATABASE %I OWNER %I', '${c.database}', '${c.role}')`,
            ` WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = '${c.database}')`,
            `\\gexec`,
            `SELECT format('ALTER DATABASE %I OWNER TO %I', datname, '${c.role}') FROM pg_catalog.pg_database`,
            ` WHERE datname = '${c.database}' AND datdba <> '${c.role}'::regrole`,
            `\\gexec`,
            `SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', datname) FROM pg_catalog.pg_database d`,
            ` WHERE datname = '${c.database}' AND EXISTS (SELECT FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE a.grantee = 0)`,
            `\\gexec`,
        );
        if (c.createDatabases) {
            // Tools that create databases (Temporal's setup) connect to the `postgres` database first.
            parts.push(
                `SELECT format('GRANT CONNECT ON DATABASE %I TO %I', datname, '${c.role}') FROM pg_catalog.pg_database`,
                ` WHERE datname = 'postgres' AND NOT has_database_privilege('${c.role}', oid, 'CONNECT')`,
                `\\gexec`,
            );
        }
    }
    return parts.join("\n") + "\n";
}

/** A consumer's password as this run issues it, and its SCRAM verifier (what the server stores). */
interface IssuedLogin {
    consumer: DatabaseConsumer;
    password: pulumi.Output<string>;
    verifier: pulumi.Output<string>;
}

export class MetadataDatabase extends NamespacedComponent<MetadataDatabaseArgs> {
    /** `postgres.<ns>.svc.<domain>:5432` */
    public readonly postgresService: Endpoint;
    /** `postgres.<ns>.svc.<domain>:5432`, as clients are given it. */
    public readonly postgresEndpoint: string;
    /** Each consumer's database, role and credentials Secret (in the consumer's namespace). */
    public readonly credentials: Record<string, DatabaseCredentials> = {};
    /** Each consumer's login and its generation (`database-login/<name>=<n>`), for its pod templates: a new one rolls its pods. */
    public readonly credentialRevisions: Record<string, string> = {};
    /** Each consumer's JDBC URL. */
    public readonly jdbcUrls: Record<string, string> = {};
    /** The init Job: once it has completed, every database and role exists, with its current password. */
    public readonly init: k8s.batch.v1.Job;
    /** With `postgresTls`: what every client connects with (sslmode, the CA's file and ConfigMap). */
    public readonly clientTls?: PostgresClientTls;

    private readonly selector: Record<string, string>;

    constructor(name: string, args: MetadataDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("lakehouse:database:MetadataDatabase", name, args, opts, { component: "database", app: "postgres" });
        this.selector = { "app.kubernetes.io/name": "postgres", "app.kubernetes.io/instance": name };
        this.postgresService = serviceEndpoint("postgres", args.namespace, args.clusterDomain);
        this.postgresEndpoint = this.postgresService.hostPort;
        this.clientTls = args.tls ? postgresClientTls(args.tls.caConfigMap) : undefined;

        const superuser = this.superuserSecret(name);
        const logins = this.issueLogins(name);
        const verifiers = this.verifierSecret(name, logins);
        const service = this.service(name);
        const hba = this.hbaConfig(name);
        const statefulSet = this.statefulSet(name, superuser, hba);
        this.init = this.initJob(name, {
            superuser: superuser.secret,
            verifiers,
            logins,
            dependsOn: [statefulSet, service],
        });
        this.consumerSecrets(name, logins);

        this.registerOutputs({
            postgresService: this.postgresService,
            postgresEndpoint: this.postgresEndpoint,
            credentials: this.credentials,
            jdbcUrls: this.jdbcUrls,
        });
    }

    /**
     * PostgreSQL takes the superuser password only when it creates its data directory, so the data
     * would depend on a value that lives only in this stack's state (a destroy forgets it). Instead
     * the server's pod sets the superuser's verifier from this Secret each time it starts (see
     * statefulSet), and the Secret is the superuser's password, whatever the data directory's age.
     */
    private superuserSecret(name: string): { secret: k8s.core.v1.Secret; revision: pulumi.Output<string> } {
        const keep = { protect: this.args.keepData?.protect, retainOnDelete: this.args.keepData?.retainOnDelete };
        const password = new random.RandomPassword(
            `${name}-superuser`,
            { length: 32, special: false },
            { parent: this, ...keep },
        );
        const salt = new random.RandomBytes(`${name}-superuser-salt`, { length: 16 }, { parent: this, ...keep });
        const verifier = pulumi
            .all([password.result, salt.base64])
            .apply(([p, s]) => scramSha256Verifier(p, Buffer.from(s, "base64")));
        const secret = new k8s.core.v1.Secret(
            `${name}-superuser`,
            {
                metadata: this.meta("postgres-superuser"),
                type: "Opaque",
                stringData: { username: "postgres", password: password.result, verifier },
            },
            this.kept(),
        );
        // One-way: the pods roll when the superuser changes, and the annotation says nothing of it.
        return { secret, revision: pulumi.unsecret(verifier.apply((v) => checksum(v))) };
    }

    /** Options of what the server needs to start again after a destroy that kept the data. */
    private kept(extra: pulumi.CustomResourceOptions = {}): pulumi.CustomResourceOptions {
        return this.child({ ...extra, ...this.args.keepData });
    }

    /** A password per consumer, replaced with each generation, and its verifier (salted anew with it). */
    private issueLogins(name: string): IssuedLogin[] {
        return this.args.consumers.map((consumer) => {
            const keepers = generationKeepers(consumer.generation);
            const password = new random.RandomPassword(
                `${name}-${consumer.name}-password`,
                { length: 32, special: false, keepers },
                { parent: this },
            );
            const salt = new random.RandomBytes(
                `${name}-${consumer.name}-salt`,
                { length: 16, keepers },
                { parent: this },
            );
            const verifier = pulumi
                .all([password.result, salt.base64])
                .apply(([p, s]) => scramSha256Verifier(p, Buffer.from(s, "base64")));
            return { consumer, password: password.result, verifier };
        });
    }

    private verifierSecret(name: string, logins: IssuedLogin[]): k8s.core.v1.Secret {
        const data = Object.fromEntries(logins.map((l) => [envName(l.consumer.role), l.verifier]));
        return new k8s.core.v1.Secret(
            `${name}-role-verifiers`,
            { metadata: this.meta("postgres-role-verifiers"), type: "Opaque", stringData: data },
            this.child(),
        );
    }

    /** With `tls`, the server's pg_hba.conf (renderHba); its checksum on the pod rolls the server when it changes. */
    private hbaConfig(name: string): { configMap: k8s.core.v1.ConfigMap; checksum: string } | undefined {
        if (!this.args.tls) return undefined;
        const text = renderHba(this.args.consumers);
        const configMap = new k8s.core.v1.ConfigMap(
            `${name}-hba`,
            { metadata: this.meta("postgres-hba"), data: { "pg_hba.conf": text } },
            // The server cannot start without it, after a destroy that kept the data too.
            this.kept(),
        );
        return { configMap, checksum: checksum(text) };
    }

    private service(name: string): k8s.core.v1.Service {
        return new k8s.core.v1.Service(
            `${name}`,
            {
                metadata: this.meta(this.postgresService.service),
                spec: {
                    type: "ClusterIP",
                    selector: this.selector,
                    ports: [{ name: "postgres", port: PORT, targetPort: "postgres", protocol: "TCP" }],
                },
            },
            // The StatefulSet's governing Service.
            this.kept(),
        );
    }

    /**
     * Sets the superuser's password from its Secret before the server starts, when a data
     * directory exists (a first start creates it with POSTGRES_PASSWORD): PostgreSQL's single-user
     * mode on the volume, the documented way to reset it, with the verifier (never the password)
     * read from the environment by the shell, not from a command line.
     */
    private superuserReset(superuser: k8s.core.v1.Secret): k8s.types.input.core.v1.Container {
        return {
            name: "superuser-password",
            image: this.args.image,
            command: [
                "sh",
                "-c",
                `if [ -s "$PGDATA/PG_VERSION" ]; then printf "ALTER ROLE postgres WITH PASSWORD '%s';\\n" "$POSTGRES_VERIFIER" | postgres --single -D "$PGDATA" postgres >/dev/null; fi`,
            ],
            env: [
                envFromSecret("POSTGRES_VERIFIER", superuser.metadata.name, "verifier"),
                { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
            ],
            resources: resourceRequirements(this.args.resources),
            securityContext: restrictedContainerSecurity(),
            volumeMounts: [
                { name: "data", mountPath: "/var/lib/postgresql/data" },
                { name: "run", mountPath: "/var/run/postgresql" },
                { name: "tmp", mountPath: "/tmp" },
            ],
        };
    }

    private statefulSet(
        name: string,
        superuser: { secret: k8s.core.v1.Secret; revision: pulumi.Output<string> },
        hba?: { configMap: k8s.core.v1.ConfigMap; checksum: string },
    ): k8s.apps.v1.StatefulSet {
        const args = this.args;
        // TLS: the certificate from its Secret, readable by the server's group only (PostgreSQL
        // refuses a key others may read: root-owned 0640 is what it accepts from a volume).
        const tls = args.tls && hba ? { ...args.tls, checksum: hba.checksum, hbaMap: hba.configMap } : undefined;
        const tlsArgs = tls
            ? [
                  "-c",
                  "ssl=on",
                  "-c",
                  `ssl_cert_file=${TLS_DIR}/tls.crt`,
                  "-c",
                  `ssl_key_file=${TLS_DIR}/tls.key`,
                  "-c",
                  "ssl_min_protocol_version=TLSv1.2",
                  "-c",
                  `hba_file=${HBA_DIR}/pg_hba.conf`,
              ]
            : [];
        const pgIsReady = {
            exec: { command: ["pg_isready", "-h", "127.0.0.1", "-p", String(PORT), "-U", "postgres"] },
        };
        const container: k8s.types.input.core.v1.Container = {
            name: "postgres",
            image: args.image,
            args: [
                "-c",
                `max_connections=${args.maxConnections}`,
                "-c",
                "password_encryption=scram-sha-256",
                ...tlsArgs,
            ],
            env: [
                envFromSecret("POSTGRES_PASSWORD", superuser.secret.metadata.name, "password"),
                // A subdirectory, so the volume's lost+found does not stop initdb.
                { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                { name: "POSTGRES_INITDB_ARGS", value: "--auth-host=scram-sha-256" },
            ],
            ports: [{ name: "postgres", containerPort: PORT, protocol: "TCP" }],
            readinessProbe: { ...pgIsReady, initialDelaySeconds: 5, periodSeconds: 10 },
            livenessProbe: { ...pgIsReady, initialDelaySeconds: 30, periodSeconds: 20, failureThreshold: 6 },
            resources: resourceRequirements(args.resources),
            securityContext: restrictedContainerSecurity(),
            volumeMounts: [
                { name: "data", mountPath: "/var/lib/postgresql/data" },
                { name: "run", mountPath: "/var/run/postgresql" },
                { name: "tmp", mountPath: "/tmp" },
                ...(tls
                    ? [
                          { name: "tls", mountPath: TLS_DIR, readOnly: true },
                          { name: "hba", mountPath: HBA_DIR, readOnly: true },
                      ]
                    : []),
            ],
        };
        return new k8s.apps.v1.StatefulSet(
            `${name}`,
            {
                metadata: this.meta("postgres"),
                spec: {
                    serviceName: this.postgresService.service,
                    replicas: 1,
                    selector: { matchLabels: this.selector },
                    template: {
                        metadata: {
                            labels: { ...this.labels, ...this.selector },
                            annotations: {
                                [CREDENTIALS_REVISION]: superuser.revision,
                                // PostgreSQL reads pg_hba.conf at start: a new one restarts it.
                                ...(tls ? { [HBA_CHECKSUM]: tls.checksum } : {}),
                            },
                        },
                        spec: {
                            securityContext: restrictedPodSecurity(POSTGRES_UID),
                            initContainers: [this.superuserReset(superuser.secret)],
                            containers: [container],
                            volumes: [
                                { name: "run", emptyDir: {} },
                                { name: "tmp", emptyDir: {} },
                                ...(tls
                                    ? [
                                          { name: "tls", secret: { secretName: tls.secretName, defaultMode: 0o640 } },
                                          { name: "hba", configMap: { name: tls.hbaMap.metadata.name } },
                                      ]
                                    : []),
                            ],
                        },
                    },
                    volumeClaimTemplates: [
                        {
                            metadata: { name: "data", labels: this.labels },
                            spec: {
                                accessModes: ["ReadWriteOnce"],
                                storageClassName: args.storageClass,
                                resources: { requests: { storage: args.storageSize } },
                            },
                        },
                    ],
                    // The volume outlives the StatefulSet (Kubernetes' default, stated so no one flips it).
                    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                },
            },
            this.kept(REPLACE_DELETE_FIRST),
        );
    }

    /**
     * The init SQL as the superuser. It runs again when the SQL or any role's password changes
     * (the checksum is a one-way hash of the verifiers, so it carries no secret), and then gives a
     * role that exists its new verifier.
     */
    private initJob(
        name: string,
        deps: {
            superuser: k8s.core.v1.Secret;
            verifiers: k8s.core.v1.Secret;
            logins: IssuedLogin[];
            dependsOn: pulumi.Resource[];
        },
    ): k8s.batch.v1.Job {
        const sql = renderInitSql(this.args.consumers);
        const tls = this.clientTls;
        const sqlMap = new k8s.core.v1.ConfigMap(
            `${name}-init`,
            { metadata: this.meta("postgres-init"), data: { "init.sql": sql } },
            this.child(),
        );
        const served = this.args.tls;
        const runChecksum = pulumi.unsecret(
            pulumi
                .all(deps.logins.map((l) => l.verifier))
                .apply((vs) => checksum(sql, ...vs, ...(served ? [`tls=${served.generation}`] : []))),
        );
        return new k8s.batch.v1.Job(
            `${name}-init`,
            {
                metadata: this.meta("postgres-init"),
                spec: {
                    backoffLimit: 6,
                    activeDeadlineSeconds: 900,
                    template: {
                        metadata: {
                            labels: { ...this.labels, "app.kubernetes.io/name": "postgres-init" },
                            annotations: { [RUN_CHECKSUM]: runChecksum },
                        },
                        spec: {
                            restartPolicy: "Never",
                            securityContext: restrictedPodSecurity(POSTGRES_UID),
                            containers: [
                                {
                                    name: "init",
                                    image: this.args.image,
                                    command: ["sh", "-c", served ? INIT_AND_RELOAD : INIT],
                                    env: [
                                        { name: "PGHOST", value: this.postgresService.host },
                                        { name: "PGPORT", value: String(this.postgresService.port) },
                                        { name: "PGUSER", value: "postgres" },
                                        { name: "PGDATABASE", value: "postgres" },
                                        envFromSecret("PGPASSWORD", deps.superuser.metadata.name, "password"),
                                        // With TLS, libpq verifies the server as every client does.
                                        ...tlsEnv(tls),
                                    ],
                                    envFrom: [{ secretRef: { name: deps.verifiers.metadata.name } }],
                                    resources: {
                                        requests: { cpu: "50m", memory: "64Mi" },
                                        limits: { cpu: "500m", memory: "128Mi" },
                                    },
                                    securityContext: restrictedContainerSecurity(),
                                    volumeMounts: [
                                        { name: "sql", mountPath: "/sql", readOnly: true },
                                        ...caMount(tls?.caConfigMap).volumeMounts,
                                        ...(served ? [{ name: "issued", mountPath: ISSUED_DIR, readOnly: true }] : []),
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "sql", configMap: { name: sqlMap.metadata.name } },
                                ...caMount(tls?.caConfigMap).volumes,
                                // The certificate alone (never its key): what the server must serve.
                                ...(served
                                    ? [
                                          {
                                              name: "issued",
                                              secret: {
                                                  secretName: served.secretName,
                                                  items: [{ key: "tls.crt", path: "tls.crt" }],
                                              },
                                          },
                                      ]
                                    : []),
                            ],
                        },
                    },
                },
            },
            this.child({ dependsOn: [...deps.dependsOn, deps.verifiers], ...REPLACE_DELETE_FIRST }),
        );
    }

    /**
     * Each consumer's Secret, written after the init Job gave its role the password: the order of
     * a rotation is server first, then the Secret, then the consumer's pods (their checksum
     * annotation), so a consumer reads the old password only until its rolling restart.
     */
    private consumerSecrets(name: string, logins: IssuedLogin[]): void {
        for (const { consumer: c, password } of logins) {
            const secretName = `${c.name}-postgres-credentials`;
            new k8s.core.v1.Secret(
                `${name}-${c.name}-credentials`,
                {
                    metadata: {
                        name: secretName,
                        namespace: c.namespace,
                        labels: credentialLabels("database", c.component, this.args.environment, c.handoff),
                    },
                    type: "Opaque",
                    stringData: { username: c.role, [c.passwordKey]: password },
                },
                this.child({ dependsOn: [this.init] }),
            );
            this.credentials[c.name] = {
                namespace: c.namespace,
                secretName,
                usernameKey: "username",
                passwordKey: c.passwordKey,
                database: c.database,
                role: c.role,
                generation: c.generation,
            };
            this.credentialRevisions[c.name] = `${credentialName.databaseLogin(c.name)}=${c.generation}`;
            this.jdbcUrls[c.name] = jdbcPostgresUrl(
                this.postgresService,
                c.database,
                tlsParams(c.verifiesTls ? this.clientTls : undefined),
            );
        }
    }
}
