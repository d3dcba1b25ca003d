// The engine's event log (`pulumi ... --event-log FILE`, with PULUMI_DEBUG_COMMANDS=true in
// 3.248): one JSON event per line. What the suite reads from it: each resource's operation and
// when it started and finished, the policy violations, the summary, and the errors.
import * as fs from "fs";

export interface ResourceStep {
    urn: string;
    type: string;
    op: string;
    /** Unix seconds the engine stamped on the step's start and end events. */
    started?: number;
    finished?: number;
}

export interface PolicyViolation {
    policy: string;
    enforcementLevel: string;
    urn: string;
    message: string;
}

export interface EventLog {
    steps: ResourceStep[];
    violations: PolicyViolation[];
    /** `create`, `update`, `same`, `delete`, `replace`, ... counts, as the summary gives them. */
    changes: Record<string, number>;
    durationSeconds?: number;
    errors: string[];
}

interface RawEvent {
    timestamp?: number;
    resourcePreEvent?: { metadata: { op: string; urn: string; type: string } };
    resOutputsEvent?: { metadata: { op: string; urn: string; type: string } };
    resOpFailedEvent?: { metadata: { op: string; urn: string; type: string } };
    policyEvent?: { resourceUrn?: string; message: string; policyName: string; enforcementLevel: string };
    summaryEvent?: { resourceChanges?: Record<string, number>; durationSeconds?: number };
    diagnosticEvent?: { severity: string; message: string; urn?: string };
}

export function readEventLog(file: string): EventLog {
    const log: EventLog = { steps: [], violations: [], changes: {}, errors: [] };
    if (!fs.existsSync(file)) return log;
    const open = new Map<string, ResourceStep>();
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        if (!line.trim()) continue;
        let e: RawEvent;
        try {
            e = JSON.parse(line) as RawEvent;
        } catch {
            continue;
        }
        if (e.resourcePreEvent) {
            const m = e.resourcePreEvent.metadata;
            const step: ResourceStep = { urn: m.urn, type: m.type, op: m.op, started: e.timestamp };
            open.set(`${m.urn}\0${m.op}`, step);
            log.steps.push(step);
        }
        const done = e.resOutputsEvent ?? e.resOpFailedEvent;
        if (done) {
            const m = done.metadata;
            const step = open.get(`${m.urn}\0${m.op}`);
            if (step) step.finished = e.timestamp;
            else log.steps.push({ urn: m.urn, type: m.type, op: m.op, finished: e.timestamp });
        }
        if (e.policyEvent)
            log.violations.push({
                policy: e.policyEvent.policyName,
                enforcementLevel: e.policyEvent.enforcementLevel,
                urn: e.policyEvent.resourceUrn ?? "",
                message: e.policyEvent.message,
            });
        if (e.summaryEvent) {
            log.changes = e.summaryEvent.resourceChanges ?? {};
            log.durationSeconds = e.summaryEvent.durationSeconds;
        }
        if (e.diagnosticEvent?.severity === "error") log.errors.push(e.diagnosticEvent.message.trim());
    }
    return log;
}

/** The resources a command changed (anything but `same` and reads), by URN, with the operation. */
export function changed(log: EventLog): Map<string, string> {
    const out = new Map<string, string>();
    for (const s of log.steps) {
        if (["same", "read", "refresh"].includes(s.op)) continue;
        // A replacement shows as create-replacement, replace and delete-replaced steps: one change.
        const op = s.op.includes("replace") ? "replace" : s.op;
        if (out.get(s.urn) !== "replace") out.set(s.urn, op);
    }
    return out;
}
