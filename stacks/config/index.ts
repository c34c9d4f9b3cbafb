/**
 * kantai's configuration: the one place `kantai:*` keys are read and validated (stacks/config/).
 * Import from here (`./config`, `../stacks/config`), not from the area files.
 */
export * from "./proxmox";
export * from "./clusters";
export * from "./platform";
export * from "./routing";
export * from "./ci";
export * from "./observability";
export * from "./storage";
export * from "./placeholders";
