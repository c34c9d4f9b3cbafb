// Entry point of the stand-in provider plugins (scripts/engine.sh writes the
// `pulumi-resource-<name>` wrappers that run this file).
//
//   main.ts <name> [engine args...]         serve stand-in provider <name>
//   main.ts --prepare-shapes <name>...      read and cache the SDKs' declared shapes
import { commandBehaviour } from "./command";
import { randomBehaviour } from "./random";
import { makeProvider, shapesFor, type StandinSpec } from "./standin";

export const STANDINS: Record<string, StandinSpec> = {
  command: { name: "command", npm: "@pulumi/command", behaviour: commandBehaviour },
  random: { name: "random", npm: "@pulumi/random", behaviour: randomBehaviour },
  proxmoxve: { name: "proxmoxve", npm: "@muhlba91/pulumi-proxmoxve" },
  kubernetes: { name: "kubernetes", npm: "@pulumi/kubernetes" },
  cloudflare: { name: "cloudflare", npm: "@pulumi/cloudflare" },
};

async function mainEntry(argv: string[]): Promise<void> {
  if (argv[0] === "--prepare-shapes") {
    for (const name of argv.slice(1)) {
      const spec = STANDINS[name];
      if (!spec) throw new Error(`unknown stand-in ${name}`);
      const t0 = Date.now();
      const s = shapesFor(spec);
      const ms = Date.now() - t0;
      if (ms > 500) {
        console.error(`engine: read ${spec.npm}@${s.version} shapes (${Object.keys(s.resources).length} resources) in ${ms} ms`);
      }
    }
    return;
  }
  const spec = STANDINS[argv[0]];
  if (!spec) throw new Error(`unknown stand-in provider ${argv[0]}`);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { main } = require("@pulumi/pulumi/provider");
  await main(makeProvider(spec), argv.slice(1));
}

mainEntry(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
