/**
 * Day-2 scripts of a K3s cluster: the rolling upgrade (drain → upgrade → gate per node), the etcd
 * snapshot before a roll, removing a node (drain, then delete its Node object, which also removes
 * an embedded-etcd server's member), the kube-vip static pod of an HA API address, and the etcd
 * restore. Pure: returns text. Scripts follow lib/render/k3sShell.ts (POSIX sh, idempotent,
 * bounded, failures name the host, the node and the step).
 *
 * Upstream rules these encode:
 * - Upgrades: re-run the install script of the new release with the same configuration, servers
 *   one at a time first, then agents (https://docs.k3s.io/upgrades/manual).
 * - `kubectl drain` evicts through the Eviction API, which refuses an eviction a
 *   PodDisruptionBudget does not allow; drain retries until `--timeout`, then fails
 *   (https://kubernetes.io/docs/tasks/administer-cluster/safely-drain-node/).
 * - Deleting a server's Node object removes its etcd member (K3s' etcd member management
 *   controller, https://github.com/k3s-io/k3s/issues/3973; "When you delete the failed node from the
 *   kubernetes cluster, it should also be removed from the etcd cluster",
 *   https://github.com/k3s-io/k3s/issues/10462); the uninstall script does not touch the cluster
 *   (https://github.com/k3s-io/k3s/issues/4865), so the Node goes after the uninstall, from a server.
 * - Snapshots and restore: `k3s etcd-snapshot save --name`, `k3s server --cluster-reset
 *   --cluster-reset-restore-path=<file>`; the other servers stop, delete
 *   `/var/lib/rancher/k3s/server/db/` and start again (https://docs.k3s.io/cli/etcd-snapshot,
 *   https://docs.k3s.io/datastore/backup-restore).
 * - Static pods: K3s' kubelet reads `${data-dir}/agent/pod-manifests` (k3s pkg/agent/config
 *   `DefaultPodManifestPath = "pod-manifests"`); kube-vip's static pod in ARP mode with
 *   control-plane leader election (https://kube-vip.io/docs/installation/static/).
 */
import { stringify } from "yaml";
import { K3S_API_PORT, K3S_KUBECONFIG_FILE, k3sInstallScriptUrl, type K3sRole } from "./k3s";
import { preamble, shq } from "./remoteShell";

/** Annotation the drain step sets and the gate step clears: only nodes kantai cordoned are uncordoned. */
export const UPGRADING_ANNOTATION = "kantai.dev/upgrading";
/** kube-vip release pinned for the HA API address (https://github.com/kube-vip/kube-vip/releases/tag/v1.2.2). */
export const KUBE_VIP_IMAGE = "ghcr.io/kube-vip/kube-vip:v1.2.2";
/** K3s' static pod directory (default data dir). */
export const K3S_STATIC_PODS_DIR = "/var/lib/rancher/k3s/agent/pod-manifests";
export const K3S_SNAPSHOT_DIR = "/var/lib/rancher/k3s/server/db/snapshots";

/**
 * `kc ARGS…`: kubectl against the cluster. On a server this is `k3s kubectl` (admin kubeconfig);
 * `KANTAI_KUBECTL` replaces it where tests run the script against another API server or a stand-in.
 */
const kubectlFunction = [
  "kc() {",
  "  # shellcheck disable=SC2086 # KANTAI_KUBECTL is a command with arguments",
  '  ${KANTAI_KUBECTL:-k3s kubectl} "$@"',
  "}",
].join("\n");

const nodeFacts = [
  "node_version() {",
  "  kc get node \"$NODE\" -o 'jsonpath={.status.nodeInfo.kubeletVersion}' 2>/dev/null || true",
  "}",
  "node_ready() {",
  '  kc get node "$NODE" -o \'jsonpath={.status.conditions[?(@.type=="Ready")].status}\' 2>/dev/null | grep -qx True',
  "}",
].join("\n");

/**
 * Why a `kubectl drain` fails, for the message after its own error: it retries evictions a
 * PodDisruptionBudget refuses until `--timeout`, waits as long for evicted pods to be gone, and
 * refuses at once to delete pods without a controller (no `--force`: such a pod would be lost)
 * (k8s.io/kubectl v0.34.1 pkg/drain/filters.go `unmanagedFatal`;
 * https://kubernetes.io/docs/reference/kubectl/generated/kubectl_drain/).
 */
const drainFailed = (t: number) =>
  `kubectl drain failed (its error is above: a PodDisruptionBudget that allowed no eviction for ${t}s, pods that did not terminate in time, or pods it does not delete, such as pods without a controller; kubectl get pdb -A)`;

export interface K3sRollStepSpec {
  /** How messages name the machine the script runs on (a server), e.g. "pi-1 (192.168.1.21)". */
  readonly host: string;
  /** The node being upgraded. */
  readonly node: string;
  /** Target K3s release. */
  readonly version: string;
}

/**
 * Before a node's upgrade, on a server: skip when the node is not registered yet (a new node: its
 * upgrade step is its first install) or already runs `version`; else mark it with
 * `kantai.dev/upgrading`, cordon and drain it (PodDisruptionBudgets respected, DaemonSets stay).
 * A drain that fails (a budget that allows no eviction for `timeoutSeconds`, pods that do not
 * terminate, pods without a controller) uncordons the node again, says the roll stopped
 * there, and fails — the node keeps its old version and its pods, later nodes are not touched.
 */
export function renderK3sDrain(s: K3sRollStepSpec & { readonly timeoutSeconds: number }): string {
  const t = s.timeoutSeconds;
  return [
    preamble(`K3s drain of ${s.node} before its upgrade`, s.host),
    `NODE=${shq(s.node)}`,
    `VERSION=${shq(s.version)}`,
    kubectlFunction,
    nodeFacts,
    'step "version of node $NODE"',
    "current=$(node_version)",
    'if [ -z "$current" ]; then',
    '  echo "kantai: $KANTAI_HOST: node $NODE is not registered: nothing to drain (its upgrade step installs $VERSION)" >&2',
    "  exit 0",
    "fi",
    'if [ "$current" = "$VERSION" ]; then',
    '  echo "kantai: $KANTAI_HOST: node $NODE already runs $VERSION: no drain" >&2',
    "  exit 0",
    "fi",
    'step "cordon node $NODE ($current to $VERSION)"',
    `kc annotate node "$NODE" --overwrite "${UPGRADING_ANNOTATION}=$VERSION" >/dev/null`,
    'kc cordon "$NODE" >/dev/null',
    `step "drain node $NODE (PodDisruptionBudgets respected, ${t}s)"`,
    `if ! kc drain "$NODE" --ignore-daemonsets --delete-emptydir-data --timeout=${t}s >&2; then`,
    '  kc uncordon "$NODE" >/dev/null 2>&1 || true',
    `  kc annotate node "$NODE" "${UPGRADING_ANNOTATION}-" >/dev/null 2>&1 || true`,
    `  echo "kantai: $KANTAI_HOST: rolling upgrade stopped at node $NODE: ${drainFailed(t)}. $NODE is uncordoned and still runs $current; the nodes after it were not touched. Fix the cause and run pulumi up again." >&2`,
    "  exit 1",
    "fi",
    "",
  ].join("\n");
}

/**
 * On the node: install `version` with that release's own install script when it is not the one
 * running (a new node joins here; an existing one is upgraded in place with its unchanged
 * config.yaml), then wait for the server's node to be Ready or the agent service to be active.
 */
export function renderK3sUpgrade(s: {
  readonly host: string;
  readonly node: string;
  readonly role: K3sRole;
  readonly version: string;
  readonly timeout?: number;
}): string {
  const unit = s.role === "server" ? "k3s" : "k3s-agent";
  const timeout = s.timeout ?? 300;
  const out = [
    preamble(`K3s ${s.role} install or upgrade`, s.host, { wait: true }),
    `VERSION=${shq(s.version)}`,
    `step "K3s $VERSION on ${s.node}"`,
    "installed=$(k3s --version 2>/dev/null | awk 'NR == 1 { print $3 }' || true)",
    'if [ "$installed" != "$VERSION" ]; then',
    '  echo "kantai: $KANTAI_HOST: installing K3s $VERSION (running: ${installed:-none})" >&2',
    `  curl -sfL --retry 5 --max-time 120 -o /tmp/kantai-k3s-install.sh ${shq(k3sInstallScriptUrl(s.version))}`,
    `  INSTALL_K3S_VERSION="$VERSION" INSTALL_K3S_EXEC=${s.role} sh /tmp/kantai-k3s-install.sh`,
    "  rm -f /tmp/kantai-k3s-install.sh",
    `elif ! systemctl is-active --quiet ${unit}; then`,
    `  systemctl start ${unit}`,
    "fi",
  ];
  if (s.role === "server") {
    out.push(
      `step "wait for node ${s.node} to be Ready"`,
      `NODE=${shq(s.node)}`,
      kubectlFunction,
      "node_ready() {",
      '  kc get node "$NODE" -o \'jsonpath={.status.conditions[?(@.type=="Ready")].status}\' 2>/dev/null | grep -qx True',
      "}",
      `kantai_wait ${timeout} ${shq(`node ${s.node} to be Ready`)} node_ready`,
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

/**
 * After a node's upgrade, on a server: the health gate. Waits until the node is Ready and reports
 * `version`, and the API server's `/readyz` answers `ok`; then uncordons it if kantai cordoned it.
 * A timeout says the roll stopped at this node, which stays cordoned (so nothing new lands on a
 * node that did not come back healthy).
 */
export function renderK3sGate(s: K3sRollStepSpec & { readonly timeoutSeconds: number }): string {
  const t = s.timeoutSeconds;
  return [
    preamble(`K3s health gate after the upgrade of ${s.node}`, s.host, { wait: true }),
    `NODE=${shq(s.node)}`,
    `VERSION=${shq(s.version)}`,
    kubectlFunction,
    nodeFacts,
    "at_version() {",
    '  [ "$(node_version)" = "$VERSION" ] && node_ready',
    "}",
    "api_ready() {",
    "  [ \"$(kc get --raw='/readyz' 2>/dev/null)\" = ok ]",
    "}",
    'step "node $NODE Ready at $VERSION"',
    `if ! kantai_wait ${t} "node $NODE to be Ready at $VERSION" at_version; then`,
    '  echo "kantai: $KANTAI_HOST: rolling upgrade stopped at node $NODE: not Ready at $VERSION (it reports \\"$(node_version)\\"); it stays cordoned, the nodes after it were not touched" >&2',
    "  exit 1",
    "fi",
    'step "cluster healthy (/readyz)"',
    `if ! kantai_wait ${t} "the API server to be ready" api_ready; then`,
    '  echo "kantai: $KANTAI_HOST: rolling upgrade stopped after node $NODE: the API server is not ready (kubectl get --raw=/readyz?verbose)" >&2',
    "  exit 1",
    "fi",
    'step "uncordon node $NODE"',
    `marked=$(kc get node "$NODE" -o 'jsonpath={.metadata.annotations.kantai\\.dev/upgrading}' 2>/dev/null || true)`,
    'if [ -n "$marked" ]; then',
    '  kc uncordon "$NODE" >/dev/null',
    `  kc annotate node "$NODE" "${UPGRADING_ANNOTATION}-" >/dev/null`,
    "fi",
    "",
  ].join("\n");
}

/**
 * Removing a node, part 1 (the delete of its drain step), on a server: cordon and drain it so its
 * pods move while it still runs. A blocked drain fails the removal here: the node keeps running,
 * K3s stays installed, its VM is not destroyed.
 */
export function renderK3sRemoveDrain(s: {
  readonly host: string;
  readonly node: string;
  readonly timeoutSeconds: number;
}): string {
  const t = s.timeoutSeconds;
  return [
    preamble(`K3s drain of ${s.node} before its removal`, s.host),
    `NODE=${shq(s.node)}`,
    kubectlFunction,
    'step "node $NODE"',
    'if ! kc get node "$NODE" >/dev/null 2>&1; then',
    '  echo "kantai: $KANTAI_HOST: node $NODE is not registered: nothing to drain" >&2',
    "  exit 0",
    "fi",
    'step "cordon node $NODE"',
    'kc cordon "$NODE" >/dev/null',
    `step "drain node $NODE (PodDisruptionBudgets respected, ${t}s)"`,
    `if ! kc drain "$NODE" --ignore-daemonsets --delete-emptydir-data --timeout=${t}s >&2; then`,
    `  echo "kantai: $KANTAI_HOST: removal of node $NODE stopped: ${drainFailed(t)}. It stays cordoned and installed; its VM, if any, is kept. Fix the cause and run pulumi up again." >&2`,
    "  exit 1",
    "fi",
    "",
  ].join("\n");
}

/**
 * Removing a node, part 2 (the delete of its forget step, after K3s was uninstalled from it), on
 * a server: delete its Node object (for a server with embedded etcd K3s then removes its etcd
 * member) and wait until etcd reports healthy.
 */
export function renderK3sForget(s: {
  readonly host: string;
  readonly node: string;
  readonly etcdMember: boolean;
  readonly timeout?: number;
}): string {
  const out = [
    preamble(`K3s removal of node ${s.node} from the cluster`, s.host, { wait: s.etcdMember }),
    `NODE=${shq(s.node)}`,
    kubectlFunction,
    'if [ -z "${KANTAI_KUBECTL:-}" ] && ! command -v k3s >/dev/null 2>&1; then',
    '  echo "kantai: $KANTAI_HOST: K3s is not installed here any more (the whole cluster is being removed): nothing to forget" >&2',
    "  exit 0",
    "fi",
    'step "delete Node $NODE"',
    'kc delete node "$NODE" --ignore-not-found --wait=true >/dev/null',
  ];
  if (s.etcdMember) {
    // The Node's deletion makes K3s remove its etcd member (k3s#3973): its managed-etcd-controller
    // does it in a wrangler OnRemove handler, a finalizer on the Node (k3s pkg/etcd/member_controller.go),
    // so the delete above (--wait=true) returns once the member is gone. Then: etcd is healthy
    // (the API server's etcd readiness check, /readyz/etcd).
    out.push(
      'step "etcd healthy without $NODE"',
      "etcd_ready() {",
      "  [ \"$(kc get --raw='/readyz/etcd' 2>/dev/null)\" = ok ]",
      "}",
      `kantai_wait ${s.timeout ?? 120} "etcd to be healthy after removing $NODE" etcd_ready`,
    );
  }
  out.push("");
  return out.join("\n");
}

/**
 * Before a roll, on the first server: `k3s etcd-snapshot save --name kantai-pre-<version>` (with
 * the server's config, so an S3 target configured there receives it too). Nothing to save while
 * K3s is not installed yet (a new cluster).
 */
export function renderK3sPreUpgradeSnapshot(s: { readonly host: string; readonly version: string }): string {
  const name = `kantai-pre-${s.version.replace(/[^A-Za-z0-9-]/g, "-")}`;
  return [
    preamble("etcd snapshot before the rolling upgrade", s.host),
    `step ${shq(`etcd snapshot ${name}`)}`,
    "if ! command -v k3s >/dev/null 2>&1 || ! systemctl is-active --quiet k3s; then",
    '  echo "kantai: $KANTAI_HOST: K3s is not running yet: no snapshot to take" >&2',
    "  exit 0",
    "fi",
    `k3s etcd-snapshot save --name ${shq(name)} >&2`,
    "",
  ].join("\n");
}

/**
 * kube-vip as a static pod on a server: ARP mode, control-plane VIP with leader election. The
 * environment is what `kube-vip manifest pod --arp --controlplane --leaderElection --interface …
 * --address …` generates in v1.2.2 (pkg/kubevip/config_generator.go generatePodSpec, names in
 * pkg/kubevip/config_envvar.go; https://kube-vip.io/docs/installation/static/), without services
 * (`svc_enable`) and with the metrics port left at its default: `vip_nodename` from the pod's
 * `spec.nodeName` is the lease holder's identity (without it kube-vip falls back to the hostname,
 * pkg/manager/manager.go, and two Pis both called `raspberrypi` would both hold the VIP); the
 * capabilities are NET_ADMIN and NET_RAW with ALL others dropped, as generated. K3s' admin
 * kubeconfig is mounted where kube-vip looks for one (/etc/kubernetes/admin.conf); with
 * `cp_enable` it reaches the API at `kubernetes:<port>`, hence the host alias to 127.0.0.1.
 */
export function renderKubeVipManifest(s: {
  readonly address: string;
  readonly interface: string;
  readonly image?: string;
}): string {
  const env: Record<string, string> = {
    vip_arp: "true",
    port: String(K3S_API_PORT),
    vip_interface: s.interface,
    vip_subnet: "32",
    cp_enable: "true",
    cp_namespace: "kube-system",
    vip_leaderelection: "true",
    vip_leasename: "plndr-cp-lock",
    vip_leaseduration: "5",
    vip_renewdeadline: "3",
    vip_retryperiod: "1",
    address: s.address,
  };
  const envVars: object[] = Object.entries(env).map(([name, value]) => ({ name, value }));
  // after `port`, as generated
  envVars.splice(2, 0, { name: "vip_nodename", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } });
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "kube-vip", namespace: "kube-system" },
    spec: {
      containers: [
        {
          name: "kube-vip",
          image: s.image ?? KUBE_VIP_IMAGE,
          imagePullPolicy: "IfNotPresent",
          args: ["manager"],
          env: envVars,
          securityContext: { capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] } },
          // The policy pack's rule: requests and limits on every container (kube-vip idles at a few MiB).
          resources: { requests: { cpu: "25m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
          volumeMounts: [{ name: "kubeconfig", mountPath: "/etc/kubernetes/admin.conf", readOnly: true }],
        },
      ],
      hostAliases: [{ ip: "127.0.0.1", hostnames: ["kubernetes"] }],
      hostNetwork: true,
      // K3s' admin kubeconfig (server https://127.0.0.1:6443) is the one kube-vip's leader election uses.
      volumes: [{ name: "kubeconfig", hostPath: { path: K3S_KUBECONFIG_FILE, type: "File" } }],
    },
  };
  return (
    `# kantai: kube-vip static pod (ARP, control plane ${s.address}). Rendered by kantai; do not edit.\n` +
    stringify(pod, { lineWidth: 0 })
  );
}

/**
 * The etcd restore, run as root on the servers by hand (docs/how-to/restore.md):
 * `restore <snapshot>` on the first server (cluster-reset from the snapshot file, then start),
 * `rejoin` on each other server afterwards (stop, delete the database directory, start).
 */
export function renderK3sEtcdRestore(): string {
  return [
    "#!/bin/sh",
    "# kantai: restore a K3s cluster with embedded etcd from a snapshot. Rendered by kantai; do not edit.",
    "#   on the first server:   sudo sh etcd-restore.sh restore <snapshot file, or its name in " +
      K3S_SNAPSHOT_DIR +
      ">",
    "#   then on every other:   sudo sh etcd-restore.sh rejoin",
    "# https://docs.k3s.io/datastore/backup-restore (K3S_DATA_DIR: K3s' --data-dir, default /var/lib/rancher/k3s)",
    "set -eu",
    'data_dir="${K3S_DATA_DIR:-/var/lib/rancher/k3s}"',
    "usage() {",
    '  echo "usage: $0 restore <snapshot> | rejoin" >&2',
    "  exit 2",
    "}",
    '[ "$#" -ge 1 ] || usage',
    'if [ "$(id -u)" -ne 0 ]; then',
    '  echo "kantai-restore: run as root (sudo sh $0 $*)" >&2',
    "  exit 1",
    "fi",
    'case "$1" in',
    "  restore)",
    '    [ "$#" -eq 2 ] || usage',
    '    snap="$2"',
    '    case "$snap" in',
    "      /*) ;;",
    '      *) snap="$data_dir/server/db/snapshots/$snap" ;;',
    "    esac",
    '    if [ ! -s "$snap" ]; then',
    '      echo "kantai-restore: snapshot $snap does not exist or is empty (k3s etcd-snapshot ls lists them)" >&2',
    "      exit 1",
    "    fi",
    '    echo "kantai-restore: stopping k3s" >&2',
    "    systemctl stop k3s",
    '    echo "kantai-restore: cluster-reset from $snap" >&2',
    '    k3s server --cluster-reset --cluster-reset-restore-path="$snap"',
    "    systemctl start k3s",
    '    echo "kantai-restore: restored from $snap; now run \\"sh $0 rejoin\\" on every other server" >&2',
    "    ;;",
    "  rejoin)",
    '    [ "$#" -eq 1 ] || usage',
    "    systemctl stop k3s",
    '    rm -rf "$data_dir/server/db"',
    "    systemctl start k3s",
    '    echo "kantai-restore: k3s restarted with an empty database: it rejoins the restored cluster" >&2',
    "    ;;",
    "  *) usage ;;",
    "esac",
    "",
  ].join("\n");
}
