// npm run check -- FILE [--policy-config FILE]
// The policy gate over a resources file: a plan written by `npm run plan -- --json`, or any JSON
// list of resources ({ type, name, urn?, inputs | props, outputs? }), from another program too.
// The verdicts come from the pack as shipped, over the CLI's protocol (crossguard/), exactly as
// `npm run plan` and `pulumi preview --policy-pack policies` reach them.
// Exit status: 0 no mandatory violation, 1 a mandatory violation, 2 bad input, 3 a failure (a
// policy that throws fails the gate, as it fails `pulumi preview`).
import { parseArgs } from "util";
import { EXIT } from "./exit";

const USAGE = `usage: npm run check -- FILE [--policy-config FILE]

Judges a resources file with the policy pack (policies/), started and spoken to as
\`pulumi preview --policy-pack policies\` does. FILE is a plan (\`npm run plan -- --json FILE\`) or a
JSON list of resources { "type", "name", "urn"?, "inputs" | "props", "outputs"? }, also under a
top-level "resources". --policy-config FILE is a --policy-pack-config file, merged over the plan's
own pack configuration (or over the policies' defaults for a plain list).

Exit status: 0 no mandatory violation, 1 a mandatory violation, 2 bad input, 3 a failure.`;

export async function main(
    argv: string[],
    out: (s: string) => void = console.log,
    err: (s: string) => void = console.error,
): Promise<number> {
    let parsed: { values: { "policy-config"?: string; help?: boolean }; positionals: string[] };
    try {
        parsed = parseArgs({
            args: argv,
            options: { "policy-config": { type: "string" }, help: { type: "boolean", short: "h" } },
            strict: true,
            allowPositionals: true,
        });
    } catch (e) {
        err(`check: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
        return EXIT.badInput;
    }
    if (parsed.values.help) {
        out(USAGE);
        return EXIT.ok;
    }
    if (parsed.positionals.length !== 1) {
        err(`check: give one resources file\n\n${USAGE}`);
        return EXIT.badInput;
    }
    // The gate loads after the arguments: `--help` and a usage error answer at once.
    const [
        { checkFile, ResourcesFileError },
        { mandatory, PolicyFailure },
        { PackConfigError },
        { PackStartError },
        { renderPolicySection },
    ] = await Promise.all([
        import("./resources-file"),
        import("./crossguard/judge"),
        import("./crossguard/pack-config"),
        import("./crossguard/pack-host"),
        import("./plan"),
    ]);
    try {
        const { gate, resources } = await checkFile(parsed.positionals[0], parsed.values["policy-config"]);
        out(
            renderPolicySection({ violations: gate.diagnostics, remediations: gate.remediations }, resources).join(
                "\n",
            ),
        );
        const failed = mandatory(gate).length;
        out(failed === 0 ? "\nResult: no mandatory violation." : `\nResult: ${failed} mandatory violation(s).`);
        return failed > 0 ? EXIT.violations : EXIT.ok;
    } catch (e) {
        if (e instanceof ResourcesFileError || e instanceof PackConfigError) {
            err(`check: ${e.message}`);
            return EXIT.badInput;
        }
        if (e instanceof PolicyFailure || e instanceof PackStartError) {
            err(`check: ${e.message}`);
            return EXIT.failure;
        }
        throw e;
    }
}
