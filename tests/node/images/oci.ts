// An OCI image layout (https://github.com/opencontainers/image-spec, image-layout.md) written from
// layer tarballs and an image config, and pushed to a registry over the distribution API (blobs
// by digest, then the manifest). Layers are kept uncompressed (`...layer.v1.tar`): the registry
// is on loopback, and two cores are better spent elsewhere than on gzip.
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";

export interface ImageConfig {
    user?: string;
    env?: string[];
    entrypoint?: string[];
    cmd?: string[];
    workingDir?: string;
    exposedPorts?: string[];
    stopSignal?: string;
    labels?: Record<string, string>;
}

interface Descriptor {
    mediaType: string;
    digest: string;
    size: number;
}

const MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const CONFIG = "application/vnd.oci.image.config.v1+json";
const LAYER = "application/vnd.oci.image.layer.v1.tar";

export function sha256File(file: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const h = createHash("sha256");
        fs.createReadStream(file)
            .on("data", (d) => h.update(d))
            .on("end", () => resolve(h.digest("hex")))
            .on("error", reject);
    });
}

function putBlob(dir: string, data: Buffer, mediaType: string): Descriptor {
    const hex = createHash("sha256").update(data).digest("hex");
    fs.writeFileSync(path.join(dir, "blobs", "sha256", hex), data);
    return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

/** Writes the layout at `dir` (the layers are moved into it); returns the manifest's descriptor. */
export async function writeLayout(dir: string, layers: string[], cfg: ImageConfig): Promise<Descriptor> {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, "blobs", "sha256"), { recursive: true });
    const descriptors: Descriptor[] = [];
    for (const layer of layers) {
        const hex = await sha256File(layer);
        const size = fs.statSync(layer).size;
        fs.renameSync(layer, path.join(dir, "blobs", "sha256", hex));
        descriptors.push({ mediaType: LAYER, digest: `sha256:${hex}`, size });
    }
    const config = {
        created: "1970-01-01T00:00:00Z",
        architecture: "amd64",
        os: "linux",
        config: {
            ...(cfg.user ? { User: cfg.user } : {}),
            Env: cfg.env ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            ...(cfg.entrypoint ? { Entrypoint: cfg.entrypoint } : {}),
            ...(cfg.cmd ? { Cmd: cfg.cmd } : {}),
            ...(cfg.workingDir ? { WorkingDir: cfg.workingDir } : {}),
            ...(cfg.exposedPorts ? { ExposedPorts: Object.fromEntries(cfg.exposedPorts.map((p) => [p, {}])) } : {}),
            ...(cfg.stopSignal ? { StopSignal: cfg.stopSignal } : {}),
            ...(cfg.labels ? { Labels: cfg.labels } : {}),
        },
        rootfs: { type: "layers", diff_ids: descriptors.map((d) => d.digest) },
    };
    const configDesc = putBlob(dir, Buffer.from(JSON.stringify(config)), CONFIG);
    const manifest = { schemaVersion: 2, mediaType: MANIFEST, config: configDesc, layers: descriptors };
    const manifestDesc = putBlob(dir, Buffer.from(JSON.stringify(manifest)), MANIFEST);
    fs.writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    fs.writeFileSync(path.join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [manifestDesc] }));
    return manifestDesc;
}

function request(
    method: string,
    url: string,
    opts: { body?: Buffer | string; file?: string; headers?: Record<string, string | number> } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method, headers: opts.headers }, (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (text += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        });
        req.on("error", reject);
        if (opts.file) fs.createReadStream(opts.file).pipe(req);
        else req.end(opts.body);
    });
}

/** Pushes the layout at `dir` to `registry` (host:port) as `repo:tag`; blobs it has are not sent again. */
export async function push(
    dir: string,
    registry: string,
    repo: string,
    tag: string,
): Promise<{ sent: number; kept: number }> {
    const index = JSON.parse(fs.readFileSync(path.join(dir, "index.json"), "utf8")) as { manifests: Descriptor[] };
    const manifestDesc = index.manifests[0];
    const blob = (digest: string) => path.join(dir, "blobs", "sha256", digest.slice("sha256:".length));
    const manifest = fs.readFileSync(blob(manifestDesc.digest));
    const { config, layers } = JSON.parse(manifest.toString("utf8")) as { config: Descriptor; layers: Descriptor[] };
    const base = `http://${registry}/v2/${repo}`;
    let sent = 0;
    let kept = 0;
    for (const d of [config, ...layers]) {
        const head = await request("HEAD", `${base}/blobs/${d.digest}`);
        if (head.status === 200) {
            kept++;
            continue;
        }
        const start = await request("POST", `${base}/blobs/uploads/`);
        if (start.status !== 202 || !start.headers.location)
            throw new Error(`the registry refused an upload to ${repo}: HTTP ${start.status} ${start.text}`);
        const location = new URL(start.headers.location, `http://${registry}`);
        location.searchParams.set("digest", d.digest);
        const put = await request("PUT", location.toString(), {
            file: blob(d.digest),
            headers: { "content-type": "application/octet-stream", "content-length": d.size },
        });
        if (put.status !== 201)
            throw new Error(`the registry refused blob ${d.digest} of ${repo}: HTTP ${put.status} ${put.text}`);
        sent++;
    }
    const put = await request("PUT", `${base}/manifests/${tag}`, {
        body: manifest,
        headers: { "content-type": MANIFEST, "content-length": manifest.length },
    });
    if (put.status !== 201)
        throw new Error(`the registry refused the manifest of ${repo}:${tag}: HTTP ${put.status} ${put.text}`);
    return { sent, kept };
}

/** The digest the registry serves for `repo:tag`, or undefined. */
export async function servedDigest(registry: string, repo: string, tag: string): Promise<string | undefined> {
    const r = await request("HEAD", `http://${registry}/v2/${repo}/manifests/${tag}`, {
        headers: { accept: MANIFEST },
    });
    return r.status === 200 ? (r.headers["docker-content-digest"] as string | undefined) : undefined;
}
