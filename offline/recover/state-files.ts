// A file backend's state as a killed CLI can leave it, and its repair. gocloud's fileblob, which
// the CLI writes with, writes each object as a temporary `<name>.<hex>.tmp` beside it, then the
// sidecar `<name>.attrs` (truncated first, then the JSON), then renames the temporary over the
// name. A kill between the sidecar's truncation and its JSON leaves an empty sidecar beside a
// whole file, and every later read of that file fails: `failed to load checkpoint: EOF`
// (pulumi/pulumi#2801's class of failure). A kill before the rename leaves a `.tmp`, which the
// backend lists like any object (a `.tmp` among the locks is read as a lock). The checkpoint
// itself is replaced by a rename, so it is whole unless the file system lost it.
//
// `diagnose` reads, never writes; `repair` moves every file it changes into a folder of its own
// first, so nothing is lost: `.pulumi/recover/<project>/<stack>/<time>/`.
import * as fs from "fs";
import * as path from "path";
import { gunzipSync } from "zlib";
import { CHECKPOINT_EXTENSIONS, StackFiles, StackRef } from "./backend";

export interface Finding {
    file: string;
    problem: string;
}

/** A checkpoint that could stand in for the current one. */
export interface Candidate {
    file: string;
    /** `.bak`, `backups` or `history`: where it came from, as the report says. */
    source: string;
    mtimeMs: number;
}

export interface Diagnosis {
    /** The checkpoint file the CLI reads (whatever its state), or undefined when there is none. */
    checkpoint?: string;
    /** Whether the CLI can load the stack as the files stand. */
    loadable: boolean;
    findings: Finding[];
    /** Sidecars to remove (the CLI reads a missing sidecar as "no attributes"). */
    tornSidecars: string[];
    /** Temporary files of writes that never finished. */
    leftovers: string[];
    /** When the checkpoint cannot be loaded: the newest whole checkpoint of the stack, if any. */
    restoreFrom?: Candidate;
    /** Candidates looked at and why each was passed over. */
    passedOver: Finding[];
}

function size(file: string): number {
    return fs.statSync(file).size;
}

/** Why a sidecar cannot be read (the CLI decodes it as JSON), or undefined when it can. */
export function sidecarProblem(file: string): string | undefined {
    const text = fs.readFileSync(file, "utf8");
    if (text.trim() === "") return `empty sidecar (${size(file)} bytes): a write interrupted after it was truncated`;
    try {
        JSON.parse(text);
        return undefined;
    } catch {
        return `torn sidecar (${size(file)} bytes, not JSON): a write interrupted while it was written`;
    }
}

/** The checkpoint's content as JSON text (uncompressed), or why it cannot be read. */
function checkpointText(file: string): { text?: string; problem?: string } {
    const bytes = fs.readFileSync(file);
    if (bytes.length === 0) return { problem: "empty (0 bytes)" };
    if (file.endsWith(".zst"))
        return { problem: "compressed with zstd, which this tool cannot read (the CLI can: it is not judged)" };
    if (file.endsWith(".gz") || (bytes[0] === 0x1f && bytes[1] === 0x8b)) {
        try {
            return { text: gunzipSync(bytes).toString("utf8") };
        } catch (e) {
            return { problem: `truncated gzip (${bytes.length} bytes): ${(e as Error).message}` };
        }
    }
    return { text: bytes.toString("utf8") };
}

/** Why a checkpoint cannot stand for the stack (unparsable, another stack's), or undefined when it can. */
export function checkpointProblem(file: string, ref: StackRef): string | undefined {
    const { text, problem } = checkpointText(file);
    if (problem) return problem;
    let doc: { version?: number; checkpoint?: { stack?: string } };
    try {
        doc = JSON.parse(text!) as typeof doc;
    } catch {
        return `truncated or not JSON (${size(file)} bytes)`;
    }
    if (typeof doc.version !== "number" || !doc.checkpoint) return "not a Pulumi checkpoint (no version or checkpoint)";
    if (doc.checkpoint.stack !== ref.fqn)
        return `the checkpoint of ${doc.checkpoint.stack ?? "no stack"}, not ${ref.fqn}`;
    return undefined;
}

function filesIn(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(dir, e.name));
}

/** The current checkpoint file: the one the CLI would read (plain before compressed, as it looks for them). */
function currentCheckpoint(files: StackFiles): string | undefined {
    for (const ext of CHECKPOINT_EXTENSIONS) {
        const f = path.join(files.stacksDir, files.base + ext);
        if (fs.existsSync(f)) return f;
    }
    return undefined;
}

/** Every checkpoint that could stand in, newest first: the `.bak`, the backups, the history's checkpoints. */
function candidates(files: StackFiles): Candidate[] {
    const out: Candidate[] = [];
    for (const ext of CHECKPOINT_EXTENSIONS) {
        const bak = path.join(files.stacksDir, `${files.base}${ext}.bak`);
        if (fs.existsSync(bak)) out.push({ file: bak, source: ".bak", mtimeMs: fs.statSync(bak).mtimeMs });
    }
    const checkpointName = /\.json(\.gz|\.zst)?$/;
    for (const f of filesIn(files.backupsDir))
        if (checkpointName.test(f)) out.push({ file: f, source: "backups", mtimeMs: fs.statSync(f).mtimeMs });
    for (const f of filesIn(files.historyDir))
        if (/\.checkpoint\.json(\.gz|\.zst)?$/.test(f))
            out.push({ file: f, source: "history", mtimeMs: fs.statSync(f).mtimeMs });
    return out.sort((a, b) => b.mtimeMs - a.mtimeMs);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether a file of the shared stacks folder is this stack's: its checkpoint, `.bak`, sidecars, temporaries. */
function ownFile(base: string, name: string): boolean {
    return new RegExp(`^${escape(base)}\\.json(\\.gz|\\.zst)?(\\.bak)?(\\.attrs|\\.[0-9a-f]+\\.tmp)?$`).test(name);
}

/** What is wrong with the stack's files, and what would make them loadable again. Reads only. */
export function diagnose(files: StackFiles, ref: StackRef): Diagnosis {
    const findings: Finding[] = [];
    const tornSidecars: string[] = [];
    const leftovers: string[] = [];
    for (const dir of [files.stacksDir, files.locksDir, files.backupsDir, files.historyDir]) {
        for (const f of filesIn(dir)) {
            // Only this stack's files in the shared stacks folder.
            if (dir === files.stacksDir && !ownFile(files.base, path.basename(f))) continue;
            if (f.endsWith(".attrs")) {
                const problem = sidecarProblem(f);
                if (problem) {
                    findings.push({ file: f, problem });
                    tornSidecars.push(f);
                }
            } else if (/\.[0-9a-f]+\.tmp$/.test(f)) {
                findings.push({ file: f, problem: `a write that never finished (${size(f)} bytes, never renamed)` });
                leftovers.push(f);
            }
        }
    }
    const checkpoint = currentCheckpoint(files);
    const passedOver: Finding[] = [];
    let loadable = checkpoint !== undefined;
    if (checkpoint) {
        const problem = checkpointProblem(checkpoint, ref);
        if (problem) {
            findings.push({ file: checkpoint, problem });
            loadable = false;
        }
    } else {
        findings.push({ file: path.join(files.stacksDir, `${files.base}.json`), problem: "no checkpoint" });
    }
    if (tornSidecars.length > 0 || leftovers.length > 0) loadable = false;
    let restoreFrom: Candidate | undefined;
    const checkpointBroken = !checkpoint || checkpointProblem(checkpoint, ref) !== undefined;
    if (checkpointBroken) {
        for (const c of candidates(files)) {
            const problem = checkpointProblem(c.file, ref);
            if (problem) passedOver.push({ file: c.file, problem });
            else {
                restoreFrom = c;
                break;
            }
        }
    }
    return { checkpoint, loadable, findings, tornSidecars, leftovers, restoreFrom, passedOver };
}

export interface Repair {
    /** Where the copies of every touched file are. */
    keptIn: string;
    done: string[];
}

/** Moves `file` into `keep`, under its path relative to `root`. */
function keepAside(root: string, keep: string, file: string, move: boolean): void {
    const dest = path.join(keep, path.relative(root, file));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (move) fs.renameSync(file, dest);
    else fs.copyFileSync(file, dest);
}

/**
 * Makes the stack's files loadable: torn sidecars and unfinished writes moved into the keep
 * folder; an unusable checkpoint kept there and replaced by `d.restoreFrom`. Throws when the
 * checkpoint is unusable and there is nothing to restore.
 */
export function repair(files: StackFiles, d: Diagnosis, when: Date = new Date()): Repair {
    const root = path.dirname(files.bookkeeping);
    const stamp = when.toISOString().replace(/[:.]/g, "-");
    const keptIn = path.join(files.recoverDir, stamp);
    const done: string[] = [];
    const checkpointBroken = !d.checkpoint || d.findings.some((f) => f.file === d.checkpoint);
    if (checkpointBroken && !d.restoreFrom)
        throw new Error(
            `no whole checkpoint of this stack to restore: ${d.passedOver.map((p) => `${p.file}: ${p.problem}`).join("; ") || "no .bak, backups or history"}`,
        );
    for (const f of d.tornSidecars) {
        keepAside(root, keptIn, f, true);
        done.push(`removed ${path.relative(root, f)} (kept): the CLI reads a missing sidecar as no attributes`);
    }
    for (const f of d.leftovers) {
        keepAside(root, keptIn, f, true);
        done.push(`moved ${path.relative(root, f)} aside (kept): a write that never finished`);
    }
    if (checkpointBroken && d.restoreFrom) {
        const target = d.checkpoint ?? path.join(files.stacksDir, `${files.base}.json`);
        // The restored file takes the extension of its content (a .gz stays compressed).
        const ext = CHECKPOINT_EXTENSIONS.find((e) => d.restoreFrom!.file.replace(/\.bak$/, "").endsWith(e)) ?? ".json";
        const dest = path.join(files.stacksDir, files.base + ext);
        if (fs.existsSync(target)) keepAside(root, keptIn, target, true);
        for (const sidecar of [`${target}.attrs`, `${dest}.attrs`])
            if (fs.existsSync(sidecar)) keepAside(root, keptIn, sidecar, true);
        const tmp = `${dest}.recover.tmp`;
        fs.copyFileSync(d.restoreFrom.file, tmp);
        fs.renameSync(tmp, dest);
        done.push(
            `restored ${path.relative(root, dest)} from ${path.relative(root, d.restoreFrom.file)} (${d.restoreFrom.source}, written ${new Date(d.restoreFrom.mtimeMs).toISOString()}); the unusable one kept`,
        );
    }
    return { keptIn, done };
}
