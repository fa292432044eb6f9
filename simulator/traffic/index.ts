/** The synthetic traffic model: request rates, version behaviours, canary split, lazy Prometheus series. */
export * from "./behaviour.ts";
export * from "./cluster.ts";
export type * from "./events.ts";
export * from "./live.ts";
export * from "./model.ts";
export type { Lifetime, ServiceTrafficSpec } from "./service.ts";
export type { RateShape } from "./shape.ts";
export { CODES, DEFAULT_BUCKETS } from "./version.ts";
