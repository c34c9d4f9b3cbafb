// kantai's Pulumi program. Everything lives in stacks/ (composition) and components/;
// this file only exports the selected stack's outputs (see stacks/outputs.ts for the contract).
import { run } from "./stacks";

export = run().outputs;
