// preflight's config-only checks (no network) and its SSH probe (run by the real sh and checked by
// shellcheck here; over SSH only on a real node). Upstream rules are cited in lib/preflight/*.ts:
// import file names (pve-storage Storage.pm $UPLOAD_IMPORT_EXT_RE_1), RFC 5737 / RFC 2606
// documentation names.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { configChecks } from "../lib/preflight/configChecks";
import { parseProbe, probeScript, sshChecks } from "../lib/preflight/ssh";
import { PUBLIC_ENCRYPTION_SALT } from "../lib/preflight/placeholders";
import { rawFromConfigMap } from "../stacks/config";
import { readStackFile } from "../scripts/synth/stackFile";

const REPO = path.resolve(__dirname, "..");
const rawOf = (stack: string) => rawFromConfigMap(readStackFile(path.join(REPO, `Pulumi.${stack}.yaml`)).config);
const lines = (fs: ReturnType<typeof configChecks>) =>
  fs.map((f) => `${f.level} ${f.where}: ${f.message}${f.fix ? ` | ${f.fix}` : ""}`);

describe("config-only checks", () => {
  it("the committed dev stack, secrets not decrypted", () => {
    expect(
      lines(
        configChecks({ raw: rawOf("dev"), stack: "dev", encryptionSalt: PUBLIC_ENCRYPTION_SALT, secretsKnown: false }),
      ),
    ).toEqual([
      `error Pulumi.dev.yaml encryptionsalt: the stack's secrets are encrypted with the public passphrase "kantai-dev" | pulumi stack change-secrets-provider passphrase --stack dev   (enter a passphrase of your own; then set PULUMI_CONFIG_PASSPHRASE to it)`,
      `error kantai:sshPublicKeys[0]: is the committed throwaway key's public half: anyone can log in to the VMs with it | pulumi config set --path 'sshPublicKeys[0]' "$(cat ~/.ssh/id_ed25519.pub)" --stack dev`,
      "skipped secrets: the stack's secrets could not be decrypted, so their values were not checked | run with PULUMI_CONFIG_PASSPHRASE set and the pulumi CLI on $PATH (preflight runs `pulumi config --show-secrets --json --stack dev`)",
      `ok kantai:image.fileName: "jammy-server-cloudimg-amd64.qcow2" has an extension import content accepts`,
      "warning kantai:proxmoxInsecure: the Proxmox API's TLS certificate is not verified | install a certificate the machine running pulumi trusts (Datacenter > ACME, or pvenode cert set), then pulumi config set proxmoxInsecure false --stack dev",
    ]);
  });

  it("known secrets that are placeholders are errors (synth's substitutes stand in for the committed ones here)", () => {
    const found = configChecks({ raw: rawOf("dev"), stack: "dev", secretsKnown: true }).filter(
      (f) => f.check === "placeholder",
    );
    expect(found.map((f) => f.where)).toEqual([
      "kantai:proxmoxApiToken",
      "kantai:sshPrivateKey",
      "kantai:githubRunnerToken",
      "kantai:sshPublicKeys[0]",
    ]);
  });

  it("the edge stack's documentation addresses, domain and ids are named by key", () => {
    const docs = configChecks({ raw: rawOf("edge"), stack: "edge", secretsKnown: false }).filter((f) =>
      f.message.includes("documentation placeholder"),
    );
    expect(docs.map((f) => f.where)).toEqual([
      "kantai:k3s.edge.nodes[0].externalIp",
      "kantai:k3s.edge.nodes[1].externalIp",
      "kantai:k3s.edge.nodes[2].externalIp",
      "kantai:k3s.edge.nodes[3].externalIp",
      "kantai:k3s.edge.nodes[4].externalIp",
      "kantai:knative.domain",
      "kantai:cloudflareAccountId",
      "kantai:cloudflareZone",
      "kantai:cloudflareZoneId",
      "kantai:webapps[2].env.HOST_URL",
    ]);
    expect(docs[0].message).toBe(
      "203.0.113.21 is a documentation placeholder (RFC 5737 address, example domain or the committed id)",
    );
    expect(docs[0].fix).toBe("pulumi config set --path 'k3s.edge.nodes[0].externalIp' <your value> --stack edge");
  });

  it("a stack of one's own passes the config-only checks", () => {
    const raw = {
      ...rawOf("lab"),
      proxmoxInsecure: false,
      image: { url: "https://x/y.img", fileName: "jammy.qcow2" },
      sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMine me"],
    };
    for (const ext of ["qcow2", "raw", "vmdk", "ova"]) {
      raw.image = { url: "https://x/y.img", fileName: `jammy.${ext}` };
      expect(
        configChecks({ raw, stack: "lab", encryptionSalt: "v1:b3du:v1:x:y", secretsKnown: false }).filter(
          (f) => f.level === "error" || f.level === "warning",
        ),
      ).toEqual([]);
    }
  });
});

describe("the SSH probe", () => {
  it("is valid POSIX sh (shellcheck) and runs under the real sh", () => {
    const script = probeScript("/var/lib/vz/snippets");
    const sc = spawnSync("shellcheck", ["-s", "sh", "-"], { input: script, encoding: "utf8" });
    expect(sc.stdout + sc.stderr).toBe("");
    expect(sc.status).toBe(0);
    const res = spawnSync("sh", ["-s"], { input: script, encoding: "utf8" });
    expect(res.status).toBe(0);
    const p = parseProbe(res.stdout);
    expect(Object.keys(p).sort()).toEqual(["ip_forward", "iptables", "pveversion", "root", "snippets_dir", "uid"]);
    expect(p.uid).toBe(String(process.getuid?.()));
    // this machine is no Proxmox node: the probe says so
    const found = sshChecks({
      node: "pve",
      address: "127.0.0.1",
      user: "root",
      status: 0,
      stdout: res.stdout,
      stderr: "",
      snippetsDir: "/var/lib/vz/snippets",
    });
    expect(found.map((f) => f.message)).toContain("pveversion not found: this host is not a Proxmox VE node");
  });

  it("judges a recorded probe of a Proxmox node (non-root user without sudo, no snippets dir)", () => {
    const out =
      "uid=1000\nroot=no\npveversion=pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)\niptables=yes\nip_forward=1\nsnippets_dir=no\n";
    expect(
      sshChecks({
        node: "pve",
        address: "10.15.40.20",
        user: "kantai",
        status: 0,
        stdout: out,
        stderr: "",
        snippetsDir: "/var/lib/vz/snippets",
      }),
    ).toEqual([
      {
        level: "error",
        check: "ssh",
        where: "kantai@10.15.40.20 (pve)",
        message:
          "kantai is not root and cannot run sudo without a password: snippet uploads and the NAT/gateway scripts need root",
        fix: "pulumi config set sshUser root, or on pve: echo 'kantai ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/kantai",
      },
      {
        level: "error",
        check: "ssh",
        where: "kantai@10.15.40.20 (pve)",
        message: "/var/lib/vz/snippets does not exist: cloud-init snippets cannot be written",
        fix: "enable the snippets content type on the storage (pvesm set <storage> --content …,snippets creates it) or mkdir -p /var/lib/vz/snippets",
      },
    ]);
  });

  it("a refused key is reported with how to authorise it", () => {
    const [f] = sshChecks({
      node: "pve",
      address: "10.15.40.20",
      user: "root",
      status: 255,
      stdout: "",
      stderr: "root@10.15.40.20: Permission denied (publickey,password).\n",
    });
    expect(f.message).toBe(
      "cannot log in over SSH (exit 255): root@10.15.40.20: Permission denied (publickey,password).",
    );
    expect(f.fix).toBe(
      "append the public half of kantai:sshPrivateKey to ~root/.ssh/authorized_keys on pve (ssh-copy-id -i <key>.pub root@10.15.40.20)",
    );
  });
});
