/**
 * The NAT scripts run for real in a network + mount namespace this test creates (unshare):
 * real iptables, real sysctl (per-namespace ip_forward), and tmpfs over the directories the
 * scripts write. Only `systemctl` is a stand-in (no systemd here): it logs its calls and runs the
 * unit's ExecStart/ExecStop lines, which is what systemd would do.
 */
import { describe, expect, it } from "vitest";
import { renderNatCreate, renderNatDelete } from "../lib/render/hostScripts";
import { inNamespace as runInNamespace, SYSTEMCTL_UNIT_STANDIN, type NamespaceRun } from "./support/namespace";

const spec = { bridge: "vmbr2", subnet: "10.0.0.0/24", uplink: "vmbr0" };

function inNamespace(script: string): NamespaceRun {
  return runInNamespace(script, {
    name: "kantai-nat",
    standins: { systemctl: SYSTEMCTL_UNIT_STANDIN },
    files: { "create.sh": renderNatCreate(spec), "delete.sh": renderNatDelete(spec) },
    tmpfs: ["/etc/systemd/system", "/etc/sysctl.d", "/usr/local/sbin"],
    setup: () => ["rules() { iptables -t nat -S POSTROUTING | grep -c 'kantai-vmbr2' || true; }"],
  });
}

describe("NAT host scripts in a namespace", () => {
  it("create twice leaves exactly one rule, forwarding on, and the unit enabled for boot", () => {
    const r = inNamespace(
      [
        "sh create.sh",
        'echo "after1=$(rules)"',
        "sh create.sh",
        'echo "after2=$(rules)"',
        'echo "forward=$(cat /proc/sys/net/ipv4/ip_forward)"',
        "iptables -t nat -S POSTROUTING",
        "ls /etc/systemd/system /etc/sysctl.d /usr/local/sbin",
      ].join("\n"),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("after1=1");
    expect(r.stdout).toContain("after2=1");
    expect(r.stdout).toContain("forward=1");
    expect(r.stdout).toContain(
      "-A POSTROUTING -s 10.0.0.0/24 -o vmbr0 -m comment --comment kantai-vmbr2 -j MASQUERADE",
    );
    expect(r.stdout).toMatch(/kantai-nat-vmbr2\.service/);
    expect(r.stdout).toMatch(/90-kantai-nat-vmbr2\.conf/);
    expect(r.log.split("\n").filter((l) => l === "systemctl enable kantai-nat-vmbr2.service")).toHaveLength(2);
  });

  it("delete removes the rule (every copy) and the files; delete again is harmless", () => {
    const r = inNamespace(
      [
        "sh create.sh",
        // a stray duplicate someone added by hand
        "iptables -t nat -A POSTROUTING -s 10.0.0.0/24 -o vmbr0 -j MASQUERADE -m comment --comment kantai-vmbr2",
        'echo "before=$(rules)"',
        "sh delete.sh",
        'echo "after=$(rules)"',
        "sh delete.sh",
        'echo "again=$(rules)"',
        'echo "files=$(ls /etc/systemd/system /usr/local/sbin /etc/sysctl.d | grep -c kantai || true)"',
      ].join("\n"),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("before=2");
    expect(r.stdout).toContain("after=0");
    expect(r.stdout).toContain("again=0");
    expect(r.stdout).toContain("files=0");
  });

  it("a boot (the unit's ExecStart on an empty table) restores the rule", () => {
    const r = inNamespace(
      [
        "sh create.sh",
        "iptables -t nat -F POSTROUTING",
        'echo "flushed=$(rules)"',
        "systemctl restart kantai-nat-vmbr2.service",
        'echo "booted=$(rules)"',
      ].join("\n"),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("flushed=0");
    expect(r.stdout).toContain("booted=1");
  });
});
