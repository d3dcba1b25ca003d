// The README's captured CLI output is checked by the real-engine suite (tests/cluster/captured.ts);
// here its two pure helpers, on output shaped as the CLI 3.248.0 printed it there.
import { strict as assert } from "assert";
import { fold, normalize } from "./cluster/captured";

const printed = (created: number, seconds: number) =>
    [
        "Updating (dev):",
        " +  pulumi:pulumi:Stack lakehouse-platform-dev creating (0s) ",
        "@ updating....",
        " +  kubernetes:core/v1:Namespace garage created (0.41s) ",
        "Loading policy packs...: done",
        "Outputs:",
        '    environment: "dev"',
        "",
        "Resources:",
        `    + ${created} created`,
        "",
        `Duration: ${seconds}s`,
        "",
    ].join("\n");

describe("the captured CLI output", () => {
    it("folds the sections it does not keep into a count of their lines, and keeps the others whole", () => {
        assert.equal(
            fold(printed(78, 31), ["Resources", "Duration"]),
            [
                "Updating (dev):",
                "  … 4 more lines",
                "",
                "Outputs:",
                "  … 1 more line",
                "",
                "Resources:",
                "    + 78 created",
                "",
                "Duration: 31s",
            ].join("\n"),
        );
    });

    it("is the same run to run but for times and progress lines, and differs when what was done differs", () => {
        const keep = ["Resources", "Duration"];
        const a = fold(printed(78, 31), keep);
        const slower = fold(printed(78, 75).replace("@ updating....", "@ updating....\n@ updating...."), keep);
        assert.equal(normalize(slower), normalize(a));
        assert.notEqual(normalize(fold(printed(79, 31), keep)), normalize(a));
        assert.match(normalize("Duration: 1m2s (0.41s)"), /^Duration: <time> \(<time>\)$/);
    });
});
