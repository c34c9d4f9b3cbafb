/** The KnativeService component (seed 000's fibonacci-behavior), recorded under Pulumi mocks (SIMULATED). */
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { RecordedResource } from "../scripts/synth/recorder";
import { validateObject } from "./support/k8sSchemas";

let resources: RecordedResource[] = [];
let component: import("../components/knative/knativeService").KnativeService;

beforeAll(async () => {
  const { recordProgram } = await import("../scripts/synth/recorder");
  const kubernetes = await import("@pulumi/kubernetes");
  const { KnativeService } = await import("../components/knative/knativeService");
  const rec = await recordProgram(() => {
    const provider = new kubernetes.Provider("cluster", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
    return new KnativeService(
      "fibonacci-behavior",
      {
        image: "ghcr.io/kantai/fibonacci:1.0.0",
        env: { FIB_N: "30" },
        scale: { target: 200, min: 0, max: 5, window: "30s", targetBurstCapacity: -1 },
        resources: { requests: { cpu: "200m", memory: "512M" }, limits: { cpu: "1", memory: "512M" } },
        domain: "local.knative",
      },
      { providers: { kubernetes: provider } },
    );
  });
  resources = rec.resources;
  component = rec.result;
});

describe("KnativeService", () => {
  it("registers one serving.knative.dev/v1 Service with the seed's scale annotations and resources", () => {
    expect(resources.map((r) => `${r.type} ${r.name}`)).toEqual([
      "pulumi:providers:kubernetes cluster",
      "kantai:knative:KnativeService fibonacci-behavior",
      "kubernetes:serving.knative.dev/v1:Service fibonacci-behavior-service",
    ]);
    const svc = resources[2];
    expect(svc.parent).toBe("fibonacci-behavior");
    expect(svc.inputs).toEqual({
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      metadata: {
        name: "fibonacci-behavior",
        namespace: "default",
        labels: { "app.kubernetes.io/managed-by": "kantai", "app.kubernetes.io/part-of": "knative" },
      },
      spec: {
        template: {
          metadata: {
            annotations: {
              "autoscaling.knative.dev/target": "200",
              "autoscaling.knative.dev/min-scale": "0",
              "autoscaling.knative.dev/max-scale": "5",
              "autoscaling.knative.dev/window": "30s",
              "autoscaling.knative.dev/target-burst-capacity": "-1",
            },
          },
          spec: {
            containers: [
              {
                name: "user-container",
                image: "ghcr.io/kantai/fibonacci:1.0.0",
                env: [{ name: "FIB_N", value: "30" }],
                resources: { requests: { cpu: "200m", memory: "512M" }, limits: { cpu: "1", memory: "512M" } },
              },
            ],
          },
        },
      },
    });
  });

  it("its URL follows Knative's default domain template", () => {
    expect(component.url).toBe("http://fibonacci-behavior.default.local.knative");
  });

  it("lists its manifest as a kubernetes artifact that validates against the Knative schema", async () => {
    expect(component.artifacts.map((a) => [a.path, a.kind, a.resource])).toEqual([
      ["fibonacci-behavior/knative-service.yaml", "kubernetes", "fibonacci-behavior-service"],
    ]);
    const obj = parse(component.artifacts[0].content as string);
    expect(obj).toEqual(component.manifest);
    await validateObject(obj);
  });
});
