// The checks that prove the wiring from where each connection starts. Generated from the wiring
// (like the NetworkPolicies): one check per edge, run by a Job in the edge's source namespace with
// that component's own credentials, so DNS, NetworkPolicies and grants apply to it exactly as to
// the component. The script is POSIX sh for the two images the Jobs run: curl (busybox ash) and
// PostgreSQL's (dash, for psql). Pure: no Pulumi here, so the plan, the tests and the end-to-end
// suite use the very text the Jobs run.
import { edgeUrl, hostPortOf, PLATFORM_SERVICES, PlatformService, schemeAt, ServiceId, WiringEdge } from "./addresses";
import type { ComponentName } from "./config";
import { DATABASE_LOGIN_CONSUMERS, GARAGE_KEY_CONSUMERS, trinoLoginOf } from "./credentials";

/** The program in the check image that runs a check. */
export type CheckTool = "curl" | "psql";

interface CheckBase {
    /** `<from>-<n>`, stable for a wiring: the Job's log and `wiring-check.sh <tool> <id>` use it. */
    id: string;
    edge: WiringEdge;
    tool: CheckTool;
    /** What it checks, in words (the plan lists them). */
    what: string[];
}

/** One edge's check: what it proves beyond "the name resolves and the port answers", by the service it reaches. */
export type WiringCheck = CheckBase &
    (
        | { kind: "s3"; s3: { region: string; allowed: string[]; refused: string[] } }
        | { kind: "postgres"; login: { database: string; role: string } }
        | {
              kind: "trino";
              /** `login`: the source's Trino login, over HTTPS with the platform's CA verified (`trinoAuthentication`). */
              trino: { catalog: string; login?: string };
          }
        | { kind: "tcp" }
        | { kind: "http"; http: { path: string } }
    );

export type CheckKind = WiringCheck["kind"];

/** What the checks need besides the wiring: Garage's region and buckets, Trino's catalog. */
export interface CheckContext {
    buckets: { lakehouse: string; airbyte: string };
    /** Garage's region, when an edge reaches Garage. */
    s3Region?: string;
    /** Trino's Iceberg catalog, when an edge reaches Trino. */
    trinoCatalog?: string;
}

/** The health path of each HTTP service an edge may reach without credentials. */
const HTTP_HEALTH: Partial<Record<ServiceId, string>> = {
    airbyteServer: "/api/v1/health",
    dagsterWebserver: "/server_info",
};

function required<T>(value: T | undefined, what: string): T {
    if (value === undefined)
        throw new Error(`internal error: a wiring check needs ${what}, which the platform did not give`);
    return value;
}

/** The check of one edge. */
function checkOf(edge: WiringEdge, id: string, ctx: CheckContext): WiringCheck {
    const reach = [`${edge.host} resolves`, `port ${edge.port} answers`];
    switch (edge.service) {
        case "garageS3": {
            const consumer = required(
                GARAGE_KEY_CONSUMERS.find((c) => c.component === edge.from),
                `the Garage key of ${edge.from}`,
            );
            const allowed = consumer.buckets.map((b) => ctx.buckets[b]);
            const refused = Object.values(ctx.buckets).filter((b) => !allowed.includes(b));
            const what = [
                ...reach,
                ...allowed.map((b) => `${consumer.name}'s key writes, reads and deletes a probe object in ${b}`),
                ...refused.map((b) => `a write to ${b} is refused`),
            ];
            return {
                id,
                edge,
                kind: "s3",
                tool: "curl",
                what,
                s3: { region: required(ctx.s3Region, "Garage's region"), allowed, refused },
            };
        }
        case "postgres": {
            const login = required(
                DATABASE_LOGIN_CONSUMERS.find((c) => c.component === edge.from),
                `the PostgreSQL login of ${edge.from}`,
            );
            return {
                id,
                edge,
                kind: "postgres",
                tool: "psql",
                what: [...reach, `role ${login.role} logs in to database ${login.database}`],
                login: { database: login.database, role: login.role },
            };
        }
        case "trino": {
            const catalog = required(ctx.trinoCatalog, "Trino's catalog");
            // Over HTTPS, Trino runs a query only for a login: the source's own.
            const login =
                schemeAt(edge.service, edge.port) === "https"
                    ? required(trinoLoginOf(edge.from), `the Trino login of ${edge.from}`)
                    : undefined;
            return {
                id,
                edge,
                kind: "trino",
                tool: "curl",
                what: [
                    ...reach,
                    ...(login ? ["the certificate verifies against the platform's CA"] : []),
                    "/v1/info says the coordinator has started",
                    login
                        ? `as ${login}, a SELECT through catalog ${catalog} returns its schemas`
                        : `a SELECT through catalog ${catalog} returns its schemas`,
                ],
                trino: login ? { catalog, login } : { catalog },
            };
        }
        case "hiveMetastore":
            return { id, edge, kind: "tcp", tool: "curl", what: [...reach, "the thrift port accepts a connection"] };
        case "airbyteServer":
        case "dagsterWebserver": {
            const path = required(HTTP_HEALTH[edge.service], `the health path of ${edge.service}`);
            return {
                id,
                edge,
                kind: "http",
                tool: "curl",
                what: [...reach, `GET ${path} answers 200`],
                http: { path },
            };
        }
    }
}

/** One check per edge of the wiring, numbered per source component in the wiring's order. */
export function wiringChecks(wiring: readonly WiringEdge[], ctx: CheckContext): WiringCheck[] {
    const seen = new Map<ComponentName, number>();
    return wiring.map((edge) => {
        const n = (seen.get(edge.from) ?? 0) + 1;
        seen.set(edge.from, n);
        return checkOf(edge, `${edge.from}-${n}`, ctx);
    });
}

/** The components whose namespaces run checks, and their checks. */
export function checksBySource(checks: readonly WiringCheck[]): Map<ComponentName, WiringCheck[]> {
    const out = new Map<ComponentName, WiringCheck[]>();
    for (const c of checks) out.set(c.edge.from, [...(out.get(c.edge.from) ?? []), c]);
    return out;
}

/** How a failure names its edge: from, to, the service, and the address as configured. */
export function edgeLabel(edge: WiringEdge): string {
    const service: PlatformService = PLATFORM_SERVICES[edge.service];
    return `${edge.from} → ${edge.to} (${service.description}) at ${edge.address}`;
}

/** The environment variables the script reads: the source component's credentials, from its Secrets. */
export const CHECK_ENV = {
    s3AccessKeyId: "S3_ACCESS_KEY_ID",
    s3SecretAccessKey: "S3_SECRET_ACCESS_KEY",
    pgPassword: "PGPASSWORD",
    trinoUser: "TRINO_USER",
    trinoToken: "TRINO_TOKEN",
    caFile: "CA_FILE",
    terminationLog: "TERMINATION_LOG",
} as const;

/** Single-quoted for sh. Every value here is a validated name or address; quoting keeps it one word anyway. */
function sh(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

function invocation(c: WiringCheck): string {
    const label = sh(`${c.id} ${edgeLabel(c.edge)}`);
    const host = sh(c.edge.host);
    switch (c.kind) {
        case "s3":
            return `check_s3 ${label} ${sh(edgeUrl(c.edge))} ${sh(c.s3.region)} ${sh(c.s3.allowed.join(" "))} ${sh(c.s3.refused.join(" "))} ${sh(c.id)}`;
        case "postgres":
            return `check_postgres ${label} ${host} ${c.edge.port} ${sh(c.login.database)} ${sh(c.login.role)}`;
        case "trino":
            return `check_trino ${label} ${sh(edgeUrl(c.edge))} ${sh(c.trino.catalog)}${c.trino.login ? " login" : ""}`;
        case "tcp":
            return `check_tcp ${label} ${host} ${c.edge.port}`;
        case "http":
            return `check_http ${label} ${sh(edgeUrl(c.edge, c.http.path))}`;
    }
}

// The helpers every script shares. curl's exit status tells what failed on the way: 6 the name,
// 7 a refused connection, 28 a timeout (before the connection, when its connect time is zero: a
// NetworkPolicy or firewall dropping packets). Credentials reach curl on stdin (`-K -`), never argv.
const HELPERS = String.raw`set -u
TOOL=${"$"}{1:?usage: wiring-check.sh curl|psql [check id...]}
shift
ONLY=" $* "
CT=5
# A new pod's NetworkPolicy rules are programmed a few seconds after it starts (kube-router, Calico
# and others sync on the pod's event): until SETTLE seconds after the script began, a refused or
# unanswered connection is tried again; after that it counts.
SETTLE=${"$"}{SETTLE_SECONDS:-30}
BEGAN=$(date +%s)
settling() { [ $(( $(date +%s) - BEGAN )) -lt "$SETTLE" ]; }
PASSED=0
FAILED=0

want() { [ "$2" = "$TOOL" ] || return 1; [ "$ONLY" = "  " ] && return 0; case "$ONLY" in *" $1 "*) return 0;; esac; return 1; }
ok() { PASSED=$((PASSED + 1)); printf 'ok      %s: %s\n' "$1" "$2"; }
fail() {
  FAILED=$((FAILED + 1))
  printf 'FAILED  %s: %s\n' "$1" "$2" >&2
  if [ -n "${"$"}{TERMINATION_LOG:-}" ]; then printf 'FAILED %s: %s\n' "$1" "$2" >> "$TERMINATION_LOG" 2>/dev/null || true; fi
}
connected() { [ -n "$(printf '%s' "$1" | tr -d '0.')" ]; }
# request CURL-ARGS...: sets RC, STATUS (HTTP), CONN (connect time) and BODY. REQ_INPUT, when set,
# is curl's stdin on every attempt (a config with credentials: printf is the shell's own, so the
# secret is in no process's arguments).
request() {
  while :; do
    if [ -n "${"$"}{REQ_INPUT:-}" ]; then
      out=$(printf '%s\n' "$REQ_INPUT" | curl -s --connect-timeout "$CT" --max-time 30 -w ' :::%{http_code} %{time_connect}' "$@" 2>/dev/null)
    else
      out=$(curl -s --connect-timeout "$CT" --max-time 30 -w ' :::%{http_code} %{time_connect}' "$@" 2>/dev/null)
    fi
    RC=$?
    meta=${"$"}{out##* :::}
    BODY=${"$"}{out% :::*}
    STATUS=${"$"}{meta%% *}
    CONN=${"$"}{meta#* }
    # Refused, or no connection within CT: the path may not be programmed yet (see SETTLE).
    if { [ $RC -eq 7 ] || { [ $RC -eq 28 ] && ! connected "$CONN"; }; } && settling; then sleep 2; continue; fi
    return $RC
  done
}
# unreached HOST PORT: what stopped the last request before the protocol.
unreached() {
  case $RC in
    6) echo "$1 does not resolve (DNS)" ;;
    7) echo "$1:$2 refuses the connection (no pod serves the Service, or a NetworkPolicy rejects it)" ;;
    35) echo "$1:$2 fails the TLS handshake (does it serve HTTPS?)" ;;
    60) echo "$1:$2 presents a certificate that the platform's CA ($CA_FILE) does not verify" ;;
    77) echo "the CA file $CA_FILE cannot be read (is the CA's ConfigMap mounted?)" ;;
    28) if connected "$CONN"; then echo "$1:$2 accepted the connection but gave no answer in time"; else echo "$1:$2 does not answer within $CT s (a NetworkPolicy or a firewall drops the packets, or no pod serves it)"; fi ;;
    *) echo "curl exit status $RC on the way to $1:$2" ;;
  esac
}
host_of() { h=${"$"}{1#*://}; h=${"$"}{h%%/*}; echo "${"$"}{h%:*}"; }
port_of() { h=${"$"}{1#*://}; h=${"$"}{h%%/*}; echo "${"$"}{h##*:}"; }
# s3 REGION CURL-ARGS...: a request signed with this namespace's key (SigV4, path style).
s3() {
  region=$1
  shift
  REQ_INPUT="user = \"$S3_ACCESS_KEY_ID:$S3_SECRET_ACCESS_KEY\""
  request -K - --aws-sigv4 "aws:amz:$region:s3" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
  s3rc=$?
  REQ_INPUT=""
  return $s3rc
}
s3_error() { printf '%s' "$BODY" | sed -n 's:.*<Code>\([^<]*\)</Code><Message>\([^<]*\)</Message>.*:\1\: \2:p'; }

check_s3() { # LABEL URL REGION ALLOWED REFUSED ID
  key=".lakehouse-wiring-check/$6-$$"
  probe="lakehouse-platform wiring check $6"
  h=$(host_of "$2"); p=$(port_of "$2")
  for b in $4; do
    s3 "$3" -X PUT --data-binary "$probe" "$2/$b/$key" || { fail "$1" "$(unreached "$h" "$p")"; return; }
    [ "$STATUS" = 200 ] || { fail "$1" "writing s3://$b/$key: HTTP $STATUS $(s3_error)"; return; }
    s3 "$3" "$2/$b/$key" || { fail "$1" "$(unreached "$h" "$p")"; return; }
    [ "$STATUS" = 200 ] && [ "$BODY" = "$probe" ] || { fail "$1" "reading back s3://$b/$key: HTTP $STATUS $(s3_error)"; return; }
    s3 "$3" -X DELETE "$2/$b/$key" || { fail "$1" "$(unreached "$h" "$p")"; return; }
    [ "$STATUS" = 204 ] || { fail "$1" "deleting s3://$b/$key: HTTP $STATUS $(s3_error)"; return; }
  done
  for b in $5; do
    s3 "$3" -X PUT --data-binary "$probe" "$2/$b/$key" || { fail "$1" "$(unreached "$h" "$p")"; return; }
    if [ "$STATUS" != 403 ]; then
      [ "$STATUS" = 200 ] && s3 "$3" -X DELETE "$2/$b/$key"
      fail "$1" "a write to s3://$b, which this key must not reach, was not refused (HTTP $STATUS)"
      return
    fi
  done
  ok "$1" "resolves, answers; the key writes, reads and deletes in: $4${"$"}{5:+; refused in: $5}"
}

check_postgres() { # LABEL HOST PORT DATABASE ROLE
  getent hosts "$2" > /dev/null 2>&1 || { fail "$1" "$2 does not resolve (DNS)"; return; }
  while :; do
    out=$(psql "host=$2 port=$3 dbname=$4 user=$5 connect_timeout=$CT" -XAtq -F ' ' -c 'SELECT current_user, current_database()' 2>&1)
    rc=$?
    case "$out" in *"Connection refused"*|*"timeout expired"*) [ $rc -ne 0 ] && settling && { sleep 2; continue; } ;; esac
    break
  done
  [ $rc -eq 0 ] || { fail "$1" "$5 logging in to database $4: $(printf '%s' "$out" | head -n 3 | tr '\n' ' ')"; return; }
  [ "$out" = "$5 $4" ] || { fail "$1" "logged in as '$out', not as $5 to $4"; return; }
  ok "$1" "resolves, answers; $5 logs in to database $4"
}

check_tcp() { # LABEL HOST PORT
  request --max-time 3 "telnet://$2:$3" < /dev/null
  if [ $RC -eq 0 ] || { [ $RC -eq 28 ] && connected "$CONN"; }; then ok "$1" "resolves, the port accepts a connection"; else fail "$1" "$(unreached "$2" "$3")"; fi
}

check_http() { # LABEL URL
  request "$2" || { fail "$1" "$(unreached "$(host_of "$2")" "$(port_of "$2")")"; return; }
  [ "$STATUS" = 200 ] || { fail "$1" "GET $2 answers HTTP $STATUS, not 200"; return; }
  ok "$1" "resolves, answers; GET $2 is 200"
}

# trino_request CURL-ARGS...: as this namespace's Trino login over HTTPS, verifying the CA, when
# LOGIN is set; anonymous otherwise.
trino_request() {
  if [ -n "$LOGIN" ]; then
    REQ_INPUT="header = \"Authorization: Bearer $TRINO_TOKEN\""
    request -K - --cacert "$CA_FILE" -H "X-Trino-User: $TRINO_USER" "$@"; rc=$?
    REQ_INPUT=""
    return $rc
  fi
  request -H 'X-Trino-User: lakehouse-wiring-check' "$@"
}
check_trino() { # LABEL URL CATALOG [login]
  h=$(host_of "$2"); p=$(port_of "$2"); LOGIN=${"$"}{4:-}
  trino_request "$2/v1/info" || { fail "$1" "$(unreached "$h" "$p")"; return; }
  [ "$STATUS" = 200 ] || { fail "$1" "GET /v1/info answers HTTP $STATUS"; return; }
  case "$BODY" in *'"starting":false'*) ;; *) fail "$1" "/v1/info says the coordinator is still starting"; return ;; esac
  trino_request -X POST --data-binary "SELECT count(*) FROM \"$3\".information_schema.schemata" "$2/v1/statement" || { fail "$1" "$(unreached "$h" "$p")"; return; }
  rows=""
  n=0
  while :; do
    [ "$STATUS" = 200 ] || { fail "$1" "the statement API answers HTTP $STATUS"; return; }
    case "$BODY" in *'"error":'*) fail "$1" "SELECT through catalog $3: $(printf '%s' "$BODY" | sed -n 's/.*"error":{"message":"\([^"]*\)".*/\1/p')"; return ;; esac
    case "$BODY" in *'"data":[['*) rows=$(printf '%s' "$BODY" | sed -n 's/.*"data":\[\[\([0-9]*\)\]\].*/\1/p') ;; esac
    next=$(printf '%s' "$BODY" | sed -n 's/.*"nextUri":"\([^"]*\)".*/\1/p')
    [ -n "$next" ] || break
    n=$((n + 1))
    [ $n -le 300 ] || { fail "$1" "the SELECT did not finish"; return; }
    trino_request "$next" || { fail "$1" "$(unreached "$h" "$p")"; return; }
  done
  [ -n "$rows" ] || { fail "$1" "the SELECT through catalog $3 returned no rows"; return; }
  ok "$1" "resolves, answers; /v1/info: started; catalog $3 lists $rows schemas"
}
`;

/**
 * The script of one namespace's Job: `wiring-check.sh <tool> [id...]` runs that tool's checks
 * (all, or the ones named), prints one line per check and exits 1 when one failed, naming its edge.
 */
export function renderWiringCheckScript(namespace: string, checks: readonly WiringCheck[]): string {
    const body = checks.flatMap((c) => [
        `# ${c.id}: ${edgeLabel(c.edge)}`,
        `#   carried by ${c.edge.via.type} ${c.edge.via.name}: ${c.edge.via.path}`,
        // host:port spelt out, so the coverage policy reads which port the Job reaches.
        `#   reaches ${hostPortOf(c.edge.host, c.edge.port)}`,
        ...c.what.map((w) => `#   - ${w}`),
        `want ${c.id} ${c.tool} && ${invocation(c)}`,
        "",
    ]);
    return [
        "#!/bin/sh",
        `# Generated by lakehouse-platform from the stack's wiring: the connections that start in namespace`,
        `# ${namespace}, each checked from here with this namespace's own credentials. Do not edit; the`,
        "# program writes it again whenever the wiring changes.",
        HELPERS,
        ...body,
        `echo "$TOOL checks of namespace ${namespace}: $PASSED passed, $FAILED failed"`,
        '[ "$FAILED" -eq 0 ]',
        "",
    ].join("\n");
}
