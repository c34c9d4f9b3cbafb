/**
 * The user-data of the conventional fleet's VMs (seed 000's "kenobi", components/fleet/
 * conventionalFleet.ts): the web VMs and the load balancer, each a container host
 * (renderContainerHostUserData). Pure: returns text, creates nothing.
 */
import { renderContainerHostUserData, type VmIdentity } from "./cloudInit";

/** Where the load balancer's Caddyfile lives on the VM, and the unit that runs Caddy. */
export const LB_CADDYFILE = "/etc/kantai/caddy/Caddyfile";
export const LB_UNIT = "kantai-caddy.service";

/** Render a web VM's user-data: the service source and a systemd unit running it in a container. */
export function renderWebUserData(a: VmIdentity & { port: number; image: string; serviceSource: string }): string {
  return renderContainerHostUserData(
    a,
    {
      name: "kantai-web",
      description: `kantai web service (${a.hostname})`,
      image: a.image,
      runArgs: [
        "-p",
        `${a.port}:${a.port}`,
        "-e",
        `PORT=${a.port}`,
        "-e",
        `INSTANCE=${a.hostname}`,
        "-v",
        "/opt/kantai/web/server.js:/app/server.js:ro",
      ],
      command: ["node", "/app/server.js"],
    },
    [{ path: "/opt/kantai/web/server.js", content: a.serviceSource, permissions: "0644" }],
  );
}

/**
 * Render the load balancer's user-data: Caddy in a host-network container, installed but not
 * started. The Caddyfile (which lists the web VMs, so it changes with the fleet size) is not part
 * of it: it is written over SSH and re-applied on change, so resizing the fleet never replaces the
 * load balancer (docs/decisions/0009).
 */
export function renderLoadBalancerUserData(a: VmIdentity & { caddyImage: string }): string {
  return renderContainerHostUserData(
    a,
    {
      name: "kantai-caddy",
      description: "kantai load balancer (Caddy)",
      image: a.caddyImage,
      runArgs: ["--network", "host", "-v", `${LB_CADDYFILE}:/etc/caddy/Caddyfile:ro`],
      command: ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"],
    },
    [],
    { startService: false },
  );
}
