import * as proxmox from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { Artifact } from "../artifact";

export interface CloudImageArgs {
  /** Node to download to. */
  readonly node: string;
  /** Datastore with the Import content type. Seed: "local". */
  readonly datastore: string;
  /** Image URL. */
  readonly url: string;
  /** File name on the datastore: ".qcow2", ".raw", ".vmdk" or ".ova" (the `import` content type's extensions). */
  readonly fileName: string;
  /** Expected checksum; omitted means no verification. */
  readonly checksum?: string;
  /** Algorithm of `checksum` (kantai:image.checksumAlgorithm; default in stacks/config/proxmox.ts). */
  readonly checksumAlgorithm: string;
}

/** A cloud image downloaded by the Proxmox node into a datastore, ready for `disks[].importFrom`. */
export class CloudImage extends pulumi.ComponentResource {
  public readonly file: proxmox.download.File;
  /** Volume id, e.g. "local:import/jammy-server-cloudimg-amd64.qcow2". */
  public readonly fileId: pulumi.Output<string>;
  /** None: the node downloads the image itself; kantai renders no file for it. */
  public readonly artifacts: Artifact[] = [];

  constructor(name: string, args: CloudImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:proxmox:CloudImage", name, {}, opts);
    this.file = new proxmox.download.File(
      `${name}-file`,
      {
        nodeName: args.node,
        datastoreId: args.datastore,
        contentType: "import",
        url: args.url,
        fileName: args.fileName,
        ...(args.checksum ? { checksum: args.checksum, checksumAlgorithm: args.checksumAlgorithm } : {}),
        overwrite: false,
        uploadTimeout: 1800,
      },
      // The stored name is fixed by config: a replacement (new URL or checksum) must remove the old
      // file before downloading the new one under the same name.
      { parent: this, deleteBeforeReplace: true },
    );
    this.fileId = this.file.id;
    this.registerOutputs({ fileId: this.fileId });
  }
}
