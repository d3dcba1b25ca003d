// npm run recover -- --stack <stack> [--yes]
//
// After `pulumi up` was interrupted (killed by a CI timeout, a lost laptop, a SIGKILL), the stack
// is locked (file and S3 backends keep a lock file) and its state has pending operations: the
// resources the engine had asked a provider to create, update or delete when it died. The CLI
// then says to check each and run `pulumi refresh`; this does it. The pending creates are cleared
// (refresh --clear-pending-creates; in CLI 3.248 --import-pending-creates records nothing), then
// each Kubernetes object among them that exists is imported under its URN (pulumi import, with its
// parent and provider), so the next `pulumi up` updates it instead of failing with "already
// exists"; one that does not exist is left for the next `pulumi up` to create. Pending updates and
// deletes are settled by the refresh itself.
//
// Without --yes it prints the commands; with it, it runs them. The Pulumi CLI is the one on PATH.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { answersHelp, EXIT } from "./exit";

const USAGE = `usage: npm run recover -- --stack <stack> [--yes]

Recovers a stack from an interrupted \`pulumi up\`: removes the stale lock (pulumi cancel), clears
the pending creates and refreshes the state from the cluster (pulumi refresh --clear-pending-creates),
imports each Kubernetes object whose creation was pending and that exists (pulumi import, under its
URN). Prints the commands; with --yes runs them. Then run \`pulumi up\` again.
Exit status: 0 done, 2 bad arguments, 3 a command failed.`;

interface PendingOperation {
    resource: {
        urn: string;
        type: string;
        /** URN of its parent, and its provider as `<provider urn>::<provider id>`. */
        parent?: string;
        provider?: string;
        inputs?: { metadata?: { name?: string; namespace?: string }; name?: string; namespace?: string };
    };
    type: string;
}

/** The id the Kubernetes provider gives an object (`namespace/name`, or `name` when cluster-wide), or undefined. */
export function kubernetesId(op: PendingOperation): string | undefined {
    const { type, inputs } = op.resource;
    if (!type.startsWith("kubernetes:")) return undefined;
    // A Helm release is `namespace/name` of the release.
    const meta = type.startsWith("kubernetes:helm.sh")
        ? { name: inputs?.name, namespace: inputs?.namespace }
        : inputs?.metadata;
    if (!meta?.name) return undefined;
    return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}

interface ExportedState {
    deployment?: {
        resources?: { urn: string; pendingReplacement?: boolean }[];
        pending_operations?: PendingOperation[];
    };
}

/**
 * How to settle an interrupted update's pending operations: the state edited where a pending
 * create is the replacement of a resource whose original the engine already deleted (kept, no
 * longer pending replacement: the refresh reads the new object, or drops it when it was never
 * made); the other pending creates of Kubernetes objects imported under their URN when they
 * exist; every other pending create cleared; pending updates and deletes left to the refresh.
 */
export function recoveryPlan(state: ExportedState): {
    edited?: ExportedState;
    imports: string[][];
    clear: boolean;
    described: string[];
} {
    const pending = state.deployment?.pending_operations ?? [];
    const replacing = new Set(
        (state.deployment?.resources ?? []).filter((r) => r.pendingReplacement).map((r) => r.urn),
    );
    const described: string[] = [];
    const imports: string[][] = [];
    let clear = false;
    const keep: PendingOperation[] = [];
    let edited = false;
    for (const op of pending) {
        const urn = op.resource.urn;
        if (op.type !== "creating") {
            keep.push(op);
            described.push(`${op.type} ${urn}: settled by the refresh`);
        } else if (replacing.has(urn)) {
            edited = true;
            described.push(`creating ${urn} (a replacement, its original deleted): kept, read again by the refresh`);
        } else if (kubernetesId(op)) {
            imports.push(importCommand(op)!);
            clear = true;
            described.push(
                `creating ${urn}: imported as ${kubernetesId(op)} if it exists, else created by the next up`,
            );
        } else {
            clear = true;
            described.push(`creating ${urn}: cleared (the program makes it again)`);
        }
    }
    if (!edited) return { imports, clear, described };
    const copy = JSON.parse(JSON.stringify(state)) as ExportedState;
    copy.deployment!.pending_operations = [
        ...keep,
        ...pending.filter((op) => op.type === "creating" && !replacing.has(op.resource.urn)),
    ];
    for (const r of copy.deployment!.resources ?? []) {
        if (replacing.has(r.urn) && pending.some((op) => op.type === "creating" && op.resource.urn === r.urn))
            delete r.pendingReplacement;
    }
    return { edited: copy, imports, clear, described };
}

/** The `pulumi import` of a pending create of a Kubernetes object, under its URN, parent and provider. */
export function importCommand(op: PendingOperation): string[] | undefined {
    const id = kubernetesId(op);
    if (!id || op.type !== "creating") return undefined;
    const r = op.resource;
    const name = r.urn.split("::").pop()!;
    const provider = r.provider?.slice(0, r.provider.lastIndexOf("::"));
    return [
        "import",
        r.type,
        name,
        id,
        ...(r.parent ? ["--parent", `parent=${r.parent}`] : []),
        ...(provider ? ["--provider", `provider=${provider}`] : []),
        "--protect=false",
        "--generate-code=false",
        "--skip-preview",
        "--yes",
    ];
}

function pulumi(args: string[], capture = false): { code: number; stdout: string; stderr: string } {
    const r = spawnSync("pulumi", args, {
        encoding: "utf8",
        stdio: capture ? ["ignore", "pipe", "pipe"] : "inherit",
        // A state with its secrets (encrypted) runs to megabytes.
        maxBuffer: 512 * 2 ** 20,
    });
    if (r.error) throw r.error;
    return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): number {
    if (answersHelp(argv, USAGE, out)) return EXIT.ok;
    let values: { stack?: string; yes?: boolean };
    try {
        values = parseArgs({ args: argv, options: { stack: { type: "string" }, yes: { type: "boolean" } } }).values;
    } catch (e) {
        err(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
        return EXIT.badInput;
    }
    if (!values.stack) {
        err(`--stack is required\n\n${USAGE}`);
        return EXIT.badInput;
    }
    const stack = ["--stack", values.stack];
    // `cancel` first: the export is of the state as the interrupted update left it.
    out(`$ pulumi cancel --yes --stack ${values.stack}`);
    if (values.yes) pulumi(["cancel", "--yes", ...stack], true);
    const exported = pulumi(["stack", "export", ...stack], true);
    if (exported.code !== 0) {
        out(exported.stderr);
        return EXIT.failure;
    }
    const state = JSON.parse(exported.stdout) as ExportedState;
    const pending = state.deployment?.pending_operations ?? [];
    const plan = recoveryPlan(state);
    out(`${pending.length} pending operation${pending.length === 1 ? "" : "s"} in ${values.stack}'s state`);
    for (const d of plan.described) out(`  ${d}`);
    const commands: string[][] = [];
    if (plan.edited) {
        // A replacement whose original the engine had deleted (pendingReplacement) and whose new
        // object it was creating: the resource stays, marked as existing; the refresh reads it.
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "recover-")), "state.json");
        fs.writeFileSync(file, JSON.stringify(plan.edited));
        commands.push(["stack", "import", "--file", file, ...stack]);
    }
    commands.push(["refresh", "--yes", "--skip-preview", ...(plan.clear ? ["--clear-pending-creates"] : []), ...stack]);
    commands.push(...plan.imports.map((c) => [...c, ...stack]));
    for (const c of commands) {
        out(`$ pulumi ${c.join(" ")}`);
        if (!values.yes) continue;
        const r = pulumi(c, c[0] === "import");
        if (r.code === 0) continue;
        // An import fails when the object was never created: the next `pulumi up` creates it.
        if (c[0] === "import" && /not found|does not exist|doesn't exist/i.test(r.stdout + r.stderr)) {
            out("  (not created before the interruption: the next pulumi up creates it)");
            continue;
        }
        if (c[0] === "import") out(r.stdout + r.stderr);
        return EXIT.failure;
    }
    out(values.yes ? "recovered: run `pulumi up` again" : "(run again with --yes to run them, then `pulumi up`)");
    return EXIT.ok;
}
