// Entry point of the stand-in provider plugins (scripts/engine.sh writes the
// `pulumi-resource-<name>` wrappers that run this file).
//
//   main.ts <name> [engine args...]         serve stand-in provider <name>
//   main.ts --prepare-shapes <name>...      read and cache the SDKs' declared shapes
import { commandBehaviour } from "./command";
import { randomBehaviour } from "./random";
import { makeProvider, shapesFor, type StandinProvider, type StandinSpec } from "./standin";

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
        console.error(
          `engine: read ${spec.npm}@${s.version} shapes (${Object.keys(s.resources).length} resources) in ${ms} ms`,
        );
      }
    }
    return;
  }
  const spec = STANDINS[argv[0]];
  if (!spec) throw new Error(`unknown stand-in provider ${argv[0]}`);
  const provider = makeProvider(spec);
  serveCheckConfig(provider);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { main } = require("@pulumi/pulumi/provider");
  await main(provider, argv.slice(1));
}

/**
 * @pulumi/pulumi/provider answers CheckConfig with Unimplemented (the engine then skips
 * it). Install our own handler on the service implementation it registers, so that the
 * provider resource's inputs are checked like any resource's.
 */
function serveCheckConfig(provider: StandinProvider): void {
  const path = require("node:path") as typeof import("node:path");
  const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] }));
  const provproto = require(path.join(sdkDir, "proto", "provider_pb"));
  const structproto = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [sdkDir] }));
  const addService = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service: unknown, impl: any) {
    if (impl && typeof impl.checkConfig === "function") {
      impl.checkConfig = (call: any, callback: any) => {
        const req = call.request;
        provider
          .checkConfig(req.getUrn(), req.getOlds()?.toJavaScript() ?? {}, req.getNews()?.toJavaScript() ?? {})
          .then(({ inputs, failures }) => {
            const resp = new provproto.CheckResponse();
            resp.setInputs(structproto.Struct.fromJavaScript(inputs));
            resp.setFailuresList(
              failures.map((f) => {
                const cf = new provproto.CheckFailure();
                cf.setProperty(f.property);
                cf.setReason(f.reason);
                return cf;
              }),
            );
            callback(undefined, resp);
          })
          .catch((err: Error) => callback(err, undefined));
      };
    }
    return addService.call(this, service, impl);
  };
}

mainEntry(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
