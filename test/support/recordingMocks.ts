// Pulumi mocks (SIMULATED: no engine, no provider) that record every resource registered, with its
// inputs as its state. Shared by the component tests that read what a component registers.
export interface Recorded {
  type: string;
  name: string;
  inputs: any;
}

/** Install the mocks (process-global); every registered resource is pushed onto `recorded`. */
export async function recordingMocks(recorded: Recorded[]): Promise<void> {
  const pulumi = await import("@pulumi/pulumi");
  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: async (args) => args.inputs,
    },
    "kantai",
    "test",
    false,
  );
}
