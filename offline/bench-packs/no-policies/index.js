// The benchmark's floor for the protocol (offline/bench.ts): a pack served by the same SDK as
// policies/, with no policy, so a run measures only the CLI's conversation.
const { PolicyPack } = require("@pulumi/policy");

new PolicyPack("no-policies", { policies: [] });
