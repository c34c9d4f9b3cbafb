/**
 * SIMULATED provider behaviour for offline synth and tests (Pulumi's mock runtime).
 * No cloud is contacted. Ids imitate the real providers' formats so that references between
 * resources (a download's volume id in `disks[].importFrom`, a snippet's id in
 * `initialization.userDataFileId`) look like they will after `pulumi up`.
 */
import type * as pulumi from "@pulumi/pulumi";

type Inputs = Record<string, unknown>;

/** The inputs the ids and states below read, typed as the providers take them. */
interface Read {
  readonly datastoreId?: string;
  readonly contentType?: string;
  readonly fileName?: string;
  readonly sourceRaw?: { readonly fileName?: string };
  readonly vmId?: number;
  /** random's `length`. */
  readonly length?: number;
}

function mockId(type: string, name: string, all: Inputs): string {
  const inputs = all as Read;
  switch (type) {
    case "proxmoxve:download/file:File":
      return `${inputs.datastoreId}:${inputs.contentType}/${inputs.fileName}`;
    case "proxmoxve:index/fileLegacy:FileLegacy":
      return `${inputs.datastoreId}:${inputs.contentType ?? "snippets"}/${inputs.sourceRaw?.fileName ?? name}`;
    case "proxmoxve:index/vmLegacy:VmLegacy":
      return String(inputs.vmId ?? name);
    default:
      return `${name}-id`;
  }
}

/** Outputs a real provider would add, where later code reads them. */
function mockState(type: string, name: string, inputs: Inputs): Inputs {
  const length = (inputs as Read).length;
  switch (type) {
    case "command:remote:Command":
    case "command:local:Command":
      return { ...inputs, stdout: "", stderr: "" };
    case "random:index/randomPassword:RandomPassword":
    case "random:index/randomString:RandomString":
      return { ...inputs, result: `synth-${name}-${"x".repeat(Math.max(0, (length ?? 16) - name.length - 6))}` };
    case "random:index/randomBytes:RandomBytes":
      return {
        ...inputs,
        base64: Buffer.alloc(length ?? 32, 7).toString("base64"),
        hex: Buffer.alloc(length ?? 32, 7).toString("hex"),
      };
    default:
      return inputs;
  }
}

export const synthMocks: pulumi.runtime.Mocks = {
  newResource(args: pulumi.runtime.MockResourceArgs) {
    return { id: mockId(args.type, args.name, args.inputs), state: mockState(args.type, args.name, args.inputs) };
  },
  call(args: pulumi.runtime.MockCallArgs) {
    return args.inputs;
  },
};
