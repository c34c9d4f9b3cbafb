/**
 * grogu (seed 000): a VM running Minikube with Knative Serving and Kourier, and a Caddy that
 * turns `<svc>.<label>.<domain>` into Knative's `<svc>.default.<knative domain>`.
 * Pure: returns text. Scripts follow lib/render/remoteShell.ts (POSIX sh, idempotent, bounded
 * waits, failures name host and step).
 */
import { BASE_PACKAGES, renderContainerUnit, renderUserData } from "./cloudInit";
import { preamble, putFile, shq } from "./remoteShell";

/** Kourier's ingress class, set in `config-network`. */
export const KOURIER_INGRESS_CLASS = "kourier.ingress.networking.knative.dev";
/** Minikube's API server port inside its node container. */
export const MINIKUBE_API_PORT = 8443;
/** The Minikube profile (and kubeconfig context) kantai uses. */
export const MINIKUBE_PROFILE = "minikube";

export interface GroguToolsSpec {
  /** e.g. "v1.34.1". */
  readonly kubectlVersion: string;
  /** e.g. "v1.37.0". */
  readonly minikubeVersion: string;
  /** Login user that runs Minikube (joins the docker group). */
  readonly user: string;
  /** Debian architecture. Defaults to "amd64". */
  readonly arch?: string;
}

export function kubectlUrl(version: string, arch = "amd64"): string {
  return `https://dl.k8s.io/release/${version}/bin/linux/${arch}/kubectl`;
}

export function minikubeUrl(version: string, arch = "amd64"): string {
  return `https://storage.googleapis.com/minikube/releases/${version}/minikube-linux-${arch}`;
}

/**
 * Installs the pinned kubectl and Minikube (each checked against its published sha256) and puts
 * the user in the docker group. Run by cloud-init as root on first boot; skips what is in place.
 */
export function renderGroguTools(s: GroguToolsSpec): string {
  const arch = s.arch ?? "amd64";
  const install = (name: string, url: string, versionCmd: string, version: string) => [
    `step ${shq(`${name} ${version}`)}`,
    `if [ "$(${versionCmd} || true)" != ${shq(version)} ]; then`,
    `  curl -fsSL --retry 5 --max-time 300 -o /tmp/kantai-${name} ${shq(url)}`,
    `  curl -fsSL --retry 5 --max-time 60 -o /tmp/kantai-${name}.sha256 ${shq(`${url}.sha256`)}`,
    `  echo "$(cut -d' ' -f1 /tmp/kantai-${name}.sha256)  /tmp/kantai-${name}" | sha256sum -c - >/dev/null`,
    `  install -m 0755 /tmp/kantai-${name} /usr/local/bin/${name}`,
    `  rm -f /tmp/kantai-${name} /tmp/kantai-${name}.sha256`,
    "fi",
  ];
  return [
    preamble("grogu tools (kubectl, Minikube)", "grogu"),
    ...install(
      "kubectl",
      kubectlUrl(s.kubectlVersion, arch),
      "kubectl version --client 2>/dev/null | awk '/^Client Version:/ { print $3 }'",
      s.kubectlVersion,
    ),
    ...install(
      "minikube",
      minikubeUrl(s.minikubeVersion, arch),
      "minikube version --short 2>/dev/null",
      s.minikubeVersion,
    ),
    'step "docker group"',
    `if ! id -nG ${shq(s.user)} | tr ' ' '\\n' | grep -qx docker; then usermod -aG docker ${shq(s.user)}; fi`,
    "",
  ].join("\n");
}

/** grogu's user-data: SSH keys only, Docker and the guest agent, then kubectl and Minikube. */
export function renderGroguUserData(a: {
  hostname: string;
  domain: string;
  user: string;
  sshAuthorizedKeys: readonly string[];
  tools: string;
}): string {
  return renderUserData({
    hostname: a.hostname,
    domain: a.domain,
    user: a.user,
    sshAuthorizedKeys: a.sshAuthorizedKeys,
    packages: [...BASE_PACKAGES, "conntrack"],
    files: [{ path: "/usr/local/sbin/kantai-grogu-tools", content: a.tools, permissions: "0755" }],
    runcmd: [
      ["systemctl", "enable", "--now", "qemu-guest-agent"],
      ["systemctl", "enable", "--now", "docker"],
      ["/usr/local/sbin/kantai-grogu-tools"],
    ],
  });
}

export interface MinikubeSpec {
  /** How messages name the host, e.g. "grogu (10.0.0.10)". */
  readonly host: string;
  readonly user: string;
  /** grogu's address: put in the API certificate, API published on it. */
  readonly vmIp: string;
  readonly kubernetesVersion: string;
  /** Minikube's address on grogu's Docker network (`--static-ip`). */
  readonly staticIp: string;
  /** Port on grogu's address that reaches the API server. */
  readonly apiServerPort: number;
  readonly addons: readonly string[];
  /** Seconds `minikube start` may take. Defaults to 1200. */
  readonly startTimeout?: number;
}

/** `minikube start` as seed 000 ran it (all CPUs and memory), pinned and reachable from the bridge. */
export function minikubeStartArgs(s: MinikubeSpec): string[] {
  return [
    "start",
    `--profile=${MINIKUBE_PROFILE}`,
    "--driver=docker",
    "--cpus=max",
    "--memory=max",
    `--kubernetes-version=${s.kubernetesVersion}`,
    `--static-ip=${s.staticIp}`,
    "--listen-address=0.0.0.0",
    `--apiserver-ips=${s.vmIp}`,
    `--ports=${s.apiServerPort}:${MINIKUBE_API_PORT}`,
    ...(s.addons.length > 0 ? [`--addons=${s.addons.join(",")}`] : []),
  ];
}

/** systemd unit that starts Minikube at boot (and on demand) as the login user. */
export function renderMinikubeUnit(s: MinikubeSpec): string {
  return [
    "[Unit]",
    "Description=kantai: Minikube (Knative on grogu)",
    "After=docker.service network-online.target",
    "Requires=docker.service",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `User=${s.user}`,
    `Environment=HOME=/home/${s.user}`,
    `ExecStart=/usr/local/bin/minikube ${minikubeStartArgs(s).join(" ")}`,
    `ExecStop=/usr/local/bin/minikube stop --profile=${MINIKUBE_PROFILE}`,
    `TimeoutStartSec=${s.startTimeout ?? 1200}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * Wait for cloud-init (tools in place), install the Minikube unit, start it (restart when the unit
 * changed or Minikube is not running), then enable the addons. Runs as the login user, with sudo.
 */
export function renderMinikubeStart(s: MinikubeSpec): string {
  const running = `minikube status --profile=${MINIKUBE_PROFILE} --format '{{.Host}} {{.Kubelet}} {{.APIServer}}'`;
  return [
    preamble("Minikube start", s.host, { wait: true }),
    'step "wait for cloud-init (docker, kubectl, minikube)"',
    'timeout 1800 cloud-init status --wait >/dev/null || [ "$?" -eq 2 ]',
    "for tool in docker kubectl minikube; do",
    '  if ! command -v "$tool" >/dev/null 2>&1; then',
    '    echo "kantai: $KANTAI_HOST: $tool is not installed (see /var/log/cloud-init-output.log)" >&2',
    "    exit 1",
    "  fi",
    "done",
    'step "Minikube unit"',
    "changed=0",
    "cat > /tmp/kantai-minikube.service <<'KANTAI_EOF'",
    renderMinikubeUnit(s) + "KANTAI_EOF",
    "if ! cmp -s /tmp/kantai-minikube.service /etc/systemd/system/kantai-minikube.service; then",
    "  sudo install -m 0644 /tmp/kantai-minikube.service /etc/systemd/system/kantai-minikube.service",
    "  sudo systemctl daemon-reload",
    "  changed=1",
    "fi",
    "rm -f /tmp/kantai-minikube.service",
    "sudo systemctl enable kantai-minikube.service >/dev/null 2>&1",
    'step "start Minikube"',
    "minikube_running() {",
    `  [ "$(${running} 2>/dev/null)" = "Running Running Running" ]`,
    "}",
    'if [ "$changed" = 1 ] || ! minikube_running; then',
    "  sudo systemctl restart kantai-minikube.service",
    "fi",
    `kantai_wait ${s.startTimeout ?? 1200} "Minikube to be running" minikube_running`,
    'step "addons"',
    ...s.addons.map((a) => `minikube addons enable ${shq(a)} --profile=${MINIKUBE_PROFILE} >/dev/null`),
    "",
  ].join("\n");
}

export interface KnativeOnMinikubeSpec {
  readonly host: string;
  /** e.g. "1.23.0". */
  readonly servingVersion: string;
  readonly kourierVersion: string;
  /** Knative's domain (`config-domain`), e.g. "local.knative". */
  readonly domain: string;
  /** Fixed NodePort of Kourier's HTTP listener. */
  readonly kourierNodePort: number;
  /** NodePort of the dashboard, or null to leave it alone. */
  readonly dashboardNodePort: number | null;
  /** Seconds to wait for the deployments. Defaults to 600. */
  readonly timeout?: number;
}

export function servingManifestUrl(version: string, file: "serving-crds.yaml" | "serving-core.yaml"): string {
  return `https://github.com/knative/serving/releases/download/knative-v${version}/${file}`;
}

export function kourierManifestUrl(version: string): string {
  return `https://github.com/knative-extensions/net-kourier/releases/download/knative-v${version}/kourier.yaml`;
}

/**
 * Knative Serving (CRDs, core) and net-kourier at the pinned versions — applied only when the
 * installed version differs — then the ingress class, the domain, Kourier's fixed NodePort and
 * the dashboard's, each a patch that changes nothing when already set; then wait until Available.
 */
export function renderKnativeOnMinikube(s: KnativeOnMinikubeSpec): string {
  const t = s.timeout ?? 600;
  const k = `kubectl --context=${MINIKUBE_PROFILE}`;
  const version = (what: string) =>
    `$(${k} ${what} -o jsonpath='{.metadata.labels.app\\.kubernetes\\.io/version}' 2>/dev/null || true)`;
  const patch = (ns: string, obj: string, body: object, type?: "merge") =>
    `${k} -n ${ns} patch ${obj}${type ? ` --type ${type}` : ""} -p ${shq(JSON.stringify(body))} >/dev/null`;
  const out = [
    preamble("Knative Serving on Minikube", s.host),
    `SERVING=${shq(s.servingVersion)}`,
    `KOURIER=${shq(s.kourierVersion)}`,
    'step "Knative Serving $SERVING"',
    `if [ "${version("get namespace knative-serving")}" != "$SERVING" ]; then`,
    `  ${k} apply -f ${shq(servingManifestUrl(s.servingVersion, "serving-crds.yaml"))} >/dev/null`,
    `  ${k} wait --for=condition=Established crd -l knative.dev/crd-install=true --timeout=${t}s >/dev/null`,
    `  ${k} apply -f ${shq(servingManifestUrl(s.servingVersion, "serving-core.yaml"))} >/dev/null`,
    "fi",
    'step "net-kourier $KOURIER"',
    `if [ "${version("-n kourier-system get deployment 3scale-kourier-gateway")}" != "$KOURIER" ]; then`,
    `  ${k} apply -f ${shq(kourierManifestUrl(s.kourierVersion))} >/dev/null`,
    "fi",
    'step "config-network ingress class"',
    patch("knative-serving", "configmap/config-network", { data: { "ingress-class": KOURIER_INGRESS_CLASS } }, "merge"),
    'step "config-domain"',
    patch("knative-serving", "configmap/config-domain", { data: { [s.domain]: "" } }, "merge"),
    `step "Kourier on NodePort ${s.kourierNodePort}"`,
    patch("kourier-system", "service/kourier", {
      spec: { type: "NodePort", ports: [{ port: 80, nodePort: s.kourierNodePort }] },
    }),
  ];
  if (s.dashboardNodePort !== null) {
    out.push(
      `step "dashboard on NodePort ${s.dashboardNodePort}"`,
      patch("kubernetes-dashboard", "service/kubernetes-dashboard", {
        spec: { type: "NodePort", ports: [{ port: 80, nodePort: s.dashboardNodePort }] },
      }),
    );
  }
  out.push(
    'step "wait for Knative Serving and Kourier"',
    `${k} -n knative-serving wait deployment --all --for=condition=Available --timeout=${t}s >/dev/null`,
    `${k} -n kourier-system wait deployment --all --for=condition=Available --timeout=${t}s >/dev/null`,
    "",
  );
  return out.join("\n");
}

export interface GroguCaddySpec {
  /** Base domain, e.g. "hosts.pve". */
  readonly domain: string;
  /** Sub-domain label, e.g. "grogu": sites are `<svc>.grogu.<domain>`. */
  readonly label: string;
  /** Knative's domain, e.g. "local.knative". */
  readonly knativeDomain: string;
  /** Minikube's address (Kourier's NodePort listens there). */
  readonly minikubeIp: string;
  readonly kourierNodePort: number;
  /** Knative namespace the names map to. Defaults to "default". */
  readonly namespace?: string;
}

/**
 * grogu's Caddyfile: `<svc>.<label>.<domain>` → Kourier with Host rewritten to
 * `<svc>.<namespace>.<knative domain>` (seed 000's `header_up Host {labels.3}.default.local.knative`;
 * the label index follows the domain's depth).
 */
export function renderGroguCaddyfile(s: GroguCaddySpec): string {
  const svcLabel = s.domain.split(".").length + 1;
  return [
    "{",
    "\tadmin off",
    "}",
    "",
    `http://*.${s.label}.${s.domain} {`,
    `\treverse_proxy ${s.minikubeIp}:${s.kourierNodePort} {`,
    `\t\theader_up Host {labels.${svcLabel}}.${s.namespace ?? "default"}.${s.knativeDomain}`,
    "\t}",
    "}",
    "",
  ].join("\n");
}

/** Install grogu's Caddy (a host-network container under systemd); restart only when a file changed. */
export function renderGroguCaddyInstall(s: { host: string; caddyfile: string; caddyImage: string }): string {
  const unit = renderContainerUnit({
    name: "kantai-caddy",
    description: "kantai: grogu's Caddy (Knative names)",
    image: s.caddyImage,
    runArgs: ["--network", "host", "-v", "/etc/kantai/caddy/Caddyfile:/etc/caddy/Caddyfile:ro"],
    command: ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"],
  });
  return [
    preamble("grogu Caddy", s.host, { put: true, wait: true }),
    "changed=0",
    'step "Caddyfile"',
    putFile("/etc/kantai/caddy/Caddyfile", s.caddyfile, "0644", ["changed=1"]),
    'step "Caddy unit"',
    putFile("/etc/systemd/system/kantai-caddy.service", unit, "0644", ["changed=1", "systemctl daemon-reload"]),
    "systemctl enable kantai-caddy.service >/dev/null 2>&1",
    'step "start Caddy"',
    'if [ "$changed" = 1 ]; then',
    "  systemctl restart kantai-caddy.service",
    "else",
    "  systemctl start kantai-caddy.service",
    "fi",
    'kantai_wait 120 "Caddy to be active" systemctl is-active --quiet kantai-caddy.service',
    "",
  ].join("\n");
}

/** Print Minikube's kubeconfig with certificates inline (kantai rewrites the server address). */
export function renderMinikubeKubeconfigRead(host: string): string {
  return [
    preamble("Minikube kubeconfig", host),
    'step "read the kubeconfig"',
    `kubectl config view --raw --flatten --minify --context=${MINIKUBE_PROFILE}`,
    "",
  ].join("\n");
}
