// The locks of updates in progress, and whether each is provably dead. The file and bucket
// backends lock a stack with a file per update (`.pulumi/locks/<org>/<project>/<stack>/<id>.json`:
// pid, user, host, start time); `pulumi cancel` deletes them all, whoever holds them. Breaking
// the lock of an update that is still running lets a second writer into its state, so recovery
// breaks only a lock it can prove dead:
//   - taken on this machine, by a process that no longer exists or is no longer a Pulumi CLI (the
//     pid was reused): dead;
//   - taken on this machine by a live Pulumi CLI: live;
//   - taken elsewhere: dead only when older than the bound (LOCK_MAX_AGE_MINUTES, `--lock-max-age`),
//     longer than any update of this platform takes; younger, it cannot be told from a live one.
import * as fs from "fs";
import * as path from "path";

/** Older than this, a lock taken on another machine is taken for dead (the platform's updates take minutes). */
export const LOCK_MAX_AGE_MINUTES = 60;

export interface Lock {
    /** Where it is (a file, or the URL the CLI names). */
    where: string;
    pid: number;
    username: string;
    hostname: string;
    timestamp: Date;
}

export interface LockVerdict {
    lock: Lock;
    dead: boolean;
    why: string;
}

/** The file backend's locks of a stack; an unreadable lock file is reported, not guessed at. */
export function readLockFiles(locksDir: string): { locks: Lock[]; unreadable: string[] } {
    const locks: Lock[] = [];
    const unreadable: string[] = [];
    if (!fs.existsSync(locksDir)) return { locks, unreadable };
    for (const name of fs.readdirSync(locksDir)) {
        if (!name.endsWith(".json")) continue;
        const file = path.join(locksDir, name);
        try {
            const l = JSON.parse(fs.readFileSync(file, "utf8")) as {
                pid: number;
                username: string;
                hostname: string;
                timestamp: string;
            };
            locks.push({
                where: file,
                pid: l.pid,
                username: l.username,
                hostname: l.hostname,
                timestamp: new Date(l.timestamp),
            });
        } catch {
            unreadable.push(file);
        }
    }
    return { locks, unreadable };
}

/**
 * The locks the CLI names when it refuses a locked stack (any backend but the service):
 * `  <url>: created by <user>@<host> (pid <pid>) at <RFC 3339 time>`.
 */
export function locksFromRefusal(text: string): Lock[] {
    const out: Lock[] = [];
    const re = /^\s*(\S+): created by (.*)@(\S+) \(pid (\d+)\) at (\S+)\s*$/gm;
    for (let m = re.exec(text); m; m = re.exec(text))
        out.push({ where: m[1], username: m[2], hostname: m[3], pid: Number(m[4]), timestamp: new Date(m[5]) });
    return out;
}

/** What the process `pid` of this machine runs (its command line), or undefined when there is none. */
export function processCommand(pid: number): string | undefined {
    try {
        process.kill(pid, 0);
    } catch (e) {
        // EPERM: it exists, owned by someone else.
        if ((e as NodeJS.ErrnoException).code !== "EPERM") return undefined;
    }
    try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    } catch {
        return "(a process this user cannot inspect)";
    }
}

export interface Machine {
    hostname: string;
    now: Date;
    /** The command line of a process of this machine, or undefined when it does not exist. */
    command: (pid: number) => string | undefined;
}

/** Whether a lock is provably dead, and why, in words the refusal quotes. */
export function judgeLock(lock: Lock, machine: Machine, maxAgeMinutes = LOCK_MAX_AGE_MINUTES): LockVerdict {
    const ageMinutes = (machine.now.getTime() - lock.timestamp.getTime()) / 60_000;
    const age = `${Math.max(0, Math.round(ageMinutes))} min ago`;
    if (lock.hostname === machine.hostname) {
        const command = machine.command(lock.pid);
        if (command === undefined)
            return { lock, dead: true, why: `its process (pid ${lock.pid} on this machine) no longer exists` };
        // A pulumi process: the CLI itself (`pulumi up`, `/path/to/pulumi refresh`).
        if (/(^|\/)pulumi(\s|$)/.test(command.split(" ")[0] ?? "") || /(^|\/)pulumi\s/.test(command))
            return {
                lock,
                dead: false,
                why: `its process is running on this machine: pid ${lock.pid}, \`${command.slice(0, 120)}\`, since ${lock.timestamp.toISOString()} (${age})`,
            };
        return {
            lock,
            dead: true,
            why: `pid ${lock.pid} on this machine is now another program (\`${command.slice(0, 80)}\`), not the Pulumi CLI`,
        };
    }
    if (ageMinutes >= maxAgeMinutes)
        return {
            lock,
            dead: true,
            why: `taken on ${lock.hostname} ${age}, longer than any update of this stack takes (the bound: ${maxAgeMinutes} min)`,
        };
    return {
        lock,
        dead: false,
        why: `taken on another machine (${lock.hostname}, pid ${lock.pid}) ${age}, within the bound of ${maxAgeMinutes} min: it may still be running`,
    };
}
