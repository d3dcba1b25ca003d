// The front door and the documentation tree, checked against the code: the README's size, every
// link and anchor of every page, every command sample as the command prints it now, every key of
// Pulumi.yaml, every policy and every stack output documented exactly once, and each policy's
// examples failing and passing as the page says.
import { strict as assert } from "assert";
import * as fs from "fs";
import MarkdownIt from "markdown-it";
import * as path from "path";
import { CONFIG_KEYS } from "../components/config-schema";
import { CAPTURED } from "./cluster/captured";
import { CONFIG_PAGE, renderConfigPage, renderConfigReference } from "../offline/docs-config";
import { pages, POLICY_EXAMPLES, README, renderSamples, samples, samplesOn } from "../offline/readme";
import { checkFile } from "../offline/resources-file";
import { PROJECT_DIR } from "../offline/stack-config";
import { POLICIES } from "../policies/policies";
import { projectWith } from "./helpers/commands";
import { plannedStack, run } from "./helpers/stack";
import { PLATFORM_SERVICES } from "../components/addresses";
import { platformConfigOf } from "../offline/run-stack";

const md = new MarkdownIt({ html: true });
const rel = (file: string) => path.relative(PROJECT_DIR, file);

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens; repeats numbered. */
function slugs(tokens: ReturnType<typeof md.parse>, html: string): Set<string> {
    const out = new Set<string>();
    const seen = new Map<string, number>();
    tokens.forEach((t, i) => {
        if (t.type !== "heading_open") return;
        const text = tokens[i + 1].children?.map((c) => c.content).join("") ?? "";
        const base = text
            .toLowerCase()
            .replace(/[^\p{L}\p{N}\s_-]/gu, "")
            .replace(/\s/g, "-");
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        out.add(n === 0 ? base : `${base}-${n}`);
    });
    for (const m of html.matchAll(/<a id="([^"]+)"><\/a>/g)) out.add(m[1]);
    return out;
}

interface Page {
    file: string;
    text: string;
    tokens: ReturnType<typeof md.parse>;
    anchors: Set<string>;
}

function load(file: string): Page {
    const text = fs.readFileSync(file, "utf8");
    const tokens = md.parse(text, {});
    return { file, text, tokens, anchors: slugs(tokens, text) };
}

function links(page: Page): string[] {
    const out: string[] = [];
    const visit = (ts: ReturnType<typeof md.parse>) => {
        for (const t of ts) {
            if (t.type === "link_open") out.push(String(t.attrGet("href") ?? ""));
            if (t.children) visit(t.children);
        }
    };
    visit(page.tokens);
    return out;
}

/** Rows of the tables of a page: the first cell's text, and the section (h2) the table is in. */
function rows(page: Page): { cell: string; section: string }[] {
    const out: { cell: string; section: string }[] = [];
    let section = "";
    page.tokens.forEach((t, i) => {
        if (t.type === "heading_open" && t.tag === "h2") section = page.tokens[i + 1].content;
        if (t.type === "tr_open" && page.tokens[i + 1]?.type === "td_open")
            out.push({ cell: page.tokens[i + 2].content, section });
    });
    return out;
}

const firstCells = (page: Page) => rows(page).map((r) => r.cell);

describe("the docs", () => {
    it("getting-started's port-forward commands are dev's user-facing services as its outputs publish them", async () => {
        const page = fs.readFileSync(path.join(PROJECT_DIR, "docs", "getting-started.md"), "utf8");
        const block = /<!-- port-forward:dev -->\n```sh\n([\s\S]*?)```\n<!-- \/port-forward:dev -->/.exec(page)?.[1];
        assert.ok(block, "the port-forward:dev block");
        const shown = block
            .trim()
            .split("\n")
            .map((l) => /--context (\S+) -n (\S+) port-forward svc\/(\S+) \d+:(\d+)/.exec(l)!.slice(1).join(" "));
        // What dev's outputs say, for every service people open (userFacing).
        const plan = await plannedStack("dev");
        const components = plan.outputs.components as Record<string, { services: Record<string, string> }>;
        const context = platformConfigOf("dev").kubernetes.context;
        // As a reader takes them from an address: http://<service>.<namespace>.svc.<domain>:<port>.
        const published = Object.values(PLATFORM_SERVICES)
            .filter((s) => "userFacing" in s && s.userFacing)
            .map((s) => {
                const url = new URL(
                    Object.values(components[s.component].services).find((a) => a.includes(`//${s.service}.`))!,
                );
                const [service, namespace] = url.hostname.split(".");
                return `${context} ${namespace} ${service} ${url.port || "80"}`;
            });
        assert.deepEqual(shown.sort(), published.sort());
    });

    const all = pages().map(load);
    const byFile = new Map(all.map((p) => [p.file, p]));

    it("the README is a front door of at most 12 KB that maps every page of docs/", () => {
        const size = fs.statSync(README).size;
        assert.ok(size <= 12 * 1024, `README.md is ${size} bytes`);
        const readme = byFile.get(README)!;
        const linked = new Set(links(readme).map((l) => l.split("#")[0]));
        for (const p of all.filter((x) => x.file.startsWith(path.join(PROJECT_DIR, "docs"))))
            assert.ok(linked.has(rel(p.file)), `the README does not link ${rel(p.file)}`);
    });

    it("says how long each suite takes, warm and cold, and CI's two times, the same in the README and docs/testing.md", () => {
        const testing = byFile.get(path.join(PROJECT_DIR, "docs", "testing.md"))!;
        // The suites' table (the page's first): its last two cells are the warm and the cold time.
        const open = testing.tokens.findIndex((t) => t.type === "tbody_open");
        const close = testing.tokens.findIndex((t, i) => i > open && t.type === "tbody_close");
        const cells: string[][] = [];
        for (const t of testing.tokens.slice(open, close)) {
            if (t.type === "tr_open") cells.push([]);
            if (t.type === "inline") cells[cells.length - 1].push(t.content);
        }
        assert.ok(cells.length >= 5, "docs/testing.md starts with the suites' table");
        const measured = /\d+(\.\d+)? ?(s|min|h)\b|^the same/;
        for (const row of cells)
            for (const time of row.slice(-2)) assert.match(time, measured, `${row[0]}: "${time}" is not a time`);
        // CI: cold (every cache empty) and warm, stated alike on both pages. Whether cold fits CI's 90
        // minutes is a measurement (docs/testing.md says it), not something a unit test can hold.
        const ci =
            /`\.ci\/run`\s+took\s+\*\*(\d+) min\*\*\s+with\s+every\s+cache\s+empty\s+and\s+\*\*(\d+) min\*\*\s+with\s+warm\s+caches/;
        const times = [README, testing.file].map((f) => {
            const m = ci.exec(byFile.get(f)!.text);
            assert.ok(m, `${rel(f)} does not say how long .ci/run takes cold and warm`);
            return [Number(m[1]), Number(m[2])];
        });
        assert.deepEqual(times[0], times[1]);
        assert.ok(times[0][1] < times[0][0], `cold ${times[0][0]} min, warm ${times[0][1]} min`);
    });

    it("the README shows what the real CLI printed for each captured block the real-engine suite checks", () => {
        for (const c of CAPTURED) {
            const text = fs.readFileSync(c.file, "utf8");
            const body = text.split(`<!-- captured:${c.name} -->`)[1]?.split(`<!-- /captured:${c.name} -->`)[0] ?? "";
            for (const s of c.steps)
                assert.ok(body.includes(`$ ${s.command}\n`), `${rel(c.file)}: ${c.name} lacks ${s.command}`);
        }
    });

    it("the README's npm ci output installs what the lockfile holds, and compiles what npm ci compiles", () => {
        const text = byFile.get(README)!.text;
        const block = /<!-- npm-ci -->\n```\n([\s\S]*?)```\n<!-- \/npm-ci -->/.exec(text)?.[1];
        assert.ok(block, "the README has no npm-ci block");
        const added = Number(/^added (\d+) packages in \d+s$/m.exec(block)?.[1]);
        // What npm ci installs: every package of the lockfile for this platform (not a workspace link).
        const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package-lock.json"), "utf8")) as {
            packages: Record<string, { link?: boolean }>;
        };
        const installed = Object.entries(lock.packages).filter(
            ([dir, p]) => dir !== "" && !p.link && fs.existsSync(path.join(PROJECT_DIR, dir)),
        ).length;
        assert.equal(added, installed);
        const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as {
            scripts: Record<string, string>;
        };
        assert.ok(block.includes(`> ${pkg.scripts.prepare}`) && block.includes(`> ${pkg.scripts.build}`));
    });

    it("every relative link of every page resolves, to a file and to an anchor in it", () => {
        const broken: string[] = [];
        for (const page of all)
            for (const href of links(page)) {
                if (/^[a-z]+:/.test(href)) continue;
                const [target, anchor] = href.split("#");
                const file = target ? path.resolve(path.dirname(page.file), target) : page.file;
                if (!fs.existsSync(file)) {
                    broken.push(`${rel(page.file)}: ${href} (no such file)`);
                    continue;
                }
                if (anchor && file.endsWith(".md")) {
                    const other = byFile.get(file) ?? load(file);
                    if (!other.anchors.has(anchor)) broken.push(`${rel(page.file)}: ${href} (no such heading)`);
                }
            }
        assert.deepEqual(broken, []);
    });

    it("shows every command's output as the command prints it now, every sample on a page (run `npm run readme`)", async function () {
        this.timeout(300_000);
        const known = samples();
        const where = new Map<string, string[]>();
        for (const page of all)
            for (const name of samplesOn(page.text)) where.set(name, [...(where.get(name) ?? []), rel(page.file)]);
        for (const name of Object.keys(known)) assert.ok(where.has(name), `sample ${name} is on no page`);
        const cwd = process.cwd();
        process.chdir(PROJECT_DIR);
        try {
            for (const page of all.filter((p) => samplesOn(p.text).length > 0))
                assert.equal(await renderSamples(page.text, known), page.text, `${rel(page.file)} is out of date`);
        } finally {
            process.chdir(cwd);
        }
    });

    it("keeps the configuration reference to the shipped stacks: a team's own stack file (pulumi stack init mine) changes nothing", () => {
        const shipped = Object.fromEntries(
            ["dev", "staging", "prod"].map((s) => [
                `Pulumi.${s}.yaml`,
                fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${s}.yaml`), "utf8"),
            ]),
        );
        const mine = projectWith({
            ...shipped,
            "Pulumi.mine.yaml":
                "config:\n  lakehouse-platform:kubeContext: my-cluster\n  lakehouse-platform:trinoWorkers: 7\n",
        });
        assert.equal(renderConfigReference(mine), renderConfigReference());
    });

    it("documents every key of Pulumi.yaml exactly once, in the reference generated from the schema (run `npm run sync-config`)", () => {
        const config = byFile.get(CONFIG_PAGE)!;
        assert.equal(renderConfigPage(config.text), config.text);
        for (const key of Object.keys(CONFIG_KEYS)) {
            const rows = all.flatMap((p) =>
                firstCells(p)
                    .filter((c) => c.includes(`<a id="${key.toLowerCase()}"></a>\`${key}\``))
                    .map(() => rel(p.file)),
            );
            assert.deepEqual(rows, ["docs/configuration.md"], `key ${key}`);
        }
    });

    it("documents every policy exactly once, with an example it fails on alone and one it passes", async function () {
        this.timeout(120_000);
        const policies = byFile.get(path.join(PROJECT_DIR, "docs", "policies.md"))!;
        for (const policy of POLICIES) {
            const headings = all.flatMap((p) =>
                p.tokens
                    .filter((t, i) => t.type === "heading_open" && p.tokens[i + 1].content === `\`${policy.name}\``)
                    .map(() => rel(p.file)),
            );
            assert.deepEqual(headings, ["docs/policies.md"], `policy ${policy.name}`);
            for (const kind of ["fail", "pass"])
                assert.ok(
                    samplesOn(policies.text).includes(`policy-${policy.name}-${kind}`),
                    `${policy.name} has no ${kind} example`,
                );
            const fail = await checkFile(path.join(POLICY_EXAMPLES, policy.name, "fail.json"));
            const flagged = new Set(fail.gate.diagnostics.map((d) => d.policy));
            assert.deepEqual([...flagged], [policy.name], `${policy.name}'s failing example`);
            const pass = await checkFile(path.join(POLICY_EXAMPLES, policy.name, "pass.json"));
            assert.deepEqual(
                pass.gate.diagnostics.map((d) => `${d.policy}: ${d.message}`),
                [],
                `${policy.name}'s passing example`,
            );
        }
        const examples = fs.readdirSync(POLICY_EXAMPLES).sort();
        assert.deepEqual(examples, POLICIES.map((p) => p.name).sort(), "an example per policy, and no other");
    });

    it("documents every field of the plan file", async () => {
        const { planStack } = await import("../offline/plan");
        const plan = (await planStack("dev")) as unknown as Record<string, unknown>;
        const format = byFile.get(path.join(PROJECT_DIR, "docs", "plan-format.md"))!;
        const documented = rows(format).flatMap((r) => [...r.cell.matchAll(/`([a-zA-Z]+)/g)].map((m) => m[1]));
        for (const field of Object.keys(plan)) assert.ok(documented.includes(field), `plan-format.md: ${field}`);
    });

    it("documents every stack output exactly once, in the output contract", async () => {
        const r = await run("dev");
        const outputs = r.outputs;
        const expected = [
            ...Object.keys(outputs),
            ...Object.entries(outputs.components as Record<string, Record<string, unknown>>).flatMap(
                ([component, contract]) =>
                    Object.entries(contract).flatMap(([key, value]) => {
                        if (key === "services")
                            return Object.keys(value as object).map((s) => `${component}.services.${s}`);
                        if (key === "credentials") return [`${component}.credentials.<consumer>`];
                        if (typeof value === "object" && value !== null)
                            return Object.keys(value).map((s) => `${component}.${key}.${s}`);
                        return [`${component}.${key}`];
                    }),
            ),
        ];
        // The contract's tables: the top level, and the components' entries.
        const contract = byFile.get(path.join(PROJECT_DIR, "docs", "outputs.md"))!;
        const named = rows(contract)
            .filter((r) => r.section === "Top level" || r.section.startsWith("`components."))
            .flatMap((r) => [...r.cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
        for (const name of expected)
            assert.equal(named.filter((n) => n === name).length, 1, `output ${name} in docs/outputs.md`);
        // ...and no other page has a table that defines them.
        for (const page of all.filter((p) => p !== contract))
            for (const r of rows(page))
                for (const name of expected.filter((n) => n.includes(".")))
                    assert.ok(!r.cell.includes(`\`${name}\``), `${rel(page.file)} documents output ${name} again`);
    });
});
