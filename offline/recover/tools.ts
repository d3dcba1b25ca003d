// The two programs recovery runs, the Pulumi CLI and kubectl, found on PATH, and what their
// failures mean. Each kind of failure has its own exit status and message: a missing program, a
// missing provider plugin, an unreachable cluster and a state the CLI cannot load are not "the
// object was never created", and never pass in silence.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ClusterObject } from "./adoption";
import type { PendingOperation } from "./plan";
import { HELM_RELEASE } from "./plan";

/** `npm run recover`'s exit statuses (docs/day-two.md). */
export const RECOVER_EXIT = {
    ok: 0,
    /** Refused: bad arguments, a lock that may be live, an object the update did not provably make. */
    refused: 2,
    /** A command failed for another reason (its output is quoted). */
    failed: 3,
    /** The state cannot be loaded, and nothing whole could be restored. */
    state: 4,
    /** The Pulumi CLI or kubectl is not on PATH. */
    toolMissing: 5,
    /** A provider plugin the state needs is not installed. */
    plugin: 6,
    /** The cluster's API server cannot be reached. */
    unreachable: 7,
} as const;

export class RecoverError extends Error {
    constructor(
        readonly exit: number,
        message: string,
    ) {
        super(message);
    }
}

/** The first executable `name` on PATH, or undefined. */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    for (const dir of (env.PATH ?? "").split(path.delimiter)) {
        if (!dir) continue;
        const f = path.join(dir, name);
        try {
            fs.accessSync(f, fs.constants.X_OK);
            if (fs.statSync(f).isFile()) return f;
        } catch {
            // not here
        }
    }
    return undefined;
}

export interface Output {
    code: number;
    stdout: string;
    stderr: string;
}

/** Which known failure an output shows, with its exit status and what to do; undefined for any other. */
export function classify(text: string): { exit: number; what: string } | undefined {
    if (
        /no resource plugin '[^']+' found|could not find (a )?(resource )?plugin|failed to (load|start) plugin|plugin .{1,80} (was )?not found|missing plugin/i.test(
            text,
        )
    )
        return {
            exit: RECOVER_EXIT.plugin,
            what: "a provider plugin the state needs is not installed: `pulumi plugin install resource <name> <version>` (or `pulumi install` in the project), then run recover again",
        };
    if (
        /connection refused|unable to connect to the server|cluster is unreachable|dial tcp [^\s]+: (connect|i\/o timeout)|no such host|tls handshake timeout|context deadline exceeded/i.test(
            text,
        )
    )
        return {
            exit: RECOVER_EXIT.unreachable,
            what: "the cluster's API server cannot be reached from here: check the stack's kubeconfig and context (`kubectl cluster-info`), then run recover again",
        };
    if (/failed to load checkpoint|could not deserialize|snapshot integrity failure|unexpected end of JSON/i.test(text))
        return {
            exit: RECOVER_EXIT.state,
            what: "the CLI cannot load the stack's state",
        };
    return undefined;
}

export class Pulumi {
    constructor(
        readonly bin: string,
        private readonly env: NodeJS.ProcessEnv = process.env,
    ) {}

    /** Runs a command; its output captured (`inherit`: shown as it comes, for the long ones). */
    run(args: string[], inherit = false): Output {
        const r = spawnSync(this.bin, [...args, "--non-interactive"], {
            encoding: "utf8",
            env: this.env,
            stdio: inherit ? ["ignore", "inherit", "pipe"] : ["ignore", "pipe", "pipe"],
            // A state with its secrets (encrypted) runs to megabytes.
            maxBuffer: 512 * 2 ** 20,
        });
        if (r.error) throw new RecoverError(RECOVER_EXIT.toolMissing, `cannot run ${this.bin}: ${r.error.message}`);
        if (inherit && r.stderr) process.stderr.write(r.stderr);
        return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    }

    /** Runs a command that must succeed; a failure becomes its own exit status. */
    must(args: string[], inherit = false): Output {
        const r = this.run(args, inherit);
        if (r.code === 0) return r;
        const text = r.stdout + r.stderr;
        const known = classify(text);
        const tail = text.trim().split("\n").slice(-15).join("\n");
        throw new RecoverError(
            known?.exit ?? RECOVER_EXIT.failed,
            `pulumi ${args.join(" ")} exited ${r.code}${known ? `: ${known.what}` : ""}\n${tail}`,
        );
    }
}

/** The stack's cluster, as the program's provider reaches it: a kubeconfig (path or contents) and a context. */
export interface ClusterAccess {
    kubeconfig?: string;
    context?: string;
}

/** kubectl reading objects of the stack's cluster. */
export class Kubectl {
    private readonly args: string[] = [];
    private tempFile?: string;

    constructor(
        readonly bin: string,
        access: ClusterAccess,
    ) {
        if (access.kubeconfig !== undefined) {
            let file = access.kubeconfig;
            // The program accepts the kubeconfig's contents too: kubectl needs a file (private, removed after).
            if (/\n/.test(file) || /^\s*apiVersion:/.test(file)) {
                const dir = fs.mkdtempSync(path.join(os.tmpdir(), "recover-kubeconfig-"));
                file = path.join(dir, "kubeconfig");
                fs.writeFileSync(file, access.kubeconfig, { mode: 0o600 });
                this.tempFile = file;
            }
            this.args.push("--kubeconfig", file);
        }
        if (access.context) this.args.push("--context", access.context);
    }

    close(): void {
        if (this.tempFile) fs.rmSync(path.dirname(this.tempFile), { recursive: true, force: true });
    }

    private get(args: string[]): Output {
        // kubectl leaves managedFields out unless asked: they are the proof of who made an object.
        const r = spawnSync(this.bin, [...this.args, "get", ...args, "-o", "json", "--show-managed-fields"], {
            encoding: "utf8",
            maxBuffer: 64 * 2 ** 20,
        });
        if (r.error) throw new RecoverError(RECOVER_EXIT.toolMissing, `cannot run ${this.bin}: ${r.error.message}`);
        return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    }

    private fail(what: string, r: Output): never {
        const known = classify(r.stderr);
        throw new RecoverError(
            known?.exit ?? RECOVER_EXIT.failed,
            `kubectl get ${what} exited ${r.code}${known ? `: ${known.what}` : ""}\n${r.stderr.trim()}`,
        );
    }

    /** The records Helm keeps of a release (one Secret per revision). */
    releaseRecords(namespace: string, release: string): ClusterObject[] {
        const r = this.get(["secrets", "-n", namespace, "-l", `owner=helm,name=${release}`]);
        if (r.code !== 0) this.fail(`secrets -n ${namespace} -l owner=helm,name=${release}`, r);
        return (JSON.parse(r.stdout) as { items: ClusterObject[] }).items;
    }

    /** Deletes one Secret (a Helm record recovery has proven the interrupted update's). */
    deleteSecret(namespace: string, name: string): void {
        const r = spawnSync(this.bin, [...this.args, "delete", "secret", name, "-n", namespace], { encoding: "utf8" });
        if (r.error) throw new RecoverError(RECOVER_EXIT.toolMissing, `cannot run ${this.bin}: ${r.error.message}`);
        if (r.status !== 0)
            this.fail(`(delete) secret ${namespace}/${name}`, {
                code: r.status ?? 1,
                stdout: r.stdout,
                stderr: r.stderr,
            });
    }

    /**
     * Waits until the object a pending delete names is gone (a Deployment the killed destroy
     * deleted stays, terminating, while its pods stop: read by the refresh then, it stays in the
     * state and the next `pulumi up` patches an object that vanishes under it). Returns what is
     * still there after `seconds`, or undefined; kubectl's own failure is returned as text too,
     * for recover to say, never thrown: the refresh that follows reads the object either way.
     */
    waitGone(type: string, id: string, seconds: number): string | undefined {
        const target = kubectlTarget(type, id);
        if (!target) return undefined;
        const { resource, name, namespace } = target;
        const r = spawnSync(
            this.bin,
            [
                ...this.args,
                "wait",
                "--for=delete",
                `${resource}/${name}`,
                ...(namespace ? ["-n", namespace] : []),
                `--timeout=${seconds}s`,
            ],
            { encoding: "utf8" },
        );
        if (r.error) return `cannot run ${this.bin}: ${r.error.message}`;
        return r.status === 0 ? undefined : `${type} ${id}: ${(r.stderr || r.stdout).trim().split("\n").pop()}`;
    }

    /** The object a pending create names (undefined when the API server says NotFound); for a Helm release, its records. */
    objectsOf(op: PendingOperation): ClusterObject[] {
        const { type, inputs } = op.resource;
        if (HELM_RELEASE.test(type)) {
            const what = `secrets -n ${inputs?.namespace} -l owner=helm,name=${inputs?.name}`;
            const r = this.get([
                "secrets",
                "-n",
                inputs?.namespace ?? "default",
                "-l",
                `owner=helm,name=${inputs?.name}`,
            ]);
            if (r.code !== 0) this.fail(what, r);
            return (JSON.parse(r.stdout) as { items: ClusterObject[] }).items;
        }
        // kubernetes:<group>/<version>:<Kind>; the core group is `core` in the token, nothing for kubectl.
        const m = /^kubernetes:([^/]+)\/([^:]+):(\w+)$/.exec(type);
        if (!m) throw new RecoverError(RECOVER_EXIT.failed, `not a Kubernetes object type: ${type}`);
        const resource = m[1] === "core" ? `${m[3]}.${m[2]}.` : `${m[3]}.${m[2]}.${m[1]}`;
        const meta = inputs?.metadata ?? {};
        const args = [resource, meta.name ?? "", ...(meta.namespace ? ["-n", meta.namespace] : [])];
        const r = this.get(args);
        if (r.code !== 0) {
            if (/\(NotFound\)|not found/i.test(r.stderr) && !classify(r.stderr)) return [];
            this.fail(args.join(" "), r);
        }
        return [JSON.parse(r.stdout) as ClusterObject];
    }
}

/**
 * The kubectl resource (`Kind.version.group`, fully qualified so that no short name or CRD of the
 * same kind is picked instead) and the object a Kubernetes provider's resource names: its type
 * token (`kubernetes:apps/v1:Deployment`, `kubernetes:core/v1:Secret`) and its id (`ns/name`, or
 * `name` for a cluster-scoped object). Undefined for a type that is no Kubernetes object.
 */
export function kubectlTarget(
    type: string,
    id: string,
): { resource: string; name: string; namespace?: string } | undefined {
    const m = /^kubernetes:(?:(core)|([^/:]+))\/([^:]+):(.+)$/.exec(type);
    if (!m) return undefined;
    const [, core, group, version, kind] = m;
    const slash = id.indexOf("/");
    return {
        resource: core ? `${kind}.${version}` : `${kind}.${version}.${group}`,
        name: slash < 0 ? id : id.slice(slash + 1),
        namespace: slash < 0 ? undefined : id.slice(0, slash),
    };
}
