/**
 * TemplateGuard: an edit that would replace a protected template fails in `pulumi preview` (the
 * engine calls a provider's `check` while previewing) with the key and what to do.
 *
 * Upstream rules pinned here:
 * - Pulumi refuses to replace a protected resource only when old and new are protected
 *   (pulumi/pulumi pkg/resource/deploy/step_generator.go: `if new.Protect && old.Protect` →
 *   "unable to replace resource … as it is currently marked for protection"), so unprotecting
 *   (`allowReplace`) and replacing in one `up` is allowed.
 * - A dynamic provider's check(olds, news) receives the previous inputs from the state
 *   (@pulumi/pulumi dynamic ResourceProvider.check).
 */
import { describe, expect, it } from "vitest";
import { templateGuardFailures, type TemplateGuardInputs } from "../components/proxmox/templateGuard";
import { ROOT } from "./support/devConfig";
import { runSerializedProvider } from "./support/dynamicProvider";

const base: TemplateGuardInputs = {
  key: "standalone",
  vmName: "template-standalone",
  vmId: 8000,
  node: "pve",
  image:
    "https://cloud-images.ubuntu.com/releases/22.04/release-20240912/ubuntu-22.04-server-cloudimg-amd64.img jammy-server-cloudimg-amd64.qcow2 5da0",
  diskDatastore: "local-lvm",
  diskGb: 10,
  allowReplace: false,
};
// "and with it every VM cloned from it": a delete-before-replace deletes first every dependent whose
// inputs come from the replaced resource and whose provider Diff (inputs unknown) says replace
// (pulumi/pulumi step_generator.go calculateDependentReplacements; ignoreChanges is not applied
// there), and a clone's `clone.vm_id` forces replacement.
const tail =
  'would replace the protected template "template-standalone" (VM 8000), and with it every VM cloned from it: they are deleted first and cloned again ' +
  "from the new template (their disks' content is lost). To go ahead, set kantai:templates.standalone.allowReplace to true for one `pulumi up`, then remove it; otherwise revert the change.";

describe("template guard", () => {
  it("passes a first create, an unchanged template and in-place edits (a bigger disk)", () => {
    expect(templateGuardFailures({}, base)).toEqual([]);
    expect(templateGuardFailures(base, base)).toEqual([]);
    expect(templateGuardFailures(base, { ...base, diskGb: 20 })).toEqual([]);
  });

  it("refuses each replacing edit, naming the key and what to do", () => {
    expect(templateGuardFailures(base, { ...base, vmId: 8001 })).toEqual([
      { property: "vmId", reason: `kantai:templates.standalone: vmId 8000 → 8001 ${tail}` },
    ]);
    expect(templateGuardFailures(base, { ...base, image: "https://example.org/noble.img noble.qcow2 " })).toEqual([
      {
        property: "image",
        reason: `kantai:templates.standalone: the cloud image (kantai:image) ${base.image} → https://example.org/noble.img noble.qcow2  ${tail}`,
      },
    ]);
    expect(templateGuardFailures(base, { ...base, diskDatastore: "ceph" })[0].reason).toBe(
      `kantai:templates.standalone: the disk datastore (kantai:storage.disks) local-lvm → ceph ${tail}`,
    );
    expect(templateGuardFailures(base, { ...base, diskGb: 8 })[0].reason).toBe(
      `kantai:templates.standalone: diskGb 10 → 8 (Proxmox cannot shrink a disk) ${tail}`,
    );
  });

  it("lets the change through when allowReplace is set for the run", () => {
    expect(templateGuardFailures(base, { ...base, vmId: 8001, allowReplace: true })).toEqual([]);
  });
});

describe("template guard provider: serialized, then checked in a fresh node as the engine would", () => {
  it("fails check (what preview runs) on a replacing edit, passes otherwise", async () => {
    const { templateGuardProvider } = await import("../components/proxmox/templateGuard");
    const r = await runSerializedProvider(
      () => templateGuardProvider,
      `
  const olds = input;
  const same = await provider.check(olds, olds);
  const moved = await provider.check(olds, { ...olds, vmId: 8001 });
  const created = await provider.create(olds);
  return { same, moved, created };`,
      base,
    );
    expect(r.text).not.toContain(ROOT);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = r.out;
    expect(out.same.failures).toBeUndefined();
    expect(out.moved.failures).toEqual([
      { property: "vmId", reason: `kantai:templates.standalone: vmId 8000 → 8001 ${tail}` },
    ]);
    expect(out.created.id).toBe("template-guard-standalone");
  });
});
