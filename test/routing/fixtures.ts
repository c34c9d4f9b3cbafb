/** The small FaaSt-shaped routing input several tests share: 1 edge + 2 cloud nodes, 50 ms edge–cloud, 1 ms cloud–cloud. */
import type { RoutingNode } from "../../lib/routing/types";

export const faastNodes = (): RoutingNode[] => [
  { name: "edge", maxPods: 5, serviceRate: 250 },
  { name: "cloud1", maxPods: 6, serviceRate: 250 },
  { name: "cloud2", maxPods: 6, serviceRate: 250 },
];

export const faastRttMs = (): Record<string, Record<string, number>> => ({
  edge: { cloud1: 50, cloud2: 50 },
  cloud1: { edge: 50, cloud2: 1 },
  cloud2: { edge: 50, cloud1: 1 },
});
