/**
 * renovate.json's custom regex managers find every pin marked with a `renovate:` comment.
 * Renovate itself is not run (it needs a repository host): its regex custom manager is re-enacted —
 * each matchString applied globally to each file its managerFilePatterns select, named groups read
 * (https://docs.renovatebot.com/modules/manager/regex/: currentValue, depName, datasource named
 * groups; managerFilePatterns between slashes are regexes; RE2, so no lookarounds or backreferences).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/devConfig";

interface Manager {
  readonly customType: string;
  readonly managerFilePatterns: string[];
  readonly matchStrings: string[];
}
const config = JSON.parse(fs.readFileSync(path.join(ROOT, "renovate.json"), "utf8")) as { customManagers: Manager[] };

const asRegex = (p: string) => {
  const m = /^\/(.*)\/(i?)$/.exec(p);
  if (!m) throw new Error(`managerFilePatterns entry ${p} is not a /regex/`);
  return new RegExp(m[1], m[2]);
};

interface Found {
  readonly datasource: string;
  readonly depName: string;
  readonly currentValue: string;
}

/** What the managers extract from `text` as file `file`. */
function extract(file: string, text: string): Found[] {
  const out: Found[] = [];
  for (const m of config.customManagers) {
    expect(m.customType).toBe("regex");
    if (!m.managerFilePatterns.some((p) => asRegex(p).test(file))) continue;
    for (const s of m.matchStrings) {
      // RE2 has no lookbehind/lookahead/backreferences: refuse them here too.
      expect(s, "RE2-incompatible construct").not.toMatch(/\(\?<[=!]|\(\?[=!]|\\[1-9]/);
      for (const hit of text.matchAll(new RegExp(s, "g"))) {
        const g = hit.groups ?? {};
        out.push({ datasource: g.datasource, depName: g.depName, currentValue: g.currentValue });
      }
    }
  }
  return out;
}

describe("renovate.json custom managers", () => {
  it.each([
    [
      "lib/x.ts",
      '// renovate: datasource=github-releases depName=k3s-io/k3s\nexport const K3S_VERSION = "v1.34.1+k3s1";\n',
      "github-releases",
      "k3s-io/k3s",
      "v1.34.1+k3s1",
    ],
    [
      "stacks/x.ts",
      '  // renovate: datasource=github-releases depName=knative/serving extractVersion=^knative-v(?<version>.+)$\n  servingVersion: "1.23.0",\n',
      "github-releases",
      "knative/serving",
      "1.23.0",
    ],
    [
      "components/x.ts",
      '// renovate: datasource=docker depName=envoyproxy/envoy\nexport const DEFAULT_PROXY_IMAGE = "envoyproxy/envoy:v1.34.1";\n',
      "docker",
      "envoyproxy/envoy",
      "v1.34.1",
    ],
    [
      "Pulumi.edge.yaml",
      "        # renovate: datasource=docker depName=traefik/whoami\n        image: traefik/whoami:v1.11.0\n",
      "docker",
      "traefik/whoami",
      "v1.11.0",
    ],
    [
      "Pulumi.dev.yaml",
      "    # renovate: datasource=github-releases depName=kubernetes/minikube\n    version: v1.37.0\n",
      "github-releases",
      "kubernetes/minikube",
      "v1.37.0",
    ],
    [
      "scripts/setup.sh",
      "# renovate: datasource=go depName=github.com/rhysd/actionlint\nACTIONLINT_VERSION=v1.7.12\n",
      "go",
      "github.com/rhysd/actionlint",
      "v1.7.12",
    ],
  ])("%s: one pin, exactly", (file, text, datasource, depName, currentValue) => {
    expect(extract(file, text)).toEqual([{ datasource, depName, currentValue }]);
  });

  it("an unmarked pin is not picked up", () => {
    expect(extract("lib/x.ts", 'export const K3S_VERSION = "v1.34.1+k3s1";\n')).toEqual([]);
  });

  it("every `renovate:` comment in the repository yields exactly one pin, the value on the next line", () => {
    const files = execFileSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
    let marked = 0;
    for (const file of files) {
      if (file.startsWith("test/") || file === "CONTRIBUTING.md" || !fs.existsSync(path.join(ROOT, file))) continue;
      const text = fs.readFileSync(path.join(ROOT, file), "utf8");
      const comments = [...text.matchAll(/(?:#|\/\/)\s*renovate: datasource=\S+ depName=(\S+)[^\n]*\n([^\n]*)\n/g)];
      if (comments.length === 0) continue;
      const found = extract(file, text);
      expect(
        found.map((f) => f.depName),
        file,
      ).toEqual(comments.map((c) => c[1]));
      for (const [i, c] of comments.entries()) expect(c[2], `${file}: ${c[1]}`).toContain(found[i].currentValue);
      marked += comments.length;
    }
    expect(marked).toBeGreaterThanOrEqual(1);
  });
});
