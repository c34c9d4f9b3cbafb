// ESLint flat config (https://eslint.org/docs/latest/use/configure/configuration-files).
// - typescript-eslint's `recommended` set on every TypeScript file (syntax only: fast).
// - Pulumi's own rules (@pulumi/eslint-plugin: an Output<T> in a plain template literal renders as
//   a warning text instead of the value; use pulumi.interpolate) on the code that builds resources.
//   They need type information, so only those folders get the (slower) typed parser.
// - eslint-config-prettier last: formatting is Prettier's job (`npm run format:check`), not ESLint's.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

/** Folders whose code constructs Pulumi resources or handles Outputs. */
const pulumiCode = ["index.ts", "stacks/**/*.ts", "components/**/*.ts", "policy/**/*.ts", "scripts/synth/**/*.ts", "examples/**/*.ts"];

/**
 * TEMPORARY (issue 11): rules the code base still breaks, switched off per file until the lead's
 * clean-up pass after the restructuring merges. Each entry names the files that break it today;
 * a file NOT listed here is linted with the full rule set. Delete entries as files are fixed;
 * `npm run lint` must stay clean. Do not add a file to this list to silence a new finding.
 */
const pendingCleanup = [];

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", "out/**", ".cache/**", "tools/bin/**", "coverage/**", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.js", "**/*.cjs", "**/*.mjs"],
    languageOptions: { globals: { require: "readonly", module: "writable", process: "readonly", console: "readonly", __dirname: "readonly", setTimeout: "readonly", clearTimeout: "readonly", URL: "readonly", Buffer: "readonly" } },
  },
  {
    files: ["**/*.ts"],
    rules: {
      // Unused names are errors, except the `_`-prefixed ones kept on purpose (callback signatures).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    files: pulumiCode,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
    },
  },
  ...pendingCleanup,
  prettier,
);
