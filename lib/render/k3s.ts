/**
 * K3s node configuration and the scripts that prepare, install and check K3s nodes over SSH.
 * Pure: returns text, creates nothing. Scripts follow lib/render/remoteShell.ts: POSIX sh,
 * idempotent, bounded waits, failures name host and step.
 *
 * K3s reads `/etc/rancher/k3s/config.yaml` (every CLI flag has a key of the same name), so the
 * flags live in one rendered file and the install script only installs, restarts on change and
 * waits. The join token never appears in a script: it arrives on standard input and is written
 * to a root-only file named by `token-file`.
 */
import { stringify } from "yaml";
import { BASE_PACKAGES, renderUserData } from "./cloudInit";
import { HEREDOC_TAG, preamble, putFile, shq } from "./remoteShell";

/** Kernel command-line flags K3s needs on Raspberry Pi OS (memory cgroup). */
export const PI_CGROUP_FLAGS: readonly string[] = ["cgroup_memory=1", "cgroup_enable=memory"];

/** Where the join token is written on every node. */
export const K3S_TOKEN_FILE = "/etc/rancher/k3s/kantai-token";
export const K3S_CONFIG_FILE = "/etc/rancher/k3s/config.yaml";
export const K3S_KUBECONFIG_FILE = "/etc/rancher/k3s/k3s.yaml";
/** Port of the Kubernetes API on K3s servers. */
export const K3S_API_PORT = 6443;

export type K3sRole = "server" | "agent";
export type FlannelBackend = "vxlan" | "wireguard-native" | "host-gw";

export interface K3sNodeConfigSpec {
  readonly nodeName: string;
  readonly role: K3sRole;
  /** `https://<address>:6443` of the server to join; absent on the first server. */
  readonly server?: string;
  /** First server of a cluster with embedded etcd (more than one server). */
  readonly clusterInit: boolean;
  /** Address on the node's own network (`--node-ip`). */
  readonly nodeIp: string;
  /** Address other sites reach the node at (`--node-external-ip`). */
  readonly nodeExternalIp?: string;
  /** Servers only: flannel backend; "wireguard-native" encrypts pod traffic between sites. */
  readonly flannelBackend: FlannelBackend;
  /** Servers only: extra names/addresses in the API certificate. */
  readonly tlsSans: readonly string[];
  /** Servers only: packaged components to leave out (e.g. "servicelb"). */
  readonly disable: readonly string[];
  /** Labels applied when the node registers (`key=value`, in key order). */
  readonly labels: Readonly<Record<string, string>>;
  /** Taints applied when the node registers (`key=value:Effect`). */
  readonly taints: readonly string[];
  /** Servers with embedded etcd: scheduled snapshots (https://docs.k3s.io/cli/etcd-snapshot). */
  readonly etcdSnapshots?: K3sEtcdSnapshots;
}

/** Scheduled etcd snapshots and their optional S3-compatible target (credentials come separately, on stdin). */
export interface K3sEtcdSnapshots {
  /** `etcd-snapshot-schedule-cron`, a cron expression (K3s default: every 12 hours). */
  readonly schedule: string;
  /** `etcd-snapshot-retention`: snapshots kept. */
  readonly retention: number;
  readonly s3?: {
    readonly endpoint: string;
    readonly bucket: string;
    readonly region?: string;
    readonly folder?: string;
  };
}

/** The node's `/etc/rancher/k3s/config.yaml`. Deterministic. Contains no secret. */
export function renderK3sConfig(s: K3sNodeConfigSpec): string {
  const doc: Record<string, unknown> = { "token-file": K3S_TOKEN_FILE };
  if (s.server) doc.server = s.server;
  doc["node-name"] = s.nodeName;
  doc["node-ip"] = s.nodeIp;
  if (s.nodeExternalIp) doc["node-external-ip"] = s.nodeExternalIp;
  if (s.role === "server") {
    if (s.clusterInit) doc["cluster-init"] = true;
    doc["flannel-backend"] = s.flannelBackend;
    // K3s' recipe for nodes on different networks: flannel talks to the external addresses.
    if (s.nodeExternalIp && s.flannelBackend === "wireguard-native") doc["flannel-external-ip"] = true;
    if (s.tlsSans.length > 0) doc["tls-san"] = [...s.tlsSans];
    if (s.disable.length > 0) doc.disable = [...s.disable];
    doc["write-kubeconfig-mode"] = "0600";
    if (s.etcdSnapshots) {
      doc["etcd-snapshot-schedule-cron"] = s.etcdSnapshots.schedule;
      doc["etcd-snapshot-retention"] = s.etcdSnapshots.retention;
      const s3 = s.etcdSnapshots.s3;
      if (s3) {
        doc["etcd-s3"] = true;
        doc["etcd-s3-endpoint"] = s3.endpoint;
        doc["etcd-s3-bucket"] = s3.bucket;
        if (s3.region) doc["etcd-s3-region"] = s3.region;
        if (s3.folder) doc["etcd-s3-folder"] = s3.folder;
      }
    }
  }
  const labels = Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${s.labels[k]}`);
  if (labels.length > 0) doc["node-label"] = labels;
  if (s.taints.length > 0) doc["node-taint"] = [...s.taints];
  return `# kantai: K3s ${s.role} ${s.nodeName}. Rendered by kantai; do not edit.\n` + stringify(doc, { lineWidth: 0 });
}

/**
 * A shell function `kantai_cmdline_edit FILE FLAG…`: appends each missing FLAG to the one-line
 * kernel command line in FILE (keeping a one-time backup) and prints "changed" or "unchanged".
 * Flags already present, anywhere on the line, are left alone — so a second run prints "unchanged".
 */
export function renderCmdlineEditFunction(): string {
  return [
    "kantai_cmdline_edit() {",
    '  file="$1"',
    "  shift",
    '  line=$(head -n 1 "$file")',
    '  new="$line"',
    '  for flag in "$@"; do',
    '    case " $new " in',
    '      *" $flag "*) ;;',
    '      *) new="$new $flag" ;;',
    "    esac",
    "  done",
    '  if [ "$new" = "$line" ]; then',
    "    echo unchanged",
    "    return 0",
    "  fi",
    '  [ -e "$file.kantai-orig" ] || cp -p "$file" "$file.kantai-orig"',
    '  printf \'%s\\n\' "$new" > "$file.kantai-new"',
    '  mv -f "$file.kantai-new" "$file"',
    "  echo changed",
    "}",
  ].join("\n");
}

/** A standalone script running the cmdline edit on `$1` (what tests run twice on a temp file). */
export function renderCmdlineEditScript(flags: readonly string[] = PI_CGROUP_FLAGS): string {
  return [
    "#!/bin/sh",
    "# kantai: add kernel flags to a cmdline.txt given as $1.",
    "set -eu",
    renderCmdlineEditFunction(),
    `kantai_cmdline_edit "$1" ${flags.map(shq).join(" ")}`,
    "",
  ].join("\n");
}

export interface K3sPrepareSpec {
  /** How messages name the host, e.g. "pi-1 (192.168.1.20)". */
  readonly host: string;
  /** Raspberry Pi OS: memory cgroup flags in cmdline.txt, reboot when the running kernel lacks them. */
  readonly raspberryPi: boolean;
  /** iptables-legacy: true = always, false = never, undefined = where needed (Debian stretch/buster). */
  readonly iptablesLegacy?: boolean;
  /** Load the wireguard module now and at boot (flannel's wireguard-native backend). */
  readonly wireguard: boolean;
  /** Wait for cloud-init to finish first (VMs cloned from a template). */
  readonly cloudInit: boolean;
  /** Seconds to wait for cloud-init. Defaults to 900. */
  readonly cloudInitTimeout?: number;
}

/**
 * Prepare a host for K3s. On a Raspberry Pi whose running kernel lacks the cgroup flags, the
 * script edits cmdline.txt and schedules a reboot; before it returns it stops sshd from taking
 * new logins (this session survives: Debian's ssh.service kills only the listener), so the
 * next step's SSH connection can only reach the rebooted host.
 */
export function renderK3sPrepare(s: K3sPrepareSpec): string {
  const out: string[] = [preamble("K3s host preparation", s.host, { put: s.wireguard })];
  if (s.cloudInit) {
    out.push(
      'step "wait for cloud-init to finish"',
      "if command -v cloud-init >/dev/null 2>&1; then",
      `  timeout ${s.cloudInitTimeout ?? 900} cloud-init status --wait >/dev/null || [ "$?" -eq 2 ]`,
      "fi",
    );
  }
  out.push(
    'step "install curl"',
    "if ! command -v curl >/dev/null 2>&1; then",
    "  export DEBIAN_FRONTEND=noninteractive",
    "  timeout 600 apt-get update -q",
    "  timeout 600 apt-get install -y -q curl",
    "fi",
  );
  if (s.iptablesLegacy !== false) {
    const want =
      s.iptablesLegacy === true
        ? ["want_legacy=1"]
        : [
            "codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null || true)",
            'case "$codename" in',
            "  stretch|buster) want_legacy=1 ;;",
            "  *) want_legacy=0 ;;",
            "esac",
          ];
    out.push(
      'step "iptables backend"',
      ...want,
      'if [ "$want_legacy" = 1 ] && ! iptables --version 2>/dev/null | grep -q legacy; then',
      "  if ! command -v iptables-legacy >/dev/null 2>&1; then",
      "    export DEBIAN_FRONTEND=noninteractive",
      "    timeout 600 apt-get update -q",
      "    timeout 600 apt-get install -y -q iptables",
      "  fi",
      "  update-alternatives --set iptables /usr/sbin/iptables-legacy",
      "  update-alternatives --set ip6tables /usr/sbin/ip6tables-legacy",
      "fi",
    );
  }
  if (s.wireguard) {
    out.push(
      'step "wireguard kernel module"',
      putFile("/etc/modules-load.d/kantai-wireguard.conf", "wireguard\n", "0644"),
      "if ! grep -q '^wireguard ' /proc/modules; then modprobe wireguard; fi",
    );
  }
  if (s.raspberryPi) {
    out.push(
      'step "memory cgroup flags in cmdline.txt"',
      renderCmdlineEditFunction(),
      "if [ -f /boot/firmware/cmdline.txt ]; then",
      "  cmdline=/boot/firmware/cmdline.txt",
      "elif [ -f /boot/cmdline.txt ]; then",
      "  cmdline=/boot/cmdline.txt",
      "else",
      '  echo "kantai: $KANTAI_HOST: neither /boot/firmware/cmdline.txt nor /boot/cmdline.txt exists (is this Raspberry Pi OS?)" >&2',
      "  exit 1",
      "fi",
      `kantai_cmdline_edit "$cmdline" ${PI_CGROUP_FLAGS.map(shq).join(" ")} >/dev/null`,
      "running=$(cat /proc/cmdline)",
      "reboot_needed=0",
      `for flag in ${PI_CGROUP_FLAGS.map(shq).join(" ")}; do`,
      '  case " $running " in',
      '    *" $flag "*) ;;',
      "    *) reboot_needed=1 ;;",
      "  esac",
      "done",
      'if [ "$reboot_needed" = 1 ]; then',
      '  step "reboot to apply the kernel command line"',
      "  systemctl stop ssh.socket 2>/dev/null || true",
      "  systemctl stop ssh.service 2>/dev/null || systemctl stop sshd.service 2>/dev/null || true",
      "  systemd-run --on-active=3 --unit=kantai-reboot /bin/systemctl reboot >/dev/null",
      '  echo "kantai: $KANTAI_HOST: rebooting; the next step waits for the host to come back" >&2',
      "fi",
      // stdout (the boot id and whether a reboot is under way) triggers the boot check.
      'echo "boot $(cat /proc/sys/kernel/random/boot_id) reboot=$reboot_needed"',
    );
  }
  out.push("");
  return out.join("\n");
}

/**
 * Run after a possible reboot (its SSH connection retries until the host answers): check that
 * the running kernel has the cgroup flags and the memory controller is enabled.
 */
export function renderK3sBootCheck(host: string): string {
  return [
    preamble("K3s host boot check", host, { wait: true }),
    'step "kernel command line"',
    "running=$(cat /proc/cmdline)",
    `for flag in ${PI_CGROUP_FLAGS.map(shq).join(" ")}; do`,
    '  case " $running " in',
    '    *" $flag "*) ;;',
    '    *) echo "kantai: $KANTAI_HOST: $flag is not on the running kernel command line; reboot the host and run pulumi up again" >&2; exit 1 ;;',
    "  esac",
    "done",
    'step "memory cgroup controller"',
    "memory_cgroup() {",
    "  awk '$1 == \"memory\" && $4 == 1 { found = 1 } END { exit !found }' /proc/cgroups",
    "}",
    'kantai_wait 300 "the memory cgroup controller" memory_cgroup',
    "",
  ].join("\n");
}

export interface K3sInstallSpec {
  readonly host: string;
  readonly nodeName: string;
  readonly role: K3sRole;
  /** The rendered config.yaml (renderK3sConfig). */
  readonly config: string;
  /**
   * Two more lines on stdin after the token, the S3 access and secret key: appended to config.yaml
   * as `etcd-s3-access-key`/`etcd-s3-secret-key` at run time (the file is 0600; no script, artifact
   * or log holds them).
   */
  readonly s3Credentials?: boolean;
  /** A static pod manifest (kube-vip) written to K3s' pod-manifests directory. */
  readonly staticPod?: { readonly name: string; readonly content: string };
  /** Seconds to wait for the node (server) or the agent service. Defaults to 300. */
  readonly timeout?: number;
}

/** The install script of a pinned release: the tag's own install.sh, which checks the binary's sha256. */
export function k3sInstallScriptUrl(version: string): string {
  return `https://raw.githubusercontent.com/k3s-io/k3s/${encodeURIComponent(version)}/install.sh`;
}

const nodeReadyFunction = [
  "node_ready() {",
  '  k3s kubectl get node "$1" -o \'jsonpath={.status.conditions[?(@.type=="Ready")].status}\' 2>/dev/null | grep -qx True',
  "}",
].join("\n");

/**
 * Configure one node: token (from stdin), config (and S3 credentials) and a static pod written
 * only when they differ. K3s itself — its version — is the node's upgrade step's (renderK3sUpgrade,
 * lib/render/k3sDay2.ts): a version bump changes no configure step. When K3s is already installed,
 * a changed file restarts it and the script waits for the node (server) or the agent service.
 */
export function renderK3sInstall(s: K3sInstallSpec): string {
  const unit = s.role === "server" ? "k3s" : "k3s-agent";
  const timeout = s.timeout ?? 300;
  const out = [
    preamble(`K3s ${s.role} configuration`, s.host, { put: true, wait: true }),
    'step "join token (standard input)"',
    "token=''",
    "IFS= read -r token || true",
    'if [ -z "$token" ]; then',
    '  echo "kantai: $KANTAI_HOST: no join token on standard input" >&2',
    "  exit 1",
    "fi",
    "changed=0",
    `if printf '%s\\n' "$token" | kantai_put ${shq(K3S_TOKEN_FILE)} 0600; then changed=1; fi`,
    "unset token",
  ];
  if (s.s3Credentials) {
    out.push(
      'step "S3 credentials (standard input)"',
      "s3_access=''",
      "s3_secret=''",
      "IFS= read -r s3_access || true",
      "IFS= read -r s3_secret || true",
      'for v in "$s3_access" "$s3_secret"; do',
      '  case "$v" in',
      '    "" | *[!A-Za-z0-9+/=._-]*)',
      '      echo "kantai: $KANTAI_HOST: the S3 access and secret key on standard input must be non-empty and use only A-Z a-z 0-9 + / = . _ -" >&2',
      "      exit 1",
      "      ;;",
      "  esac",
      "done",
    );
  }
  out.push('step "configuration"');
  if (s.s3Credentials) {
    if (s.config.split("\n").includes(HEREDOC_TAG)) throw new Error(`renderK3sInstall: config contains ${HEREDOC_TAG}`);
    out.push(
      "umask 077",
      "if {",
      `  cat <<'${HEREDOC_TAG}'`,
      (s.config.endsWith("\n") ? s.config : s.config + "\n") + HEREDOC_TAG,
      '  printf \'etcd-s3-access-key: "%s"\\netcd-s3-secret-key: "%s"\\n\' "$s3_access" "$s3_secret"',
      `} | kantai_put ${shq(K3S_CONFIG_FILE)} 0600; then`,
      "  changed=1",
      "fi",
      "unset s3_access s3_secret",
    );
  } else {
    out.push(putFile(K3S_CONFIG_FILE, s.config, "0600", ["changed=1"]));
  }
  if (s.staticPod) {
    out.push(
      `step ${shq(`static pod ${s.staticPod.name}`)}`,
      putFile(`/var/lib/rancher/k3s/agent/pod-manifests/${s.staticPod.name}.yaml`, s.staticPod.content, "0600"),
    );
  }
  out.push(
    'step "apply to a running K3s"',
    "if ! command -v k3s >/dev/null 2>&1; then",
    '  echo "kantai: $KANTAI_HOST: K3s is not installed yet: the upgrade step installs it" >&2',
    "  exit 0",
    "fi",
    'if [ "$changed" = 1 ]; then',
    `  systemctl restart ${unit}`,
    `elif ! systemctl is-active --quiet ${unit}; then`,
    `  systemctl start ${unit}`,
    "fi",
  );
  if (s.role === "server") {
    out.push(
      `step "wait for node ${s.nodeName} to be Ready"`,
      nodeReadyFunction,
      `kantai_wait ${timeout} ${shq(`node ${s.nodeName} to be Ready`)} node_ready ${shq(s.nodeName)}`,
    );
  } else {
    out.push(
      `step "wait for ${unit} to be active"`,
      `kantai_wait ${timeout} ${shq(`${unit} to be active`)} systemctl is-active --quiet ${unit}`,
    );
  }
  out.push("");
  return out.join("\n");
}

/** Remove K3s from a node (the uninstall script K3s' installer leaves behind). */
export function renderK3sUninstall(host: string, role: K3sRole): string {
  const script = role === "server" ? "/usr/local/bin/k3s-uninstall.sh" : "/usr/local/bin/k3s-agent-uninstall.sh";
  return [
    "#!/bin/sh",
    `# kantai: remove K3s from ${host.replace(/[\n\r]/g, " ")}. Rendered by kantai; do not edit.`,
    "set -u",
    `if [ -x ${script} ]; then ${script}; fi`,
    `rm -f ${shq(K3S_TOKEN_FILE)} ${shq(K3S_CONFIG_FILE)}`,
    "",
  ].join("\n");
}

export interface K3sNodesSpec {
  readonly host: string;
  /** Every node: name, labels (applied with --overwrite) and taints. */
  readonly nodes: readonly {
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly taints: readonly string[];
  }[];
  /** Seconds to wait for each node. Defaults to 600. */
  readonly timeout?: number;
}

/**
 * On the first server, once every node is installed: wait until each is Ready, then apply labels
 * and taints with --overwrite (K3s applies its flags only when a node first registers; this keeps
 * them in step with config later). Unchanged labels and taints are left as they are.
 */
export function renderK3sNodes(s: K3sNodesSpec): string {
  const out = [preamble("K3s cluster nodes", s.host, { wait: true }), nodeReadyFunction];
  for (const n of s.nodes) {
    out.push(
      `step ${shq(`wait for node ${n.name} to be Ready`)}`,
      `kantai_wait ${s.timeout ?? 600} ${shq(`node ${n.name} to be Ready`)} node_ready ${shq(n.name)}`,
    );
  }
  for (const n of s.nodes) {
    const labels = Object.keys(n.labels)
      .sort()
      .map((k) => shq(`${k}=${n.labels[k]}`));
    out.push(`step ${shq(`labels and taints of ${n.name}`)}`);
    if (labels.length > 0) out.push(`k3s kubectl label node ${shq(n.name)} --overwrite ${labels.join(" ")} >/dev/null`);
    if (n.taints.length > 0)
      out.push(`k3s kubectl taint node ${shq(n.name)} --overwrite ${n.taints.map(shq).join(" ")} >/dev/null`);
  }
  out.push("");
  return out.join("\n");
}

/** Print the server's kubeconfig (K3s writes it with the API at 127.0.0.1; kantai rewrites it). */
export function renderK3sKubeconfigRead(host: string): string {
  return [
    preamble("K3s kubeconfig", host),
    'step "read the kubeconfig"',
    `if [ ! -s ${K3S_KUBECONFIG_FILE} ]; then`,
    `  echo "kantai: $KANTAI_HOST: ${K3S_KUBECONFIG_FILE} is missing or empty" >&2`,
    "  exit 1",
    "fi",
    `cat ${K3S_KUBECONFIG_FILE}`,
    "",
  ].join("\n");
}

/** User-data of a K3s VM node: SSH keys only, the guest agent and curl; K3s itself comes over SSH. */
export function renderK3sVmUserData(a: {
  hostname: string;
  domain: string;
  user: string;
  sshAuthorizedKeys: readonly string[];
}): string {
  return renderUserData({
    hostname: a.hostname,
    domain: a.domain,
    user: a.user,
    sshAuthorizedKeys: a.sshAuthorizedKeys,
    packages: BASE_PACKAGES.filter((p) => p !== "docker.io"),
    runcmd: [["systemctl", "enable", "--now", "qemu-guest-agent"]],
  });
}
