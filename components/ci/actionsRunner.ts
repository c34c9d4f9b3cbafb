import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderActionsRunnerUserData, RUNNER_PATHS } from "../../lib/render/actionsRunner";
import type { Artifact } from "../artifact";
import { DIAL_PATIENT, sshConnection } from "../k8s/connections";
import { bridgeVmPlacement, ClonedVm, type BridgeVmArgs } from "../proxmox/clonedVm";

/** The runner VM (`user` is its admin login) and the repository it serves. */
export interface ActionsRunnerArgs extends BridgeVmArgs {
  /** Repository served, `owner/name`. */
  readonly repository: string;
  /** Custom runner labels (GitHub adds self-hosted, Linux, X64). */
  readonly labels: readonly string[];
  /** GitHub REST API base URL. */
  readonly apiUrl: string;
  /**
   * Fine-grained GitHub token with "Administration: read and write" on `repository` (a secret).
   * It reaches the VM over SSH on stdin, into a root-only file; never into user-data, logs or outputs.
   */
  readonly githubToken: pulumi.Input<string>;
}

/**
 * The lab's self-hosted GitHub Actions runner: a VM cloned from the template that runs one
 * just-in-time runner per job (lib/render/actionsRunner.ts), so previews and deployments run where
 * the Proxmox API, the SSH hosts and the cluster APIs are reachable.
 */
export class ActionsRunner extends pulumi.ComponentResource {
  public readonly vm: ClonedVm;
  /** Writes the GitHub token onto the VM (again when the VM is replaced; an update when the token changes). */
  public readonly token: command.remote.Command;
  public readonly ip: string;
  public readonly labels: readonly string[];
  public readonly artifacts: Artifact[];

  constructor(name: string, args: ActionsRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("kantai:ci:ActionsRunner", name, {}, opts);
    const userData = renderActionsRunnerUserData({
      identity: {
        hostname: args.hostname,
        domain: args.dns.domain,
        user: args.user,
        sshAuthorizedKeys: args.sshAuthorizedKeys,
      },
      repository: args.repository,
      labels: args.labels,
      apiUrl: args.apiUrl,
    });
    this.vm = new ClonedVm(
      `${name}-vm`,
      {
        ...bridgeVmPlacement(args),
        userData,
        artifactPath: `${name}/${args.hostname}.user-data.yaml`,
        tags: ["kantai", "ci"],
      },
      { parent: this },
    );
    const dir = RUNNER_PATHS.token.replace(/\/[^/]+$/, "");
    const write = [
      // The first boot installs the runner; wait for it so the file lands beside a finished install.
      "cloud-init status --wait >/dev/null || true",
      `sudo -n install -d -m 0700 -o root -g root ${dir}`,
      `sudo -n install -m 0600 -o root -g root /dev/stdin ${RUNNER_PATHS.token}`,
    ].join(" && ");
    this.token = new command.remote.Command(
      `${name}-token`,
      {
        connection: sshConnection(
          { host: args.ip, user: args.user, jump: args.jump },
          args.sshPrivateKey,
          DIAL_PATIENT,
        ),
        create: write,
        update: write,
        delete: `sudo -n rm -f ${RUNNER_PATHS.token}`,
        stdin: pulumi.secret(args.githubToken),
        logging: "stderr",
      },
      // A replaced VM is a new machine without the token: write it again. (Its ID and address stay
      // the same, so no input of this command changes; replaceWith ties the command to the VM:
      // https://www.pulumi.com/docs/iac/concepts/resources/options/replacewith/.)
      { parent: this, dependsOn: [this.vm], replaceWith: [this.vm.vm], additionalSecretOutputs: ["stdin"] },
    );
    this.ip = args.ip;
    this.labels = ["self-hosted", ...args.labels];
    this.artifacts = [...this.vm.artifacts];
    this.registerOutputs({ ip: this.ip, labels: this.labels });
  }
}
