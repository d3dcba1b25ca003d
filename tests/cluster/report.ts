// The real-engine suite's report: the end-to-end suite's (versions, substitutions, checks), plus
// every CLI command it ran, with its exit code, time and the resource counts the engine reported,
// and (for the fault runs) what was injected and how the stack came back.
import { Report, ReportData } from "../e2e/report";
import type { Command } from "./pulumi";
import type { EventLog } from "./events";

export interface StepRecord {
    stack: string;
    step: string;
    command: string;
    code: number | null;
    seconds: number;
    /** What the engine counted (`create`, `update`, `same`, `delete`, `replace`, ...). */
    resources: Record<string, number>;
}

export interface FaultRecord {
    fault: string;
    recovery: string[];
    converged: boolean;
    credentialsChanged: number;
    volumesReplaced: number;
    wiringChecksPassed: boolean;
    /** On a real node: the rows written before the fault, read back after the recovery. */
    rowsReadBack?: boolean;
    detail: string;
}

/** An image a real node ran: the names the program gives it, and how this run made it. */
export interface ImageRecord {
    refs: string[];
    upstream: string;
    builtFrom: string;
    differs: string;
}

export interface ClusterReportData extends ReportData {
    steps: StepRecord[];
    images?: ImageRecord[];
    faults?: FaultRecord[];
}

export class ClusterReport extends Report {
    readonly steps: StepRecord[] = [];
    faults?: FaultRecord[];
    images?: ImageRecord[];

    image(i: ImageRecord): void {
        (this.images ??= []).push(i);
    }

    /** What each command printed (kept out of the JSON): the docs' captured samples come from here. */
    readonly printed = new Map<string, string>();

    step(stack: string, step: string, c: Command, log?: EventLog): StepRecord {
        if (!this.printed.has(`${stack}: ${step}`)) this.printed.set(`${stack}: ${step}`, c.stdout);
        const rec: StepRecord = {
            stack,
            step,
            command: `pulumi ${c.args.join(" ")}`,
            code: c.code,
            seconds: c.seconds,
            resources: log?.changes ?? {},
        };
        this.steps.push(rec);
        return rec;
    }

    fault(f: FaultRecord): void {
        (this.faults ??= []).push(f);
    }

    override data(): ClusterReportData {
        return {
            ...super.data(),
            steps: this.steps,
            ...(this.images ? { images: this.images } : {}),
            ...(this.faults ? { faults: this.faults } : {}),
        };
    }
}
