/**
 * The gateway install script and the root wrapper run for real in a mount namespace this test
 * creates (unshare), with tmpfs over the directories they write: real named-checkconf,
 * named-checkzone and caddy validate. Stand-ins (SIMULATED, named so here and in their text):
 * `apt-get` (answers `update` like an unsubscribed Proxmox host, `install` links the real binaries
 * in), `systemctl` (logs its calls) and `sudo` (logs and runs the command).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { renderNamedConf, renderZone } from "../lib/render/bind";
import { renderRootCaddyfile } from "../lib/render/caddy";
import { asHostRoot, renderGatewayInstall } from "../lib/render/hostScripts";
import { runTool } from "./support/tools";

const domain = "hosts.pve";
const zoneFile = "/var/lib/bind/db.hosts.pve";
const install = renderGatewayInstall({
  domain,
  zoneFile,
  zone: renderZone({ domain, gatewayAddress: "10.15.40.20" }),
  // The config's default ACL (stacks/config/proxmox.ts): BIND's built-in "localnets" plus the bridge.
  namedConf: renderNamedConf({
    domain,
    zoneFile,
    internalNetworks: ["localnets", "10.0.0.0/24"],
    forwarders: ["1.1.1.1"],
  }),
  caddyfile: renderRootCaddyfile({ domain, routes: [{ label: "standalone", upstream: "10.0.0.35:80" }] }),
});

/**
 * TEST STAND-IN for apt-get. `update` prints what apt prints on a Proxmox host whose default
 * enterprise repository has no subscription, and exits 100 as apt does when an index fails to
 * download (https://pve.proxmox.com/wiki/Package_Repositories: the enterprise repository "needs a
 * valid subscription key"). `install` links the real named and caddy in and writes the
 * distribution's default configs, or fails when APT_INSTALL_FAILS is set.
 */
const APT_STANDIN = `#!/bin/sh
# TEST STAND-IN for apt-get (SIMULATED).
echo "apt-get $*" >> "$KANTAI_LOG"
case "$1" in
  update)
    echo "Hit:1 http://deb.debian.org/debian bookworm InRelease"
    echo "Err:2 https://enterprise.proxmox.com/debian/pve bookworm InRelease" >&2
    echo "  401  Unauthorized [IP: 212.224.123.70 443]" >&2
    echo "E: Failed to fetch https://enterprise.proxmox.com/debian/pve/dists/bookworm/InRelease  401  Unauthorized" >&2
    echo "E: Some index files failed to download. They have been ignored, or old ones used instead." >&2
    exit 100 ;;
  install)
    if [ -n "\${APT_INSTALL_FAILS:-}" ]; then echo "E: Unable to locate package caddy" >&2; exit 100; fi
    ln -sf /usr/sbin/named "$KANTAI_BIN/named"; ln -sf /usr/bin/caddy "$KANTAI_BIN/caddy"
    echo "// distribution default" > /etc/bind/named.conf; echo "# distribution default" > /etc/caddy/Caddyfile
    exit 0 ;;
esac
`;
const SYSTEMCTL_STANDIN = `#!/bin/sh
# TEST STAND-IN for systemctl (SIMULATED): logs its calls.
echo "systemctl $*" >> "$KANTAI_LOG"
`;
const SUDO_STANDIN = `#!/bin/sh
# TEST STAND-IN for sudo (SIMULATED): logs its arguments, then runs the command.
echo "sudo $*" >> "$KANTAI_LOG"
[ "$1" = "-n" ] || { echo "sudo: a password is required" >&2; exit 1; }
shift
exec "$@"
`;

/** Tools the install script uses besides the stand-ins; named and caddy arrive with `apt-get install`. */
const TOOLS = [
  "sh",
  "ln",
  "mkdir",
  "dirname",
  "cat",
  "chmod",
  "mv",
  "cp",
  "chown",
  "rm",
  "id",
  "named-checkconf",
  "named-checkzone",
];

function inNamespace(
  script: string,
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string; log: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-gw-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.chmodSync(dir, 0o755);
  for (const t of TOOLS) fs.symlinkSync(runTool("sh", ["-c", `command -v ${t}`]).stdout.trim(), path.join(bin, t));
  fs.writeFileSync(path.join(bin, "apt-get"), APT_STANDIN, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, "systemctl"), SYSTEMCTL_STANDIN, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, "sudo"), SUDO_STANDIN, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "install.sh"), install, { mode: 0o755 });
  const log = path.join(dir, "log");
  fs.writeFileSync(log, "");
  fs.chmodSync(log, 0o666); // the non-root case logs too
  const wrapper = [
    "set -e",
    'for d in /etc/bind /etc/caddy /var/lib/bind; do mount -t tmpfs kantai-test "$d"; done',
    `export PATH="${bin}" KANTAI_BIN="${bin}" KANTAI_LOG="${log}" ${Object.entries(env)
      .map(([k, v]) => `${k}="${v}"`)
      .join(" ")}`,
    `cd "${dir}"`,
    script,
  ].join("\n");
  const r = runTool("unshare", ["--mount", "sh", "-c", wrapper]);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, log: fs.readFileSync(log, "utf8") };
}

describe("gateway install on a Proxmox host without a subscription", () => {
  it("goes on when apt-get update fails on the enterprise repository, installs, validates and restarts", () => {
    const r = inNamespace("sh install.sh");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "kantai: apt-get update reported errors (a Proxmox enterprise repository without a subscription answers 401)",
    );
    expect(r.log.split("\n")).toEqual(
      expect.arrayContaining([
        "apt-get update -q",
        "apt-get install -y -q bind9 bind9-utils caddy",
        "systemctl restart caddy",
      ]),
    );
    expect(r.stderr).not.toContain("gateway install failed");
  });

  it("fails, saying what to fix, when the packages cannot be installed", () => {
    const r = inNamespace("sh install.sh", { APT_INSTALL_FAILS: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("kantai: could not install bind9, bind9-utils and caddy from Debian");
    expect(r.stderr).toContain("enable pve-no-subscription");
    expect(r.stderr).toContain("kantai: gateway install failed during: install bind9 and caddy");
  });
});

describe("host scripts as root for any SSH user (issue 10 item 10)", () => {
  const probe = asHostRoot('echo "ran as uid $(id -u) with $0"', "kantai-probe");

  it("root runs the script directly (Proxmox VE has no sudo for root)", () => {
    const r = inNamespace(`sh -c '${probe.replace(/'/g, `'\\''`)}'`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe("ran as uid 0 with kantai-probe");
    expect(r.log).not.toContain("sudo");
  });

  it("another user goes through sudo -n (never a password prompt), like the K3s scripts", () => {
    // setpriv drops to nobody; the sudo stand-in refuses anything but -n, as real sudo -n fails
    // instead of prompting ("sudo: a password is required").
    const r = inNamespace(
      `setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '${probe.replace(/'/g, `'\\''`)}'`.replace(
        /^setpriv/,
        "/usr/bin/setpriv",
      ),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.log).toMatch(/^sudo -n sh -c /m);
    expect(r.stdout.trim()).toBe("ran as uid 65534 with kantai-probe");
  });
});
