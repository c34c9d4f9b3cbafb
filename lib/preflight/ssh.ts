/**
 * What preflight checks on a Proxmox node over SSH: a probe script (POSIX sh, run as kantai:sshUser)
 * and the judgement of its `key=value` output. Pure; scripts/preflight.ts runs it with OpenSSH.
 *
 * Why these: the provider writes cloud-init snippets into the snippets storage's directory over SSH
 * (Proxmox's upload API takes only iso, vztmpl and import content: pve-storage
 * src/PVE/API2/Storage/Status.pm `upload`, "upload content type '$content' not allowed"), and the
 * bpg provider's SSH user must be root or have passwordless sudo (bpg/terraform-provider-proxmox
 * docs/index.md, "When using a non-root user for the SSH connection, the user must have the sudo
 * privilege on the target node without requiring a password"); kantai's NAT and gateway scripts
 * change iptables, sysctl and systemd, which need root too.
 */
import type { Finding } from "./findings";

/** Quote for sh. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The probe for one node. `snippetsDir`: <path of the snippets storage>/snippets, when file-based. */
export function probeScript(snippetsDir?: string): string {
  return [
    'echo "uid=$(id -u)"',
    'if [ "$(id -u)" = 0 ]; then echo "root=yes"; elif sudo -n true 2>/dev/null; then echo "root=sudo"; else echo "root=no"; fi',
    'if command -v pveversion >/dev/null 2>&1; then echo "pveversion=$(pveversion 2>/dev/null | head -n 1)"; else echo "pveversion="; fi',
    'if command -v iptables >/dev/null 2>&1; then echo "iptables=yes"; else echo "iptables=no"; fi',
    'echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null)"',
    ...(snippetsDir
      ? [`if [ -d ${q(snippetsDir)} ]; then echo "snippets_dir=yes"; else echo "snippets_dir=no"; fi`]
      : []),
    "",
  ].join("\n");
}

export function parseProbe(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const m = /^([a-z_]+)=(.*)$/.exec(line.trim());
    if (m) r[m[1]] = m[2];
  }
  return r;
}

export interface SshResult {
  readonly node: string;
  readonly address: string;
  readonly user: string;
  /** ssh's exit status; 255 is ssh's own failure. */
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly snippetsDir?: string;
}

export function sshChecks(r: SshResult): Finding[] {
  const where = `${r.user}@${r.address} (${r.node})`;
  if (r.status !== 0) {
    const err = r.stderr.trim().split("\n").pop() ?? "";
    return [
      {
        level: "error",
        check: "ssh",
        where,
        message: `cannot log in over SSH (exit ${r.status}): ${err || "no output"}`,
        fix: /Permission denied/.test(err)
          ? `append the public half of kantai:sshPrivateKey to ~${r.user}/.ssh/authorized_keys on ${r.node} (ssh-copy-id -i <key>.pub ${r.user}@${r.address})`
          : `check that ${r.address}:22 is reachable from this machine and kantai:proxmoxNodes has the node's address`,
      },
    ];
  }
  const p = parseProbe(r.stdout);
  const out: Finding[] = [];
  if (p.root === "no") {
    out.push({
      level: "error",
      check: "ssh",
      where,
      message: `${r.user} is not root and cannot run sudo without a password: snippet uploads and the NAT/gateway scripts need root`,
      fix: `pulumi config set sshUser root, or on ${r.node}: echo '${r.user} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/kantai`,
    });
  } else {
    out.push({
      level: "ok",
      check: "ssh",
      where,
      message: p.root === "yes" ? "logged in as root" : "logged in; sudo -n works",
    });
  }
  if (!p.pveversion) {
    out.push({
      level: "error",
      check: "ssh",
      where,
      message: "pveversion not found: this host is not a Proxmox VE node",
      fix: "check kantai:proxmoxNodes[].address",
    });
  }
  if (p.iptables === "no") {
    out.push({
      level: "error",
      check: "ssh",
      where,
      message: "iptables is not installed: the NAT rule cannot be added",
      fix: "apt-get install iptables",
    });
  }
  if (r.snippetsDir && p.snippets_dir === "no") {
    out.push({
      level: "error",
      check: "ssh",
      where,
      message: `${r.snippetsDir} does not exist: cloud-init snippets cannot be written`,
      fix: `enable the snippets content type on the storage (pvesm set <storage> --content …,snippets creates it) or mkdir -p ${r.snippetsDir}`,
    });
  }
  return out;
}
