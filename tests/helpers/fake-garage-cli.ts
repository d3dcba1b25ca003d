// The fake Garage cluster behind the bootstrap tests: Garage 2.3.0's `garage` CLI (v2 output
// format) and busybox `wget` against the admin API, answering from a FakeGarageState the test
// holds. The commands in tests/fixtures/fake-garage are thin clients of these functions (they post
// their arguments to runBootstrap's server), so a Job's script runs unchanged under `sh`, without
// a Node.js start per command. It checks what the real CLI checks (RPC host and secret, argument
// forms, key formats, layout versions) and answers bucket and key commands with a quorum error
// until a layout is applied.
import type { FakeGarageState } from "./fake-garage";

/** What a command printed, and how it exited: each prints either its answer (0) or an error (1). */
export interface CommandResult {
    status: 0 | 1;
    output: string;
}

class Failure extends Error {}

function fail(message: string): never {
    throw new Failure(`Error: ${message}`);
}

/**
 * Runs one command against the state. As with the real processes, a failed command leaves the
 * state as it found it, but for what the cluster saw before the failure (the log, joined nodes).
 */
function command(state: FakeGarageState, body: (out: (line: string) => void) => void): CommandResult {
    const before = JSON.stringify(state);
    const lines: string[] = [];
    try {
        body((line) => lines.push(line));
        return { status: 0, output: lines.join("\n") + "\n" };
    } catch (e) {
        if (!(e instanceof Failure)) throw e;
        const seen = JSON.parse(before) as FakeGarageState;
        Object.assign(state, { ...seen, log: state.log, availableNodes: state.availableNodes });
        return { status: 1, output: e.message + "\n" };
    }
}

/** Rows padded like Garage's format_table: columns separated by two spaces. */
function table(rows: string[]): string {
    const cells = rows.map((r) => r.split("\t"));
    const widths: number[] = [];
    for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i] || 0, c.length)));
    return cells
        .map((row) =>
            row
                .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] + 2)))
                .join("")
                .trimEnd(),
        )
        .join("\n");
}

type Parsed = { _: string[]; [flag: string]: string | boolean | string[] | undefined };

/** Positional arguments and flags (flags taking a value listed in `valued`), as the CLI's parser. */
function parse(args: string[], valued: string[], booleans: string[]): Parsed {
    const out: Parsed = { _: [] };
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (valued.includes(a)) out[a] = args[++i];
        else if (booleans.includes(a)) out[a] = true;
        else if (a.startsWith("-")) fail(`Found argument '${a}' which wasn't expected`);
        else out._.push(a);
    }
    return out;
}

const str = (v: Parsed[string]): string => (typeof v === "string" ? v : "");

/** `garage <argv>` with GARAGE_RPC_HOST and GARAGE_RPC_SECRET as given. */
export function garage(state: FakeGarageState, argv: string[], rpc: { host: string; secret: string }): CommandResult {
    const cmd = argv.slice(0, 2).join(" ");
    const rest = argv.slice(2);
    return command(state, (out) => {
        if (!new RegExp(`^${state.nodes[0].id}@[a-z0-9.-]+:3901$`).test(rpc.host))
            fail(
                `Unable to connect to destination RPC host (${rpc.host}). Check that you are using the same value of rpc_secret as them, and that you have their correct public key.`,
            );
        if (rpc.secret !== state.rpcSecret) fail("Unable to connect to destination RPC host: handshake failed");
        // Nodes join one by one as the bootstrap polls `garage status` (nodesJoinOnStatus).
        if (argv[0] === "status" && state.nodesJoinOnStatus)
            state.availableNodes = Math.min(state.nodes.length, state.availableNodes + 1);
        // The log never holds a secret: an import is logged by its key id.
        state.log.push(
            cmd === "key import" ? `key import ${rest.filter((a) => a.startsWith("GK")).join(" ")}` : argv.join(" "),
        );
        if (state.failOn && argv.join(" ").startsWith(state.failOn)) fail("Internal error: injected failure");
        const run = COMMANDS[argv[0] === "status" ? "status" : cmd];
        if (!run) fail(`unknown command: ${argv.join(" ")}`);
        run(state, rest, out, argv);
    });
}

function needLayout(state: FakeGarageState): void {
    if (state.layout.version === 0)
        fail("Could not reach quorum of 1 (sets=[[]]). 0 of 0 request succeeded, others returned errors: []");
}

function matchNode(state: FakeGarageState, prefix: string) {
    const m = state.nodes.slice(0, state.availableNodes).filter((n) => n.id.startsWith(prefix));
    if (m.length !== 1) fail(`${m.length} nodes match '${prefix}'`);
    return m[0];
}

// Deleted keys stay in the store as tombstones: never found, never imported again (as Garage v2).
function findKey(state: FakeGarageState, pattern: string, call = "GetKeyInfo"): string {
    const ids = Object.keys(state.keys).filter(
        (id) => !state.keys[id].deleted && (id.startsWith(pattern) || state.keys[id].name === pattern),
    );
    if (ids.length === 0) fail(`${call} returned NoSuchAccessKey (404): Access key not found: ${pattern}`);
    if (ids.length !== 1) fail(`${ids.length} matching keys`);
    return ids[0];
}

// `garage key info` of Garage 2.3.0, field for field (the secret only with --show-secret).
function keyInfo(state: FakeGarageState, id: string, showSecret: boolean): string {
    const k = state.keys[id];
    const pad = (label: string) => label.padEnd(21);
    return [
        "==== ACCESS KEY INFORMATION ====",
        `${pad("Key ID:")}${id}`,
        `${pad("Key name:")}${k.name}`,
        `${pad("Secret key:")}${showSecret ? k.secret : "(redacted)"}`,
        `${pad("Created:")}2026-12-01 11:38:53.819 +00:00`,
        `${pad("Validity:")}valid`,
        `${pad("Expiration:")}never`,
        "",
        `${pad("Can create buckets:")}false`,
        "",
        "==== BUCKETS FOR THIS KEY ====",
        "Permissions  ID  Global aliases  Local aliases",
    ].join("\n");
}

type Command = (state: FakeGarageState, rest: string[], out: (line: string) => void, argv: string[]) => void;

function layoutShow(state: FakeGarageState, out: (line: string) => void): void {
    out("==== CURRENT CLUSTER LAYOUT ====");
    const roles = Object.entries(state.layout.roles);
    if (roles.length === 0)
        out("No nodes currently have a role in the cluster.\nSee `garage status` to view available nodes.");
    else
        out(
            table([
                "ID\tTags\tZone\tCapacity\tUsable capacity",
                ...roles.map(([id, r]) => `${id.slice(0, 16)}\t\t${r.zone}\t${r.capacity} B\t${r.capacity} B (100.0%)`),
            ]),
        );
    out(`\nCurrent cluster layout version: ${state.layout.version}`);
    const staged = Object.entries(state.layout.staged);
    if (staged.length === 0) return;
    out("\n==== STAGED ROLE CHANGES ====");
    out(
        table([
            "ID\tTags\tZone\tCapacity",
            ...staged.map(([id, r]) => `${id.slice(0, 16)}\t\t${r.zone}\t${r.capacity} B`),
        ]),
    );
    const nodes = new Set([...Object.keys(state.layout.roles), ...staged.map(([id]) => id)]);
    if (nodes.size < state.replicationFactor) {
        out(
            `Error while trying to compute the assignment: The number of nodes with positive capacity (${nodes.size}) is smaller than the replication factor (${state.replicationFactor}).`,
        );
        out("This new layout cannot yet be applied.");
    } else {
        out("\n==== NEW CLUSTER LAYOUT AFTER APPLYING CHANGES ====");
        out("To enact the staged role changes, type:\n");
        out(`    garage layout apply --version ${state.layout.version + 1}\n`);
        out("You can also revert all proposed changes with: garage layout revert");
    }
}

function bucketPermissions(state: FakeGarageState, rest: string[], out: (line: string) => void, argv: string[]): void {
    needLayout(state);
    const o = parse(rest, ["--key"], ["--read", "--write", "--owner"]);
    const bucket = state.buckets[o._[0]];
    if (!bucket) fail(`Bucket not found: ${o._[0]}`);
    if (!o["--key"]) fail("--key is required");
    if (!o["--read"] && !o["--write"] && !o["--owner"]) fail("You must specify at least one permission");
    const id = findKey(state, str(o["--key"]));
    const perms = bucket.keys[id] || { read: false, write: false, owner: false };
    const value = argv[1] === "allow";
    for (const p of ["read", "write", "owner"] as const) if (o[`--${p}`]) perms[p] = value;
    bucket.keys[id] = perms;
    out(`New permissions for ${id} on ${o._[0]}: read ${perms.read}, write ${perms.write}, owner ${perms.owner}.`);
}

const COMMANDS: Record<string, Command> = {
    status: (state, _rest, out) => {
        const rows = ["ID\tHostname\tAddress\tTags\tZone\tCapacity\tDataAvail"];
        for (const n of state.nodes.slice(0, state.availableNodes)) {
            const role = state.layout.roles[n.id];
            if (role)
                rows.push(
                    `${n.id.slice(0, 16)}\t${n.hostname}\t${n.addr}\t[]\t${role.zone}\t${role.capacity} B\t${role.capacity} B (100.0%)`,
                );
            else
                rows.push(
                    `${n.id.slice(0, 16)}\t${n.hostname}\t${n.addr}\t\t\t${state.layout.staged[n.id] ? "pending..." : "NO ROLE ASSIGNED"}`,
                );
        }
        out("==== HEALTHY NODES ====");
        out(table(rows));
    },
    "layout show": (state, _rest, out) => layoutShow(state, out),
    "layout assign": (state, rest, out) => {
        const o = parse(rest, ["-z", "-c"], []);
        if (!o["-z"]) fail("Please specify a zone with the -z flag");
        if (!/^\d+$/.test(str(o["-c"]))) fail(`invalid capacity ${str(o["-c"])}`);
        if (o._.length === 0) fail("no node given");
        for (const prefix of o._)
            state.layout.staged[matchNode(state, prefix).id] = { zone: str(o["-z"]), capacity: Number(str(o["-c"])) };
        out("Role changes are staged but not yet committed.");
    },
    "layout apply": (state, rest, out) => {
        const o = parse(rest, ["--version"], []);
        if (!o["--version"]) fail("Please pass the new layout version number");
        if (Number(str(o["--version"])) !== state.layout.version + 1)
            fail(`Invalid new layout version: expected ${state.layout.version + 1}, got ${str(o["--version"])}`);
        if (Object.keys(state.layout.staged).length === 0) fail("No changes to the cluster layout");
        Object.assign(state.layout.roles, state.layout.staged);
        state.layout.staged = {};
        state.layout.version += 1;
        out("New cluster layout with updated role assignment has been applied in cluster.");
    },
    "bucket info": (state, rest, out) => {
        needLayout(state);
        const o = parse(rest, [], []);
        if (!state.buckets[o._[0]]) fail(`Bucket not found: ${o._[0]}`);
        out(`==== BUCKET INFORMATION ====\nGlobal alias: ${o._[0]}`);
    },
    "bucket create": (state, rest, out) => {
        needLayout(state);
        const name = parse(rest, [], [])._[0] ?? "";
        if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) fail(`Invalid bucket name: ${name}`);
        if (state.buckets[name]) fail(`Bucket ${name} already exists`);
        state.buckets[name] = { keys: {} };
        out(`Bucket ${name} has been created.`);
    },
    "key info": (state, rest, out) => {
        needLayout(state);
        const o = parse(rest, [], ["--show-secret"]);
        out(keyInfo(state, findKey(state, o._[0] || ""), o["--show-secret"] === true));
    },
    "key delete": (state, rest, out) => {
        needLayout(state);
        const o = parse(rest, [], ["--yes"]);
        const id = findKey(state, o._[0] || "");
        if (!o["--yes"]) fail("Add the --yes flag to really perform this operation");
        state.keys[id].deleted = true;
        for (const b of Object.values(state.buckets)) delete b.keys[id];
        out(`Access key ${id} has been deleted.`);
    },
    "key import": (state, rest, out) => {
        needLayout(state);
        const o = parse(rest, ["-n"], ["--yes"]);
        if (!o["--yes"])
            fail(
                "This command is intended to re-import keys that were previously generated by Garage. Add the --yes flag if you really want to re-import a key.",
            );
        const [id, secret] = o._;
        if (!/^GK[0-9a-f]{24}$/.test(id || "")) fail(`Invalid key ID: ${id}`);
        if (!/^[0-9a-f]{64}$/.test(secret || "")) fail("Invalid secret key");
        if (state.keys[id])
            fail(
                `ImportKey returned KeyAlreadyExists (409): Key ${id} already exists in data store. Even if it is deleted, we can't let you create a new key with the same ID. Sorry.`,
            );
        state.keys[id] = { name: str(o["-n"]) || "Imported key", secret };
        out(`==== ACCESS KEY INFORMATION ====\nKey ID:  ${id}`);
    },
    "bucket allow": bucketPermissions,
    "bucket deny": bucketPermissions,
};

/** busybox `wget <argv>` against the first node's admin API: GetNodeInfo, with the admin token. */
export function wget(state: FakeGarageState, argv: string[]): CommandResult {
    state.log.push("wget");
    let header = "";
    let url = "";
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--header") header = argv[++i];
        else if (argv[i] === "-O") i++;
        else if (!argv[i].startsWith("-")) url = argv[i];
    }
    if (state.adminDownFor > 0) {
        state.adminDownFor -= 1;
        return { status: 1, output: "wget: can't connect to remote host: Connection refused\n" };
    }
    if (header !== `Authorization: Bearer ${state.adminToken}`)
        return { status: 1, output: "wget: server returned error: HTTP/1.1 403 Forbidden\n" };
    if (!/^http:\/\/[^/]+:3903\/v2\/GetNodeInfo\?node=self$/.test(url))
        return { status: 1, output: "wget: server returned error: HTTP/1.1 404 Not Found\n" };
    const id = state.nodes[0].id;
    const body = {
        success: {
            [id]: {
                nodeId: id,
                garageVersion: "v2.3.0",
                garageFeatures: ["k2v", "lmdb"],
                rustVersion: "1.82.0",
                dbEngine: "LMDB",
            },
        },
        error: {},
    };
    return { status: 0, output: JSON.stringify(body, null, 2) + "\n" };
}
