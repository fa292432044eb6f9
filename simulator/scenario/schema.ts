/**
 * The scenario format (apiVersion gitops-testbed.dev/v1alpha1, kind Scenario):
 * its JSON Schema (unknown keys and wrong types are errors with file, line and
 * path) and the resolved, defaulted `Scenario` the runner consumes.
 * docs/SCENARIOS.md is the user reference.
 */
import { DRIFT_KIND_NAMES, INFRA_FAULT_NAMES, RELEASE_FAULT_NAMES } from "./catalogue.ts";

const duration = {
  anyOf: [
    { type: "string", pattern: "^(\\d+(\\.\\d+)?(ms|s|m|h|d|w))+$" },
    { type: "number", minimum: 0 },
  ],
} as const;
const probability = { type: "number", minimum: 0, maximum: 1 } as const;
const weights = (names: readonly string[]) => ({
  type: "object",
  additionalProperties: false,
  properties: Object.fromEntries(names.map((n) => [n, { type: "number", minimum: 0 }])),
});
const dist = {
  type: "object",
  additionalProperties: false,
  required: ["median"],
  properties: { median: duration, p90: duration },
} as const;
const serviceRef = {
  anyOf: [
    { type: "string", minLength: 1 },
    { type: "integer", minimum: 0 },
  ],
} as const;
const params = { type: "object", additionalProperties: { type: ["number", "string", "boolean"] } } as const;

const canaryStep = {
  type: "object",
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    setWeight: { type: "integer", minimum: 0, maximum: 100 },
    pause: {
      type: "object",
      additionalProperties: false,
      properties: { duration: duration },
    },
    analysis: { type: "object" },
    setCanaryScale: { type: "object" },
  },
} as const;

const assertion = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    name: { type: "string", minLength: 1 },
    world: { type: "string" },
    metric: { type: "string", pattern: "^[A-Za-z0-9_.]+$" },
    below: { type: "number" },
    atMost: { type: "number" },
    above: { type: "number" },
    atLeast: { type: "number" },
    equals: { type: ["number", "string", "boolean"] },
    rollout: {
      type: "object",
      additionalProperties: false,
      required: ["service", "phase"],
      properties: {
        service: serviceRef,
        phase: { enum: ["Healthy", "Progressing", "Paused", "Degraded"] },
        within: duration,
        after: { enum: ["deploy-start", "analysis-start"] },
      },
    },
    drift: {
      type: "object",
      additionalProperties: false,
      properties: {
        service: serviceRef,
        kind: { enum: DRIFT_KIND_NAMES },
        detectedWithin: duration,
        healedWithin: duration,
      },
    },
    badVersionWeight: {
      type: "object",
      additionalProperties: false,
      required: ["atMost"],
      properties: { atMost: { type: "number", minimum: 0, maximum: 100 } },
    },
  },
} as const;

const scheduledEvent = {
  type: "object",
  additionalProperties: false,
  required: ["at"],
  properties: {
    at: duration,
    world: { type: "string" },
    deploy: {
      type: "object",
      additionalProperties: false,
      required: ["service"],
      properties: { service: serviceRef, fault: { enum: RELEASE_FAULT_NAMES }, params },
    },
    drift: {
      type: "object",
      additionalProperties: false,
      required: ["service", "kind"],
      properties: {
        service: serviceRef,
        kind: { enum: DRIFT_KIND_NAMES },
        identity: { type: "string" },
        params,
      },
    },
    fault: {
      type: "object",
      additionalProperties: false,
      required: ["kind"],
      properties: { kind: { enum: INFRA_FAULT_NAMES }, for: duration, service: serviceRef, params },
    },
    revokeAccess: {
      type: "object",
      additionalProperties: false,
      properties: {
        namespaces: { type: "array", items: { type: "string" } },
        except: { type: "array", items: { type: "string" } },
      },
    },
  },
} as const;

export const SCENARIO_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["apiVersion", "kind", "metadata", "spec"],
  properties: {
    apiVersion: { const: "gitops-testbed.dev/v1alpha1" },
    kind: { const: "Scenario" },
    metadata: {
      type: "object",
      additionalProperties: false,
      required: ["name"],
      properties: {
        name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" },
        description: { type: "string" },
      },
    },
    spec: {
      type: "object",
      additionalProperties: false,
      required: ["duration", "worlds"],
      properties: {
        seed: { type: "integer" },
        start: { type: "string", minLength: 1 },
        duration: duration,
        fleet: {
          type: "object",
          additionalProperties: false,
          properties: {
            services: { type: "integer", minimum: 1, maximum: 5000 },
            naming: { enum: ["faker", "indexed"] },
            tiers: weights(["internal", "tier-2", "tier-1"]),
            requestRate: {
              type: "object",
              additionalProperties: false,
              properties: {
                min: { type: "number", exclusiveMinimum: 0 },
                max: { type: "number", exclusiveMinimum: 0 },
              },
            },
          },
        },
        worlds: {
          type: "array",
          minItems: 1,
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name", "model"],
            properties: {
              name: { type: "string", pattern: "^[a-z0-9-]+$" },
              model: { enum: ["manual", "gitops", "migration"] },
              canaryAnalysis: { type: "boolean" },
              selfHeal: { type: "boolean" },
              webhook: { type: "boolean" },
            },
          },
        },
        changes: {
          type: "object",
          additionalProperties: false,
          properties: {
            perServicePerWeek: { type: "number", minimum: 0 },
            badRatio: probability,
            faults: weights(RELEASE_FAULT_NAMES),
            faultParams: {
              type: "object",
              additionalProperties: false,
              properties: Object.fromEntries(RELEASE_FAULT_NAMES.map((n) => [n, params])),
            },
            workingHours: { type: "boolean" },
          },
        },
        drift: {
          type: "object",
          additionalProperties: false,
          properties: {
            perWeek: { type: "number", minimum: 0 },
            kinds: weights(DRIFT_KIND_NAMES),
            causesIncidentRatio: probability,
            /** After access is revoked, attempts fall by this factor per week (people adapt). */
            decayPerWeekAfterRevoke: probability,
          },
        },
        delivery: {
          type: "object",
          additionalProperties: false,
          properties: {
            pollInterval: duration,
            webhook: { type: "boolean" },
            selfHeal: { type: "boolean" },
            prune: { type: "boolean" },
            review: dist,
            emergencyChange: dist,
            canary: {
              type: "object",
              additionalProperties: false,
              properties: {
                enabled: { type: "boolean" },
                steps: { type: "array", minItems: 1, items: canaryStep },
                analysis: {
                  type: "object",
                  additionalProperties: false,
                  properties: {
                    /** false: the Rollout has no analysis; canaries step through unjudged. */
                    enabled: { type: "boolean" },
                    interval: duration,
                    window: duration,
                    errorRate: { type: "number", exclusiveMinimum: 0 },
                    p99Latency: duration,
                    failureLimit: { type: "integer", minimum: -1 },
                    startingStep: { type: "integer", minimum: 0 },
                    requestGuard: { type: "boolean" },
                  },
                },
              },
            },
          },
        },
        people: {
          type: "object",
          additionalProperties: false,
          properties: {
            alertErrorRate: { type: "number", exclusiveMinimum: 0 },
            alertP99Latency: duration,
            alertFor: duration,
            acknowledge: dist,
            findLastGoodTag: dist,
            handRollback: dist,
            manualDeployDelay: dist,
            fixForward: dist,
          },
        },
        access: {
          type: "object",
          additionalProperties: false,
          properties: { revokeAt: duration },
        },
        migration: {
          type: "object",
          additionalProperties: false,
          properties: {
            phases: {
              type: "array",
              items: {
                type: "object",
                additionalProperties: false,
                required: ["tier", "from"],
                properties: { tier: { enum: ["internal", "tier-2", "tier-1"] }, from: duration },
              },
            },
          },
        },
        report: {
          type: "object",
          additionalProperties: false,
          properties: {
            /** Re-run the gitops worlds without each mechanism and report the deltas. */
            attribution: { type: "boolean" },
          },
        },
        events: { type: "array", items: scheduledEvent },
        assertions: { type: "array", items: assertion },
      },
    },
  },
} as const;
