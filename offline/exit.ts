// Exit statuses of every command (plan, check, bench, test:e2e), as docs/plan.md documents them.
export const EXIT = {
    /** Clean: no mandatory violation, every check passed. */
    ok: 0,
    /** A mandatory policy violation (or a failed check). */
    violations: 1,
    /** Bad input: arguments, stack files, config, resources or policy config files, output paths. */
    badInput: 2,
    /** A failure that is not the input's fault: a bug, a policy that throws, a pack that does not start. */
    failure: 3,
} as const;

/**
 * The commands' `--help` (or `-h`), anywhere in the arguments: prints the usage and says so, for
 * the command to return EXIT.ok before it loads anything else.
 */
export function answersHelp(argv: readonly string[], usage: string, out: (s: string) => void): boolean {
    if (!argv.includes("--help") && !argv.includes("-h")) return false;
    out(usage);
    return true;
}

/** A command's entry point, as offline/launch.mjs calls it. */
export type ToolMain = (argv: string[], out?: (s: string) => void, err?: (s: string) => void) => Promise<number>;

/**
 * A command whose code loads only when it runs (the suites load servers, clients and the SDK):
 * `--help` answers from the usage alone, at once.
 */
export function loadsOnRun(
    usage: string,
    run: (argv: string[], out: (s: string) => void, err: (s: string) => void) => Promise<number>,
): ToolMain {
    return async (argv, out = console.log, err = console.error) =>
        answersHelp(argv, usage, out) ? EXIT.ok : run(argv, out, err);
}
