/**
 * kantai routing CLI (docs/reference/routing-cli.md):
 *
 *   npm run routing -- plan --input <file.json> [--algorithm optimal|even|nearest|ikukantai]
 *
 * Prints only the plan JSON on stdout. Invalid input exits with status 2 and one `field: message`
 * line per problem on stderr; usage errors exit with status 64; an internal error prints one line
 * and exits with status 70 — never a stack trace.
 */
import * as fs from "node:fs";
import { ALGORITHMS, isAlgorithm, planRouting, RoutingInputError } from "./index";
import { runMatrixCli } from "./matrix";

const USAGE = `usage: npm run routing -- plan --input <file.json> [--algorithm ${ALGORITHMS.join("|")}]`;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the CLI on `argv` (without node and script). Pure apart from reading the input file. */
export function runCli(argv: readonly string[]): CliResult {
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h" || command === "help")
    return { code: 0, stdout: `${USAGE}\n`, stderr: "" };
  if (command !== "plan")
    return { code: 64, stdout: "", stderr: `${command ? `unknown command "${command}"\n` : ""}${USAGE}\n` };
  let input: string | undefined;
  let algorithm = "optimal";
  for (let k = 0; k < rest.length; k++) {
    const arg = rest[k];
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = inline ?? rest[k + 1];
    if (flag === "--input" || flag === "--algorithm") {
      if (value === undefined || (inline === undefined && value.startsWith("--")))
        return { code: 64, stdout: "", stderr: `${flag} needs a value\n${USAGE}\n` };
      if (inline === undefined) k++;
      if (flag === "--input") input = value;
      else algorithm = value;
    } else {
      return { code: 64, stdout: "", stderr: `unknown option "${arg}"\n${USAGE}\n` };
    }
  }
  if (!input) return { code: 64, stdout: "", stderr: `--input is required\n${USAGE}\n` };
  if (!isAlgorithm(algorithm))
    return { code: 64, stdout: "", stderr: `--algorithm: must be one of ${ALGORITHMS.join(", ")}\n` };
  let text: string;
  try {
    text = fs.readFileSync(input, "utf8");
  } catch (e) {
    return { code: 66, stdout: "", stderr: `--input: cannot read ${input}: ${(e as Error).message}\n` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { code: 2, stdout: "", stderr: `input: not valid JSON: ${(e as Error).message}\n` };
  }
  try {
    const plan = planRouting(raw, algorithm);
    return { code: 0, stdout: `${JSON.stringify(plan)}\n`, stderr: "" };
  } catch (e) {
    if (e instanceof RoutingInputError) return { code: 2, stdout: "", stderr: `${e.message}\n` };
    // Not an input mistake: still one line, no stack trace (EX_SOFTWARE).
    const first = String((e as Error)?.message ?? e).split("\n")[0];
    return { code: 70, stdout: "", stderr: `routing: internal error: ${first}\n` };
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  // `matrix` (lib/routing/matrix.ts) reads Prometheus, so it is asynchronous.
  void (argv[0] === "matrix" ? runMatrixCli(argv.slice(1)) : Promise.resolve(runCli(argv))).then((result) => {
    if (result.stdout) process.stdout.write(result.stdout);
    if (result.stderr) process.stderr.write(result.stderr);
    process.exitCode = result.code;
  });
}
