/**
 * Run the conventional fleet's data plane locally, on 127.0.0.1, from synth's rendered files:
 * named, the root Caddy, the load balancer's Caddy and N web/server.js instances, with addresses
 * and ports rewritten by the loopback mapping (docs/reference/e2e-mapping.md). Stops everything
 * it started on SIGINT (Ctrl-C), SIGTERM or SIGHUP to any process of the command (npm, sh, tsx or
 * this one), when one of the started processes exits, or after --for seconds.
 *
 * Usage: npx tsx scripts/fleet-local.ts [--instances N] [--stack dev | --synth <dir>] [--for <seconds>] [--ready <file.json>]
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { watchAncestors } from "../lib/e2e/lifeline";
import { LocalFleet } from "../lib/e2e/localFleet";

const USAGE =
  "usage: npx tsx scripts/fleet-local.ts [--instances N] [--stack dev | --synth <dir>] [--for <seconds>] [--ready <file.json>]";

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        instances: { type: "string" },
        stack: { type: "string" },
        synth: { type: "string" },
        for: { type: "string" },
        ready: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`fleet-local: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const instances = values.instances === undefined ? undefined : Number(values.instances);
  if (instances !== undefined && !(Number.isInteger(instances) && instances >= 1)) {
    console.error(
      `fleet-local: --instances must be a positive integer, got ${JSON.stringify(values.instances)}\n${USAGE}`,
    );
    return 2;
  }
  const forS = values.for === undefined ? undefined : Number(values.for);
  if (forS !== undefined && !(forS > 0)) {
    console.error(
      `fleet-local: --for must be a positive number of seconds, got ${JSON.stringify(values.for)}\n${USAGE}`,
    );
    return 2;
  }

  if (values.synth && values.stack) {
    console.error(`fleet-local: give --stack or --synth, not both\n${USAGE}`);
    return 2;
  }
  // Stop on a signal to this process, on the death of any wrapper above it (npm, sh, tsx: see
  // lib/e2e/lifeline.ts), on the exit of any process it started, or after --for seconds. Listening
  // starts before the first process does, so a signal during start-up stops it once it is up.
  let stop: (why: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => (stop = resolve));
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => stop(sig));
  watchAncestors(stop);
  console.error(
    `fleet-local: ${values.synth ? `files from ${values.synth}` : `synth --stack ${values.stack ?? "dev"}`}, mapping to 127.0.0.1, starting processes…`,
  );
  const fleet = await LocalFleet.start({ instances, stack: values.stack, synthDir: values.synth });
  const m = fleet.mapping;
  const gw = fleet.gatewayPort;
  const domain = fleet.outputs.domain;
  const sites = fleet.instanceNames.map(
    (_, i) => ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"][i] ?? String(i + 1),
  );
  const lines = [
    "",
    `kantai conventional fleet on loopback (work dir ${fleet.dir}, logs in ${fleet.dir}/logs)`,
    "",
    "  endpoint (rendered)      loopback",
    `  named :53                127.0.0.1:${m.dnsPort}`,
    ...Object.entries(m.endpoints).map(([ep, port]) => {
      const inst = m.instances.find((i) => i.endpoint === ep);
      const role = ep.startsWith(`${m.gateway}:`)
        ? "root proxy"
        : ep.startsWith(`${m.loadBalancer}:`)
          ? "load balancer"
          : `${inst?.name}${fleet.instanceNames.includes(inst?.name ?? "") ? "" : " (not started)"}`;
      return `  ${ep.padEnd(23)}  127.0.0.1:${port}  ${role}`;
    }),
    "",
    "try:",
    `  dig @127.0.0.1 -p ${m.dnsPort} +short ${sites[sites.length - 1]}.standalone.${domain}`,
    `  curl -si -H 'Host: ${sites[sites.length - 1]}.standalone.${domain}' http://127.0.0.1:${gw}/`,
    `  npm run loadtest -- --connect-to 127.0.0.1:${gw} ${sites.map((w, i) => `--target ${i + 1}=http://${w}.standalone.${domain}/`).join(" ")}`,
    "",
    forS ? `stopping in ${forS} s (or Ctrl-C)` : "Ctrl-C stops everything",
  ];
  console.log(lines.join("\n"));
  if (values.ready) {
    fs.writeFileSync(
      values.ready,
      JSON.stringify({ gatewayPort: gw, dnsPort: m.dnsPort, domain, sites, mapping: m, dir: fleet.dir }, null, 2) +
        "\n",
    );
  }
  fleet.onExit((p) => stop(`${p.name} exited (code ${p.exit?.code ?? null}, signal ${p.exit?.signal ?? null})`));
  if (forS) setTimeout(() => stop(`${forS} s elapsed`), forS * 1000);
  const why = await stopRequested;
  console.error(`fleet-local: ${why}; stopping every process it started`);
  await fleet.stop();
  console.error("fleet-local: stopped");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`fleet-local: ${(e as Error).message}`);
    process.exit(1);
  },
);
