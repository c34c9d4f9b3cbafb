// ESLint flat config (https://eslint.org/docs/latest/use/configure/configuration-files).
// - typescript-eslint's `recommended` set on every TypeScript file (syntax only: fast).
// - Pulumi's own rules (@pulumi/eslint-plugin: an Output<T> in a plain template literal renders as
//   a warning text instead of the value; use pulumi.interpolate) on the code that builds resources.
//   They need type information, so only those folders get the (slower) typed parser.
// - eslint-config-prettier last: formatting is Prettier's job (`npm run format:check`), not ESLint's.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import prettier from "eslint-config-prettier";
import globals from "globals";
import tseslint from "typescript-eslint";

/** Folders whose code constructs Pulumi resources or handles Outputs. */
const pulumiCode = [
  "index.ts",
  "stacks/**/*.ts",
  "components/**/*.ts",
  "policy/**/*.ts",
  "scripts/synth/**/*.ts",
  "examples/**/*.ts",
];

/**
 * TEMPORARY (issue 11): rules the code base still breaks, switched off per file until the lead's
 * clean-up pass after the restructuring merges. Each entry names the files that break it today;
 * a file NOT listed here is linted with the full rule set. Delete entries as files are fixed;
 * `npm run lint` must stay clean. Do not add a file to this list to silence a new finding.
 */
const pendingCleanup = [
  {
    rules: { "@typescript-eslint/no-explicit-any": "off" },
    files: [
      "tools/standins/command.ts",
      "tools/standins/main.ts",
      "tools/standins/random.ts",
      "tools/standins/standin.ts",
      "tools/standins/wire.ts",
    ],
  },
  {
    rules: { "@typescript-eslint/no-require-imports": "off" },
    files: [
      "test/routing/routingPlan.test.ts",
      "components/routing/routingPlanProvider.ts",
      "test/engine/fixtures/local/banner.ts",
      "tools/standins/main.ts",
      "tools/standins/shapes.ts",
      "tools/standins/standin.ts",
    ],
  },
  {
    rules: { "prefer-const": "off" },
    files: ["lib/routing/bounds.ts", "test/routingEdge.stack.test.ts"],
  },
  {
    rules: { "preserve-caught-error": "off" },
    files: ["test/support/k8sSchemas.ts"],
  },
  {
    rules: { "@typescript-eslint/no-unused-expressions": "off" },
    files: ["tools/standins/shapes.ts"],
  },
  {
    // eslint-disable comments for a rule typescript-eslint 8 no longer has (no-var-requires).
    linterOptions: { reportUnusedDisableDirectives: "off" },
    files: ["tools/standins/main.ts", "tools/standins/shapes.ts", "tools/standins/standin.ts"],
  },
];

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", "out/**", ".cache/**", "tools/bin/**", "coverage/**", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JavaScript is CommonJS on Node (web/server.js is dependency-free by design): require() is its import.
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  { files: ["**/*.mjs"], languageOptions: { globals: globals.node } },
  {
    files: ["**/*.ts"],
    rules: {
      // Unused names are errors, except the `_`-prefixed ones kept on purpose (callback signatures).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
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
  {
    // Tests read synth's JSON, recorded registrations and API answers, whose shapes they assert:
    // \`any\` there is the point of the assertion, not a gap in the program's types.
    files: ["test/**/*.ts", "**/*.test.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // web/rtt-agent.js is dependency-free CommonJS written with function callbacks; \`self = this\`
    // is how such callbacks reach their object.
    files: ["web/*.js"],
    rules: { "@typescript-eslint/no-this-alias": "off" },
  },
  ...pendingCleanup,
  prettier,
);
