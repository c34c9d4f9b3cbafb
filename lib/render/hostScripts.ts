/**
 * Shell scripts run on the Proxmox host over SSH. Pure: returns text.
 * Every script is POSIX sh, idempotent (running it twice changes nothing the second time) and
 * prints which step failed.
 */

/** Embed `content` as a file written by a quoted heredoc (no expansion inside). */
export function heredocFile(path: string, content: string, mode = "0644"): string {
  const tag = "KANTAI_EOF";
  if (content.split("\n").includes(tag))
    throw new Error(`heredocFile: content for ${path} contains the delimiter ${tag}`);
  const body = content.endsWith("\n") ? content : content + "\n";
  return [
    `mkdir -p "$(dirname '${path}')"`,
    `cat > '${path}.kantai-new' <<'${tag}'`,
    body + tag,
    `chmod ${mode} '${path}.kantai-new'`,
    `mv -f '${path}.kantai-new' '${path}'`,
  ].join("\n");
}

export interface NatSpec {
  /** Internal bridge, e.g. "vmbr2". */
  readonly bridge: string;
  /** Internal subnet in canonical form, e.g. "10.0.0.0/24". */
  readonly subnet: string;
  /** Uplink interface on the host, e.g. "vmbr0". */
  readonly uplink: string;
}

/** Name of the systemd unit (and helper) that owns the NAT rule for one bridge. */
export function natUnitName(spec: NatSpec): string {
  return `kantai-nat-${spec.bridge}`;
}

/**
 * The helper that adds or removes the MASQUERADE rule. The rule carries a comment naming the
 * bridge, so `up` never adds a duplicate and `down` removes every copy.
 * Usage: `<helper> up|down|status`.
 */
export function renderNatHelper(spec: NatSpec): string {
  return `#!/bin/sh
# kantai: NAT for ${spec.bridge} (${spec.subnet} -> ${spec.uplink}). Rendered by kantai; do not edit.
set -eu
IPT="\${IPTABLES:-iptables}"
TAG="kantai-${spec.bridge}"
rule() {
  "$IPT" -t nat "$1" POSTROUTING -s '${spec.subnet}' -o '${spec.uplink}' -j MASQUERADE -m comment --comment "$TAG"
}
case "\${1:-}" in
  up)
    rule -C 2>/dev/null || rule -A
    ;;
  down)
    while rule -C 2>/dev/null; do rule -D; done
    ;;
  status)
    "$IPT" -t nat -S POSTROUTING | grep -c -- "$TAG" || true
    ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
`;
}

/**
 * The systemd oneshot unit that owns a helper's rules (the NAT rule, a cluster's API forward):
 * `<helper> up` when it starts — at boot, once the network is online — and `<helper> down` when it
 * stops; RemainAfterExit keeps it active in between, so `systemctl stop` removes the rules.
 */
export function renderHelperUnit(description: string, helperPath: string): string {
  return `[Unit]
Description=${description}
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${helperPath} up
ExecStop=${helperPath} down

[Install]
WantedBy=multi-user.target
`;
}

/**
 * The delete script of a helper-owned unit (renderHelperUnit): stop and disable the unit, let the
 * helper remove its rules, remove the unit file, the helper and `files`. Harmless when run twice.
 */
export function renderHelperUnitDelete(
  what: string,
  unit: string,
  helper: string,
  files: readonly string[] = [],
): string {
  return [
    "#!/bin/sh",
    `# kantai: remove ${what} from this host.`,
    "set -u",
    `systemctl disable --now '${unit}.service' 2>/dev/null || true`,
    `if [ -x '${helper}' ]; then '${helper}' down; fi`,
    `rm -f ${[`/etc/systemd/system/${unit}.service`, helper, ...files].map((f) => `'${f}'`).join(" ")}`,
    "systemctl daemon-reload",
    "",
  ].join("\n");
}

/** systemd oneshot unit that applies the NAT rule at boot and removes it when stopped. */
export function renderNatUnit(spec: NatSpec, helperPath: string): string {
  return renderHelperUnit(`kantai NAT masquerade for ${spec.bridge} (${spec.subnet} via ${spec.uplink})`, helperPath);
}

/** Single-quote `s` for sh. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The command string that runs `script` as root whoever the SSH user is: directly for root, with
 * `sudo -n` (passwordless sudo, never a prompt) for anyone else, like the K3s scripts' `asRoot`.
 * A non-root user without passwordless sudo fails at once with sudo's "a password is required".
 * `name` becomes `$0` in messages.
 */
export function asHostRoot(script: string, name: string): string {
  const q = `${shq(script)} ${shq(name)}`;
  return `if [ "$(id -u)" -eq 0 ]; then exec sh -c ${q}; else exec sudo -n sh -c ${q}; fi`;
}

/**
 * Announce a step and remember it, so the EXIT trap can say where a failure stopped. (Not
 * `$LINENO`: dash, Debian's and Proxmox VE's /bin/sh, leaves it unset in an EXIT trap, and under
 * `set -u` the trap itself then fails with "LINENO: parameter not set".)
 */
const step = (name: string) => `KANTAI_STEP='${name.replace(/'/g, "")}'; echo "kantai: ${name}" >&2`;
/** EXIT trap reporting the step a failed script stopped in; cleared with `trap - EXIT` on success. */
const failTrap = (what: string) =>
  `KANTAI_STEP=start; trap 'echo "kantai: ${what} failed during: $KANTAI_STEP" >&2' EXIT`;

/**
 * Create script: IPv4 forwarding (persisted in /etc/sysctl.d), the NAT helper and a systemd unit
 * enabled at boot, then applies the rule now. Safe to run any number of times.
 */
export function renderNatCreate(spec: NatSpec): string {
  const unit = natUnitName(spec);
  const helper = `/usr/local/sbin/${unit}`;
  return [
    "#!/bin/sh",
    `# kantai: enable forwarding and NAT for ${spec.bridge} on this host.`,
    "set -eu",
    failTrap(`NAT setup for ${spec.bridge}`),
    step(`IPv4 forwarding for ${spec.bridge}`),
    heredocFile(`/etc/sysctl.d/90-${unit}.conf`, "net.ipv4.ip_forward = 1\n"),
    `sysctl -q -p '/etc/sysctl.d/90-${unit}.conf'`,
    step(`NAT helper ${helper}`),
    heredocFile(helper, renderNatHelper(spec), "0755"),
    step(`systemd unit ${unit}.service`),
    heredocFile(`/etc/systemd/system/${unit}.service`, renderNatUnit(spec, helper)),
    "systemctl daemon-reload",
    `systemctl enable '${unit}.service'`,
    `systemctl restart '${unit}.service'`,
    `test "$('${helper}' status)" = 1`,
    "trap - EXIT",
    "",
  ].join("\n");
}

/** Delete script: stops and removes the unit, the rule and the files. Forwarding stays on (other bridges may need it). */
export function renderNatDelete(spec: NatSpec): string {
  const unit = natUnitName(spec);
  return renderHelperUnitDelete(`NAT for ${spec.bridge}`, unit, `/usr/local/sbin/${unit}`, [
    `/etc/sysctl.d/90-${unit}.conf`,
  ]);
}

export interface GatewayInstallSpec {
  /** Zone origin, e.g. "hosts.pve". */
  readonly domain: string;
  readonly namedConf: string;
  readonly zone: string;
  /** Path of the zone file, as named.conf names it. */
  readonly zoneFile: string;
  readonly caddyfile: string;
}

/**
 * Install BIND and Caddy from Debian on the Proxmox host, back up the distribution's configs
 * once, write kantai's, check them with the tools' own validators and restart the services.
 */
export function renderGatewayInstall(spec: GatewayInstallSpec): string {
  return [
    "#!/bin/sh",
    "# kantai: hosts gateway (BIND + root Caddy) on this host.",
    "set -eu",
    failTrap("gateway install"),
    step("install bind9 and caddy"),
    "if ! command -v named >/dev/null 2>&1 || ! command -v caddy >/dev/null 2>&1; then",
    "  export DEBIAN_FRONTEND=noninteractive",
    // bind9 and caddy come from Debian's own repositories. On a host without a subscription the
    // default enterprise repository answers 401 and `apt-get update` exits non-zero although
    // Debian's lists were refreshed: go on, and fail only if the packages cannot be installed.
    "  if ! apt-get update -q; then",
    '    echo "kantai: apt-get update reported errors (a Proxmox enterprise repository without a subscription answers 401); installing from the package lists that did update" >&2',
    "  fi",
    "  if ! apt-get install -y -q bind9 bind9-utils caddy; then",
    '    echo "kantai: could not install bind9, bind9-utils and caddy from Debian. Check the host\'s repositories (apt-get update): on a host without a subscription disable the enterprise repository and enable pve-no-subscription (https://pve.proxmox.com/wiki/Package_Repositories)" >&2',
    "    exit 1",
    "  fi",
    "fi",
    step("back up distribution configs once"),
    "[ -e /etc/bind/named.conf.kantai-orig ] || cp -p /etc/bind/named.conf /etc/bind/named.conf.kantai-orig",
    "[ -e /etc/caddy/Caddyfile.kantai-orig ] || cp -p /etc/caddy/Caddyfile /etc/caddy/Caddyfile.kantai-orig",
    step("write named.conf and zone"),
    heredocFile(spec.zoneFile, spec.zone),
    `chown bind:bind '${spec.zoneFile}'`,
    heredocFile("/etc/bind/named.conf", spec.namedConf),
    "named-checkconf /etc/bind/named.conf",
    `named-checkzone -q '${spec.domain}' '${spec.zoneFile}'`,
    step("write Caddyfile"),
    heredocFile("/etc/caddy/Caddyfile", spec.caddyfile),
    "caddy validate --adapter caddyfile --config /etc/caddy/Caddyfile >/dev/null",
    step("restart services"),
    "systemctl enable named caddy >/dev/null 2>&1 || systemctl enable bind9 caddy",
    "systemctl restart named 2>/dev/null || systemctl restart bind9",
    "systemctl restart caddy",
    "trap - EXIT",
    "",
  ].join("\n");
}

/** Restore the distribution's configs saved by the install script. Packages stay installed. */
export function renderGatewayRemove(zoneFile: string): string {
  return [
    "#!/bin/sh",
    "# kantai: remove the hosts gateway configuration from this host.",
    "set -u",
    "if [ -e /etc/bind/named.conf.kantai-orig ]; then mv -f /etc/bind/named.conf.kantai-orig /etc/bind/named.conf; fi",
    "if [ -e /etc/caddy/Caddyfile.kantai-orig ]; then mv -f /etc/caddy/Caddyfile.kantai-orig /etc/caddy/Caddyfile; fi",
    `rm -f '${zoneFile}'`,
    "systemctl restart named 2>/dev/null || systemctl restart bind9 2>/dev/null || true",
    "systemctl restart caddy 2>/dev/null || true",
    "",
  ].join("\n");
}

/**
 * Script run on the load balancer VM over SSH (as root): waits for first boot to finish, writes the
 * Caddyfile and (re)starts the Caddy unit cloud-init installed. A fleet-size change re-runs it
 * instead of replacing the VM (docs/decisions/0009).
 */
export function renderLoadBalancerConfig(spec: {
  readonly caddyfile: string;
  readonly unit: string;
  readonly path: string;
}): string {
  return [
    "#!/bin/sh",
    "# kantai: load balancer Caddyfile (re-applied on every change).",
    "set -eu",
    failTrap("load balancer config"),
    step("wait for cloud-init (Docker and the unit come from first boot)"),
    "cloud-init status --wait >/dev/null || true",
    step(`write ${spec.path}`),
    heredocFile(spec.path, spec.caddyfile),
    step(`restart ${spec.unit}`),
    "systemctl daemon-reload",
    `systemctl enable '${spec.unit}' >/dev/null 2>&1`,
    `systemctl restart '${spec.unit}'`,
    "trap - EXIT",
    "",
  ].join("\n");
}
