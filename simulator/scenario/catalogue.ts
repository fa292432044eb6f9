/**
 * The declarative fault catalogue: every fault a scenario may name, its
 * parameters and their defaults. docs/FAULTS.md documents the same table.
 */
export const RELEASE_FAULTS = {
  "error-spike": { errorRate: 0.03 },
  "latency-regression": { latencyFactor: 4 },
  "crash-loop": {},
  "bad-configmap": { errorRate: 0.2 },
  "load-regression": { aboveRps: 40, errorRate: 0.05 },
  "slow-degradation": { errorRatePerHour: 0.002, maxErrorRate: 0.08 },
  "intermittent-errors": { errorRate: 0.008, dutyCycle: 0.3 },
} as const;

export const DRIFT_KINDS = {
  "configmap-edit": {},
  "replicas-frozen": {},
  "image-override": { tagSuffix: "-dev" },
  "env-change": {},
  "resource-deleted": {},
} as const;

export const INFRA_FAULTS = {
  "prometheus-down": {},
  "prometheus-slow": { delay: "20s" },
  "prometheus-empty": {},
  "prometheus-nan": {},
  "api-errors": { code: 500, ratio: 0.2 },
  "api-latency": { delay: "200ms" },
  "watch-drop": {},
  "git-unreachable": {},
  "webhook-loss": { ratio: 1 },
  "notify-down": {},
  "engine-restart": {},
} as const;

export type ReleaseFault = keyof typeof RELEASE_FAULTS;
export type DriftKind = keyof typeof DRIFT_KINDS;
export type InfraFault = keyof typeof INFRA_FAULTS;

export const RELEASE_FAULT_NAMES = Object.keys(RELEASE_FAULTS) as ReleaseFault[];
export const DRIFT_KIND_NAMES = Object.keys(DRIFT_KINDS) as DriftKind[];
export const INFRA_FAULT_NAMES = Object.keys(INFRA_FAULTS) as InfraFault[];
