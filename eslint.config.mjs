// typescript-eslint with type information: floating promises and unsafe `any` matter in a Pulumi
// program, where a forgotten promise is a resource that silently never registers.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", "policies/bin/", "scratch/", ".build/", "charts/"] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: {
            parserOptions: {
                projectService: { allowDefaultProject: ["*.mjs", "offline/*.mjs"] },
                tsconfigRootDir: import.meta.dirname,
            },
        },
        rules: {
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
        },
    },
    {
        // An Output interpolated into a template literal is "Calling [toString] on an [Output<T>]", not its value.
        files: ["index.ts", "components/**/*.ts"],
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },
    {
        // The launcher is plain JavaScript: what it requires has no types to check.
        files: ["offline/*.mjs"],
        rules: {
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
        },
    },
    {
        // Tests read recorded inputs as loosely typed data.
        files: ["tests/**/*.ts"],
        rules: {
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-unsafe-return": "off",
        },
    },
    { files: ["*.mjs"], ...tseslint.configs.disableTypeChecked },
    {
        // Test fixtures that stand in for command-line tools, fixture packs, mocha's configuration and setup,
        // the program's entry and the build's freshness: plain CommonJS run by node.
        files: [
            "tests/fixtures/**/*.js",
            "offline/bench-packs/**/*.js",
            ".mocharc.cjs",
            "tests/setup.cjs",
            "program.js",
            "offline/build-state.cjs",
        ],
        ...tseslint.configs.disableTypeChecked,
        languageOptions: {
            ...tseslint.configs.disableTypeChecked.languageOptions,
            sourceType: "commonjs",
            globals: {
                require: "readonly",
                module: "writable",
                process: "readonly",
                console: "readonly",
                __dirname: "readonly",
            },
        },
        rules: { ...tseslint.configs.disableTypeChecked.rules, "@typescript-eslint/no-require-imports": "off" },
    },
);
