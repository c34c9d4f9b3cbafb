/**
 * A cluster API reachable from where `pulumi up` runs: a DNAT port-forward on the Proxmox host from
 * `<any host address>:<port>` to the first K3s server's API on the internal bridge
 * (`<server ip>:6443`), owned by a systemd oneshot unit like the bridge's NAT rule
 * (lib/render/hostScripts.ts). Pure: returns text. POSIX sh, idempotent, says where it stopped.
 *
 * Rules (iptables, each tagged with a comment naming the cluster, so `up` never duplicates and
 * `down` removes every copy):
 * - nat PREROUTING: TCP to a local address of the host on `port` → DNAT to the server. Replies
 *   return through the host, which is the VMs' gateway, so no SNAT is needed.
 * - nat OUTPUT: the same for connections made on the host itself (not to 127.0.0.0/8).
 * - filter FORWARD: accept both directions of the DNATed connections (matched on the connection's
 *   conntrack tuple, not the packet) ahead of any DROP policy (Proxmox' firewall).
 * Forwarding (net.ipv4.ip_forward) is the NAT rule's job and is switched on there.
 */
import { heredocFile, renderHelperUnit, renderHelperUnitDelete } from "./hostScripts";

export interface ApiForwardSpec {
  /** Cluster name (a DNS label): names the unit, the helper and the rules' tag. */
  readonly cluster: string;
  /** Port on the Proxmox host. */
  readonly port: number;
  /** The first server's address on the bridge. */
  readonly target: string;
  /** The API port on the server. Defaults to 6443. */
  readonly targetPort?: number;
}

/** Name of the systemd unit (and helper) that owns one cluster's forward. */
export function apiForwardUnitName(spec: Pick<ApiForwardSpec, "cluster">): string {
  return `kantai-apifwd-${spec.cluster}`;
}

/** The helper: `up` adds the three rules where missing, `down` removes every copy, `status` counts them. */
export function renderApiForwardHelper(spec: ApiForwardSpec): string {
  const to = `${spec.target}:${spec.targetPort ?? 6443}`;
  return `#!/bin/sh
# kantai: API forward for cluster ${spec.cluster} (host port ${spec.port} -> ${to}). Rendered by kantai; do not edit.
set -eu
IPT="\${IPTABLES:-iptables}"
TAG="kantai-apifwd-${spec.cluster}"
pre() {
  "$IPT" -t nat "$1" PREROUTING -p tcp -m addrtype --dst-type LOCAL --dport ${spec.port} -m comment --comment "$TAG" -j DNAT --to-destination ${to}
}
out() {
  "$IPT" -t nat "$1" OUTPUT -p tcp ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL --dport ${spec.port} -m comment --comment "$TAG" -j DNAT --to-destination ${to}
}
fwd() {
  "$IPT" "$1" FORWARD -p tcp -m conntrack --ctstate DNAT --ctproto tcp --ctreplsrc ${spec.target} --ctreplsrcport ${spec.targetPort ?? 6443} -m comment --comment "$TAG" -j ACCEPT
}
case "\${1:-}" in
  up)
    pre -C 2>/dev/null || pre -A
    out -C 2>/dev/null || out -A
    fwd -C 2>/dev/null || fwd -I
    ;;
  down)
    while pre -C 2>/dev/null; do pre -D; done
    while out -C 2>/dev/null; do out -D; done
    while fwd -C 2>/dev/null; do fwd -D; done
    ;;
  status)
    { "$IPT" -t nat -S; "$IPT" -S FORWARD; } | grep -c -- "$TAG" || true
    ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
`;
}

/** systemd oneshot unit that applies the forward at boot and removes it when stopped. */
export function renderApiForwardUnit(spec: ApiForwardSpec, helperPath: string): string {
  return renderHelperUnit(
    `kantai API forward for K3s cluster ${spec.cluster} (port ${spec.port} -> ${spec.target}:${spec.targetPort ?? 6443})`,
    helperPath,
  );
}

/**
 * Create script: the helper and a unit enabled at boot, applied now; prints the forward
 * (`<port> -> <target>:6443`) on stdout. Any number of runs leave one copy of each rule.
 */
export function renderApiForwardCreate(spec: ApiForwardSpec): string {
  const unit = apiForwardUnitName(spec);
  const helper = `/usr/local/sbin/${unit}`;
  return [
    "#!/bin/sh",
    `# kantai: forward port ${spec.port} of this host to the K3s API of cluster ${spec.cluster}.`,
    "set -eu",
    `trap 'echo "kantai: API forward for ${spec.cluster} failed at line $LINENO" >&2' EXIT`,
    `if [ "$(id -u)" != 0 ]; then echo "kantai: the API forward for ${spec.cluster} must run as root on the Proxmox host (like its NAT rule)" >&2; exit 1; fi`,
    // A changed port or target: the previous helper removes its own rules first.
    `if [ -x '${helper}' ]; then '${helper}' down; fi`,
    `echo "kantai: API forward helper ${helper}" >&2`,
    heredocFile(helper, renderApiForwardHelper(spec), "0755"),
    `echo "kantai: systemd unit ${unit}.service" >&2`,
    heredocFile(`/etc/systemd/system/${unit}.service`, renderApiForwardUnit(spec, helper)),
    "systemctl daemon-reload",
    `systemctl enable '${unit}.service'`,
    `systemctl restart '${unit}.service'`,
    `test "$('${helper}' status)" = 3`,
    `echo "${spec.port} -> ${spec.target}:${spec.targetPort ?? 6443}"`,
    "trap - EXIT",
    "",
  ].join("\n");
}

/** Delete script: stops and removes the unit, the rules and the helper. Harmless when run twice. */
export function renderApiForwardDelete(spec: ApiForwardSpec): string {
  const unit = apiForwardUnitName(spec);
  return renderHelperUnitDelete(`the API forward of cluster ${spec.cluster}`, unit, `/usr/local/sbin/${unit}`);
}
