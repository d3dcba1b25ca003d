// npm run bundle-chart -- --archive <chart.tgz> --out <dir> [--kubernetes v1.34.4]
//
// Unpacks a chart archive into a directory and makes its values schemas self-contained: every
// `$ref` to a remote Kubernetes JSON schema (Dagster's charts point at kubernetesjsonschema.dev,
// which is gone, and which no air-gapped cluster reaches) becomes a reference to a definition
// copied into the schema's own `$defs`, taken from the OpenAPI document of the Kubernetes release
// named (`api/openapi-spec/swagger.json` of the k8s.io/kubernetes Go module). Helm validates values
// against the schema on every install and upgrade, so this keeps the validation and drops the
// download. Every other file is written as the archive has it, byte for byte.
//
// The definitions are converted as openapi2jsonschema converts them for kubernetesjsonschema.dev:
// an int-or-string is a string or an integer, a quantity a string or a number.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import * as tar from "tar";
import { answersHelp, EXIT } from "./exit";

const USAGE = `usage: npm run bundle-chart -- --archive <chart.tgz> --out <dir> [--kubernetes v1.34.4]

Unpacks the chart and replaces every remote Kubernetes $ref in its values.schema.json files by a
definition of its own, from the OpenAPI document of that Kubernetes release (Go module proxy).`;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** `https://kubernetesjsonschema.dev/v1.18.0/_definitions.json#/definitions/<name><rest>` and the like. */
const REMOTE_REF = /^https?:\/\/[^#]+\/_definitions\.json#\/definitions\/([A-Za-z0-9_.-]+)(.*)$/;

/** The files of a chart archive, by their path inside it. */
export function readArchive(archive: string): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    tar.t({
        file: archive,
        sync: true,
        onReadEntry(entry) {
            if (entry.type !== "File") {
                entry.resume();
                return;
            }
            const chunks: Buffer[] = [];
            entry.on("data", (c: Buffer) => chunks.push(c));
            entry.on("end", () => files.set(entry.path, Buffer.concat(chunks)));
        },
    });
    return files;
}

function walk(v: Json, visit: (obj: { [k: string]: Json }) => void): void {
    if (Array.isArray(v)) v.forEach((x) => walk(x, visit));
    else if (v !== null && typeof v === "object") {
        visit(v);
        Object.values(v).forEach((x) => walk(x, visit));
    }
}

/** A Kubernetes definition as kubernetesjsonschema.dev served it: formats it cannot check become alternatives. */
function converted(def: Json): Json {
    if (Array.isArray(def)) return def.map(converted);
    if (def === null || typeof def !== "object") return def;
    if (def.format === "int-or-string") return { oneOf: [{ type: "string" }, { type: "integer" }] };
    const out: { [k: string]: Json } = {};
    for (const [k, v] of Object.entries(def)) {
        if (k === "$ref" && typeof v === "string") out[k] = v.replace(/^#\/definitions\//, "#/$defs/");
        else out[k] = converted(v);
    }
    return out;
}

/** The definitions `names` need, with everything they reference, converted. */
function closure(definitions: Record<string, Json>, names: Iterable<string>): Record<string, Json> {
    const out: Record<string, Json> = {};
    const todo = [...names];
    while (todo.length > 0) {
        const name = todo.pop()!;
        if (name in out) continue;
        const def = definitions[name];
        if (def === undefined) throw new Error(`the Kubernetes OpenAPI document has no definition ${name}`);
        out[name] =
            name === "io.k8s.apimachinery.pkg.api.resource.Quantity"
                ? { oneOf: [{ type: "string" }, { type: "number" }] }
                : converted(def);
        walk(def, (o) => {
            const m = typeof o.$ref === "string" ? /^#\/definitions\/(.+)$/.exec(o.$ref) : null;
            if (m) todo.push(m[1]);
        });
    }
    return Object.fromEntries(
        Object.keys(out)
            .sort()
            .map((k) => [k, out[k]]),
    );
}

/** The schema with its remote Kubernetes references made local; undefined when it has none. */
export function bundleSchema(schema: Json, definitions: Record<string, Json>): Json | undefined {
    const needed = new Set<string>();
    walk(schema, (o) => {
        const m = typeof o.$ref === "string" ? REMOTE_REF.exec(o.$ref) : null;
        if (m) needed.add(m[1]);
    });
    if (needed.size === 0) return undefined;
    const copy = JSON.parse(JSON.stringify(schema)) as { [k: string]: Json };
    walk(copy, (o) => {
        const m = typeof o.$ref === "string" ? REMOTE_REF.exec(o.$ref) : null;
        if (m) o.$ref = `#/$defs/${m[1]}${m[2]}`;
    });
    const defs = (copy.$defs ?? {}) as { [k: string]: Json };
    for (const [name, def] of Object.entries(closure(definitions, needed))) {
        if (name in defs) throw new Error(`the schema already defines ${name}`);
        defs[name] = def;
    }
    copy.$defs = defs;
    return copy;
}

/** The `definitions` of k8s.io/kubernetes's OpenAPI document at `version`, from the Go module proxy. */
export function kubernetesDefinitions(version: string): Record<string, Json> {
    const info = JSON.parse(
        execFileSync("go", ["mod", "download", "-json", `k8s.io/kubernetes@${version}`], { encoding: "utf8" }),
    ) as { Dir: string };
    const doc = JSON.parse(fs.readFileSync(path.join(info.Dir, "api", "openapi-spec", "swagger.json"), "utf8")) as {
        definitions: Record<string, Json>;
    };
    return doc.definitions;
}

export function main(argv: string[], out: (s: string) => void = console.log): number {
    if (answersHelp(argv, USAGE, out)) return EXIT.ok;
    const { values } = parseArgs({
        args: argv,
        options: { archive: { type: "string" }, out: { type: "string" }, kubernetes: { type: "string" } },
    });
    if (!values.archive || !values.out) {
        out(USAGE);
        return EXIT.badInput;
    }
    const files = readArchive(values.archive);
    const definitions = kubernetesDefinitions(values.kubernetes ?? "v1.34.4");
    const root = [...files.keys()][0].split("/")[0];
    fs.rmSync(values.out, { recursive: true, force: true });
    for (const [name, data] of files) {
        const rel = name.slice(root.length + 1);
        const target = path.join(values.out, rel);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        let bytes = data;
        if (path.basename(name) === "values.schema.json") {
            const bundled = bundleSchema(JSON.parse(data.toString("utf8")) as Json, definitions);
            if (bundled !== undefined) {
                bytes = Buffer.from(
                    JSON.stringify(bundled, null, 4) + (data.toString("utf8").endsWith("\n") ? "\n" : ""),
                );
                out(`${rel}: remote Kubernetes references made local`);
            }
        }
        fs.writeFileSync(target, bytes);
    }
    out(`wrote ${files.size} files to ${values.out}`);
    return EXIT.ok;
}
