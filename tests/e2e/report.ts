// The suite's report: the versions that ran (each as its own binary or API reports it), what was
// substituted for what only a cluster provides (and why), and every check with its outcome and
// time. Printed as it goes; written as JSON at the end.
import * as fs from "fs";

export interface Check {
    name: string;
    ok: boolean;
    detail: string;
    seconds: number;
}

export interface Substitution {
    /** What the program's files or specs say. */
    what: string;
    /** What runs here instead. */
    instead: string;
    why: string;
}

export interface ReportData {
    stack: string;
    overrides: Record<string, unknown>;
    startedAt: string;
    seconds: number;
    ok: boolean;
    versions: Record<string, { version: string; pinned?: string; note?: string }>;
    substitutions: Substitution[];
    checks: Check[];
}

/** A check that failed: its detail says why. */
export class CheckFailed extends Error {}

export class Report {
    readonly versions: ReportData["versions"] = {};
    readonly substitutions: Substitution[] = [];
    readonly checks: Check[] = [];
    private readonly started = Date.now();

    constructor(
        readonly stack: string,
        readonly overrides: Record<string, unknown>,
        private readonly say: (line: string) => void,
    ) {}

    version(component: string, version: string, pinned?: string, note?: string): void {
        this.versions[component] = {
            version,
            ...(pinned && pinned !== version ? { pinned } : {}),
            ...(note ? { note } : {}),
        };
        this.say(`  version  ${component}: ${version}${note ? ` (${note})` : ""}`);
    }

    substitute(what: string, instead: string, why: string): void {
        if (this.substitutions.some((s) => s.what === what && s.instead === instead)) return;
        this.substitutions.push({ what, instead, why });
    }

    /**
     * Runs one check: `fn` returns the detail of a pass and throws (CheckFailed or anything) for a
     * failure. A failure is recorded and returned as false; the suite goes on where it can.
     */
    async check(name: string, fn: () => Promise<string> | string): Promise<boolean> {
        const t = Date.now();
        let ok = true;
        let detail: string;
        try {
            detail = await fn();
        } catch (e) {
            ok = false;
            detail = e instanceof Error ? e.message : String(e);
        }
        const seconds = Math.round((Date.now() - t) / 100) / 10;
        this.checks.push({ name, ok, detail, seconds });
        this.say(
            `  ${ok ? "ok  " : "FAIL"}  ${name} (${seconds} s)${ok ? "" : `\n        ${detail.split("\n").join("\n        ")}`}`,
        );
        return ok;
    }

    /** A check whose failure stops the suite (nothing after it can run). */
    async require(name: string, fn: () => Promise<string> | string): Promise<void> {
        if (!(await this.check(name, fn))) throw new CheckFailed(`${name} failed; the checks that need it cannot run`);
    }

    get ok(): boolean {
        return this.checks.length > 0 && this.checks.every((c) => c.ok);
    }

    data(): ReportData {
        return {
            stack: this.stack,
            overrides: this.overrides,
            startedAt: new Date(this.started).toISOString(),
            seconds: Math.round((Date.now() - this.started) / 1000),
            ok: this.ok,
            versions: this.versions,
            substitutions: this.substitutions,
            checks: this.checks,
        };
    }

    write(file: string): void {
        fs.writeFileSync(file, JSON.stringify(this.data(), null, 2) + "\n");
    }
}
