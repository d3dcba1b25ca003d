// Where a stack's state lives, found as the Pulumi CLI finds it (PULUMI_BACKEND_URL, then the
// project's `backend.url`, then the login in PULUMI_HOME/credentials.json), and, for the file
// backend, the files that make up one stack's state: its checkpoint and `.bak`, the copies the
// backend keeps in `backups/` (one at the start of each update) and `history/` (one at the end),
// and the lock files of updates in progress. The layout is the CLI's own (pkg/backend/diy,
// project-scoped stores): `.pulumi/stacks/<project>/<stack>.json`, `.pulumi/locks/<org>/<project>/<stack>/`,
// `.pulumi/backups/<project>/<stack>/`, `.pulumi/history/<project>/<stack>/`.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { load } from "js-yaml";

export type Backend =
    /** A folder (`file://`): the CLI writes each object with gocloud's fileblob, a sidecar `.attrs` beside it. */
    | { kind: "file"; url: string; root: string }
    /** An object store (`s3://`, `gs://`, `azblob://`): objects and their metadata are written at once. */
    | { kind: "bucket"; url: string }
    /** Pulumi Cloud (or a self-hosted service): state and locks are the service's. */
    | { kind: "service"; url: string };

/** The organization the file and bucket backends accept, the only one. */
export const DIY_ORG = "organization";

export interface StackRef {
    org: string;
    project: string;
    stack: string;
    /** `<org>/<project>/<stack>`, as the checkpoint names its stack. */
    fqn: string;
}

/** `staging`, `organization/staging` or `organization/lakehouse-platform/staging`, for this project. */
export function stackRef(name: string, project: string): StackRef {
    const parts = name.split("/");
    const [org, proj, stack] =
        parts.length === 3 ? parts : parts.length === 2 ? [parts[0], project, parts[1]] : [DIY_ORG, project, parts[0]];
    return { org, project: proj, stack, fqn: `${org}/${proj}/${stack}` };
}

function backendOf(url: string): Backend {
    if (url.startsWith("file://")) {
        let root = url.slice("file://".length).split("?")[0];
        if (root === "~" || root.startsWith("~/")) root = path.join(os.homedir(), root.slice(1));
        return { kind: "file", url, root: path.resolve(root) };
    }
    if (/^(s3|gs|azblob):\/\//.test(url)) return { kind: "bucket", url };
    return { kind: "service", url };
}

/** The backend the CLI would use in `projectDir`, or undefined when there is no login at all. */
export function resolveBackend(env: NodeJS.ProcessEnv, projectDir: string): Backend | undefined {
    if (env.PULUMI_BACKEND_URL) return backendOf(env.PULUMI_BACKEND_URL);
    const projectFile = path.join(projectDir, "Pulumi.yaml");
    if (fs.existsSync(projectFile)) {
        const doc = load(fs.readFileSync(projectFile, "utf8")) as { backend?: { url?: string } } | undefined;
        if (doc?.backend?.url) return backendOf(doc.backend.url);
    }
    const home = env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
    const credentials = path.join(home, "credentials.json");
    if (fs.existsSync(credentials)) {
        try {
            const current = (JSON.parse(fs.readFileSync(credentials, "utf8")) as { current?: string }).current;
            if (current) return backendOf(current);
        } catch {
            // A credentials file the CLI itself would refuse: the CLI's error says more than ours.
        }
    }
    return undefined;
}

/** The files of one stack in a file backend (paths relative to nothing: absolute). */
export interface StackFiles {
    /** `<root>/.pulumi`. */
    bookkeeping: string;
    /** The checkpoint's folder and its base name without extension. */
    stacksDir: string;
    base: string;
    locksDir: string;
    backupsDir: string;
    historyDir: string;
    /** Where recovery keeps a copy of every file it changes (`.pulumi/recover/<project>/<stack>`). */
    recoverDir: string;
}

export function stackFiles(root: string, ref: StackRef): StackFiles {
    const bookkeeping = path.join(root, ".pulumi");
    return {
        bookkeeping,
        stacksDir: path.join(bookkeeping, "stacks", ref.project),
        base: ref.stack,
        locksDir: path.join(bookkeeping, "locks", ref.org, ref.project, ref.stack),
        backupsDir: path.join(bookkeeping, "backups", ref.project, ref.stack),
        historyDir: path.join(bookkeeping, "history", ref.project, ref.stack),
        recoverDir: path.join(bookkeeping, "recover", ref.project, ref.stack),
    };
}

/** The checkpoint's extensions, as the CLI writes them (plain, or compressed with PULUMI_SELF_MANAGED_STATE_GZIP). */
export const CHECKPOINT_EXTENSIONS = [".json", ".json.gz", ".json.zst"] as const;
