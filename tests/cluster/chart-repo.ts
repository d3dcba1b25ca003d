// A Helm chart repository on loopback, as a user's mirror serves one: an `index.yaml` and the
// chart archives over plain HTTP. Built from chart archives and chart directories (packaged here
// as `helm package` would: `<name>/...` in a gzipped tar), with each entry's sha256 digest.
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { dump, load } from "js-yaml";
import * as tar from "tar";
import { localChartYaml } from "../../components/charts";

export interface ServedChart {
    name: string;
    version: string;
    appVersion?: string;
    file: string;
}

/** Packs a chart directory into `<out>/<name>-<version>.tgz`, its files under `<name>/`. */
export async function packageChart(dir: string, out: string): Promise<string> {
    const chart = load(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8")) as { name: string; version: string };
    const file = path.join(out, `${chart.name}-${chart.version}.tgz`);
    fs.mkdirSync(out, { recursive: true });
    const staging = fs.mkdtempSync(path.join(out, ".pack-"));
    fs.cpSync(dir, path.join(staging, chart.name), { recursive: true });
    await tar.c({ gzip: true, file, cwd: staging, portable: true }, [chart.name]);
    fs.rmSync(staging, { recursive: true, force: true });
    return file;
}

function chartOf(file: string): ServedChart {
    const text = localChartYaml(file);
    if (!text) throw new Error(`${file} holds no Chart.yaml`);
    const c = load(text) as { name: string; version: string; appVersion?: string };
    return {
        name: c.name,
        version: String(c.version),
        appVersion: c.appVersion ? String(c.appVersion) : undefined,
        file,
    };
}

/** The repository's index.yaml, as `helm repo index` writes it. */
export function indexYaml(charts: ServedChart[]): string {
    const entries: Record<string, unknown[]> = {};
    for (const c of charts) {
        const digest = createHash("sha256").update(fs.readFileSync(c.file)).digest("hex");
        (entries[c.name] ??= []).push({
            apiVersion: "v2",
            name: c.name,
            version: c.version,
            ...(c.appVersion ? { appVersion: c.appVersion } : {}),
            created: new Date(fs.statSync(c.file).mtimeMs).toISOString(),
            digest,
            urls: [path.basename(c.file)],
        });
    }
    return dump({ apiVersion: "v1", entries, generated: new Date().toISOString() });
}

/** Serves the archives in `dir` (and their index) on `host:port` until `close()`. Logs every request. */
export class ChartRepository {
    readonly requests: string[] = [];
    private server?: http.Server;

    constructor(
        readonly dir: string,
        readonly host: string,
        readonly port: number,
    ) {}

    get url(): string {
        return `http://${this.host}:${this.port}/charts`;
    }

    charts(): ServedChart[] {
        return fs
            .readdirSync(this.dir)
            .filter((f) => f.endsWith(".tgz"))
            .map((f) => chartOf(path.join(this.dir, f)));
    }

    async start(): Promise<void> {
        const index = indexYaml(this.charts());
        this.server = http.createServer((req, res) => {
            const url = req.url ?? "/";
            this.requests.push(url);
            const name = url.replace(/^\/charts\//, "");
            if (name === "index.yaml") {
                res.writeHead(200, { "content-type": "application/x-yaml" }).end(index);
                return;
            }
            const file = path.join(this.dir, path.basename(name));
            if (name.endsWith(".tgz") && fs.existsSync(file)) {
                res.writeHead(200, { "content-type": "application/gzip" }).end(fs.readFileSync(file));
                return;
            }
            res.writeHead(404).end("not found\n");
        });
        await new Promise<void>((resolve, reject) => {
            this.server!.once("error", reject);
            this.server!.listen(this.port, this.host, () => resolve());
        });
    }

    async close(): Promise<void> {
        await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }
}
