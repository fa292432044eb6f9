/**
 * Rollout spec validation with upstream's rules (pkg/apis/rollouts/validation):
 * a strategy, exactly one action per canary step, weights 0-100, pause
 * durations, setCanaryScale fields, analysis template refs; blueGreen is
 * reported as not supported by gitops-testbed (a clear refusal, not a silent skip).
 */
import { parseDuration } from "../core/clock.ts";
import type { CanaryStep, Rollout, RolloutAnalysis } from "./types.ts";

export interface RolloutIssue {
  path: string;
  message: string;
  /** The spec is valid upstream but uses something this testbed does not implement. */
  unsupported?: boolean;
  /** Reported by `validate` but does not stop the controller (e.g. a skipped experiment step). */
  warning?: boolean;
}

const STEP_KEYS = [
  "setWeight",
  "pause",
  "analysis",
  "setCanaryScale",
  "experiment",
  "setHeaderRoute",
  "setMirrorRoute",
  "plugin",
];

function checkAnalysis(a: RolloutAnalysis | undefined, path: string, out: RolloutIssue[]): void {
  if (a === undefined) return;
  const templates = a.templates ?? [];
  if (templates.length === 0)
    out.push({ path: `${path}.templates`, message: "must specify at least one template" });
  templates.forEach((t, i) => {
    if (typeof t.templateName !== "string" || t.templateName === "") {
      out.push({ path: `${path}.templates[${i}].templateName`, message: "templateName is required" });
    }
  });
  (a.args ?? []).forEach((arg, i) => {
    const vf = arg.valueFrom;
    if (
      vf?.podTemplateHashValue !== undefined &&
      vf.podTemplateHashValue !== "Stable" &&
      vf.podTemplateHashValue !== "Latest"
    ) {
      out.push({
        path: `${path}.args[${i}].valueFrom.podTemplateHashValue`,
        message: `Unsupported value: "${vf.podTemplateHashValue}": supported values: "Latest", "Stable"`,
      });
    }
  });
}

export function validateRollout(ro: Rollout): RolloutIssue[] {
  const out: RolloutIssue[] = [];
  const spec = ro.spec ?? {};
  const strategy = spec.strategy ?? {};
  if (strategy.blueGreen !== undefined && strategy.canary !== undefined) {
    out.push({ path: "spec.strategy", message: "Multiple strategies can not be listed" });
    return out;
  }
  if (strategy.blueGreen !== undefined) {
    out.push({
      path: "spec.strategy.blueGreen",
      message: "blueGreen strategy is not supported by gitops-testbed yet",
      unsupported: true,
    });
    return out;
  }
  if (strategy.canary === undefined) {
    out.push({
      path: "spec.strategy",
      message: "Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'",
    });
    return out;
  }
  if (spec.replicas !== undefined && (!Number.isInteger(spec.replicas) || spec.replicas < 0)) {
    out.push({ path: "spec.replicas", message: "must be greater than or equal to 0" });
  }
  if (spec.template === undefined && spec.workloadRef === undefined) {
    out.push({ path: "spec.template", message: "Rollout has missing field '.spec.template'" });
  }
  if (spec.workloadRef !== undefined) {
    out.push({
      path: "spec.workloadRef",
      message: "workloadRef is not supported by gitops-testbed yet",
      unsupported: true,
    });
  }
  const sel = spec.selector?.matchLabels;
  const labels = spec.template?.metadata?.labels ?? {};
  if (sel === undefined || Object.keys(sel).length === 0) {
    out.push({ path: "spec.selector", message: "Rollout has missing field '.spec.selector'" });
  } else if (Object.entries(sel).some(([k, v]) => labels[k] !== v)) {
    out.push({
      path: "spec.template.metadata.labels",
      message: "`selector` does not match template `labels`",
    });
  }
  const canary = strategy.canary;
  const pd = spec.progressDeadlineSeconds ?? 600;
  const mr = spec.minReadySeconds ?? 0;
  if (pd <= mr) {
    out.push({
      path: "spec.progressDeadlineSeconds",
      message: "progressDeadlineSeconds must be greater than minReadySeconds",
    });
  }
  const steps = canary.steps ?? [];
  steps.forEach((step: CanaryStep, i) => {
    const p = `spec.strategy.canary.steps[${i}]`;
    const keys = Object.keys(step).filter(
      (k) => STEP_KEYS.includes(k) && step[k] !== undefined && step[k] !== null,
    );
    if (keys.length !== 1) {
      out.push({
        path: p,
        message: "Step must have one of the following set: experiment, setWeight, setCanaryScale or pause",
      });
      return;
    }
    if (
      step.setWeight !== undefined &&
      (typeof step.setWeight !== "number" || step.setWeight < 0 || step.setWeight > 100)
    ) {
      out.push({ path: `${p}.setWeight`, message: "SetWeight needs to be between 0 and 100" });
    }
    if (step.pause !== undefined && step.pause.duration !== undefined) {
      const d = step.pause.duration;
      try {
        if (typeof d === "number" ? d < 0 : parseDuration(d) < 0) throw new Error("negative");
      } catch {
        out.push({
          path: `${p}.pause.duration`,
          message: `invalid duration "${d}": use an integer of seconds or a string like "30s", "10m", "1h"`,
        });
      }
    }
    if (step.setCanaryScale !== undefined) {
      const s = step.setCanaryScale;
      const set = [s.replicas !== undefined, s.weight !== undefined, s.matchTrafficWeight === true].filter(
        Boolean,
      ).length;
      if (set !== 1)
        out.push({
          path: `${p}.setCanaryScale`,
          message: "SetCanaryScale must have exactly one of replicas, weight, matchTrafficWeight set",
        });
      if (canary.trafficRouting === undefined) {
        out.push({
          path: `${p}.setCanaryScale`,
          message: "SetCanaryScale requires TrafficRouting to be set",
        });
      }
    }
    checkAnalysis(step.analysis, `${p}.analysis`, out);
    if (step.experiment !== undefined) {
      out.push({
        path: `${p}.experiment`,
        message: "experiment steps are not supported by gitops-testbed yet (the step is skipped)",
        unsupported: true,
      });
    }
    for (const k of ["setHeaderRoute", "setMirrorRoute", "plugin"]) {
      if (step[k] !== undefined)
        out.push({
          path: `${p}.${k}`,
          message: `${k} steps are not supported by gitops-testbed yet`,
          unsupported: true,
        });
    }
  });
  if (canary.analysis !== undefined) {
    checkAnalysis(canary.analysis, "spec.strategy.canary.analysis", out);
    const ss = canary.analysis.startingStep;
    if (ss !== undefined && (ss < 0 || ss > steps.length)) {
      out.push({
        path: "spec.strategy.canary.analysis.startingStep",
        message: "StartingStep must be within the range of the steps",
      });
    }
  }
  for (const f of ["abortScaleDownDelaySeconds", "scaleDownDelaySeconds"] as const) {
    const v = canary[f];
    if (v !== undefined && (typeof v !== "number" || v < 0))
      out.push({ path: `spec.strategy.canary.${f}`, message: `${f} must be >= 0` });
  }
  return out;
}
