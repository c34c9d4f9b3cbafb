/**
 * cloud-init user-data rendering. Pure: returns text, creates nothing.
 *
 * Security rules baked in (the seed's `ubuntu/ubuntu` is exactly what kantai must not do):
 * SSH keys only (`ssh_pwauth: false`), the default user's password locked, root login disabled.
 */
import { stringify } from "yaml";

export interface CloudInitFile {
  /** Absolute path on the guest. */
  readonly path: string;
  /** File content. */
  readonly content: string;
  /** Octal mode. Defaults to "0644". */
  readonly permissions?: string;
  /** Owner. Defaults to "root:root". */
  readonly owner?: string;
}

export interface CloudInitSpec {
  /** Guest host name (a DNS label). */
  readonly hostname: string;
  /** Fully qualified name; defaults to `<hostname>.<domain>` when a domain is given. */
  readonly domain?: string;
  /** Login user created with the SSH keys. Defaults to "ubuntu" (the cloud image's default user). */
  readonly user?: string;
  /** Public SSH keys authorised for the user. At least one is required. */
  readonly sshAuthorizedKeys: readonly string[];
  /** Debian/Ubuntu packages to install on first boot. */
  readonly packages?: readonly string[];
  /** Files written before packages are installed. */
  readonly files?: readonly CloudInitFile[];
  /** Commands run once on first boot, in order (argv arrays, no shell unless the command asks for one). */
  readonly runcmd?: readonly (readonly string[])[];
}

/** Packages every kantai VM gets (seed 000: git, make, curl, Docker; plus the QEMU guest agent). */
export const BASE_PACKAGES: readonly string[] = ["qemu-guest-agent", "git", "make", "curl", "docker.io"];

/** Render `#cloud-config` user-data. Deterministic: the same spec gives the same bytes. */
export function renderUserData(spec: CloudInitSpec): string {
  if (spec.sshAuthorizedKeys.length === 0) {
    throw new Error(
      `cloud-init for ${spec.hostname}: at least one SSH public key is required (password login is disabled)`,
    );
  }
  const user = spec.user ?? "ubuntu";
  const doc: Record<string, unknown> = {
    hostname: spec.hostname,
    ...(spec.domain ? { fqdn: `${spec.hostname}.${spec.domain}`, prefer_fqdn_over_hostname: false } : {}),
    manage_etc_hosts: true,
    users: [
      {
        name: user,
        groups: ["sudo", "docker"],
        shell: "/bin/bash",
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        lock_passwd: true,
        ssh_authorized_keys: [...spec.sshAuthorizedKeys],
      },
    ],
    ssh_pwauth: false,
    disable_root: true,
    package_update: true,
    packages: [...(spec.packages ?? [])],
  };
  if (spec.files && spec.files.length > 0) {
    doc.write_files = spec.files.map((f) => ({
      path: f.path,
      content: f.content,
      permissions: f.permissions ?? "0644",
      owner: f.owner ?? "root:root",
    }));
  }
  if (spec.runcmd && spec.runcmd.length > 0) doc.runcmd = spec.runcmd.map((c) => [...c]);
  return "#cloud-config\n" + stringify(doc, { lineWidth: 0 });
}

/** A systemd unit that runs one container with Docker, restarted like the seed's `restart: unless-stopped`. */
export interface ContainerUnitSpec {
  /** Unit and container name, e.g. "kantai-web". */
  readonly name: string;
  /** Human description. */
  readonly description: string;
  /** Image reference, e.g. "node:22-alpine". */
  readonly image: string;
  /** Extra `docker run` arguments (ports, volumes, env), one argv element each. */
  readonly runArgs: readonly string[];
  /** Command inside the container. */
  readonly command?: readonly string[];
}

/** Render a systemd unit wrapping `docker run` for one container. */
export function renderContainerUnit(u: ContainerUnitSpec): string {
  const quote = (a: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `"${a.replace(/(["\\$`])/g, "\\$1")}"`);
  const run = ["/usr/bin/docker", "run", "--rm", "--name", u.name, ...u.runArgs, u.image, ...(u.command ?? [])]
    .map(quote)
    .join(" ");
  return [
    "[Unit]",
    `Description=${u.description}`,
    "After=docker.service network-online.target",
    "Requires=docker.service",
    "Wants=network-online.target",
    "",
    "[Service]",
    `ExecStartPre=-/usr/bin/docker rm -f ${u.name}`,
    `ExecStart=${run}`,
    `ExecStop=/usr/bin/docker stop ${u.name}`,
    "Restart=always",
    "RestartSec=2",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** Identity and access part of a VM's user-data. */
export interface VmIdentity {
  readonly hostname: string;
  readonly domain: string;
  /** Login user. Defaults to "ubuntu". */
  readonly user?: string;
  readonly sshAuthorizedKeys: readonly string[];
}

/**
 * User-data for a VM whose job is one containerised service: base packages, the given files, the
 * service's systemd unit, and first-boot commands that enable the guest agent and the service.
 * With `startService: false` the unit is installed but not started: its configuration arrives
 * later over SSH (day-2 content that must not replace the VM, docs/decisions/0009).
 */
export function renderContainerHostUserData(
  id: VmIdentity,
  unit: ContainerUnitSpec,
  files: readonly CloudInitFile[],
  opts: { readonly startService?: boolean } = {},
): string {
  return renderUserData({
    ...id,
    packages: BASE_PACKAGES,
    files: [...files, { path: `/etc/systemd/system/${unit.name}.service`, content: renderContainerUnit(unit) }],
    runcmd: [
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "qemu-guest-agent"],
      ...((opts.startService ?? true) ? [["systemctl", "enable", "--now", `${unit.name}.service`]] : []),
    ],
  });
}
