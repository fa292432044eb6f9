import { describe, expect, it } from "vitest";
import type { KubeObject } from "../kube/types.ts";
import { appHealth, getHealth, HealthRegistry, type HealthStatus } from "./index.ts";

function obj(apiVersion: string, kind: string, rest: Record<string, unknown>, generation = 1): KubeObject {
  return { apiVersion, kind, metadata: { name: "x", namespace: "ns", generation }, ...rest };
}

const deploy = (spec: Record<string, unknown>, status: Record<string, unknown>, generation = 1) =>
  obj(
    "apps/v1",
    "Deployment",
    { spec: { replicas: 3, ...spec }, status: { observedGeneration: 1, ...status } },
    generation,
  );

const cases: Array<[string, KubeObject, HealthStatus | undefined]> = [
  [
    "deployment healthy",
    deploy({}, { replicas: 3, updatedReplicas: 3, availableReplicas: 3 }),
    { status: "Healthy" },
  ],
  [
    "deployment waiting for available",
    deploy({}, { replicas: 3, updatedReplicas: 3, availableReplicas: 2 }),
    {
      status: "Progressing",
      message: "Waiting for rollout to finish: 2 of 3 updated replicas are available...",
    },
  ],
  [
    "deployment updating",
    deploy({}, { replicas: 3, updatedReplicas: 1, availableReplicas: 3 }),
    {
      status: "Progressing",
      message: "Waiting for rollout to finish: 1 out of 3 new replicas have been updated...",
    },
  ],
  [
    "deployment old replicas",
    deploy({}, { replicas: 4, updatedReplicas: 3, availableReplicas: 3 }),
    {
      status: "Progressing",
      message: "Waiting for rollout to finish: 1 old replicas are pending termination...",
    },
  ],
  [
    "deployment generation not observed",
    deploy({}, { replicas: 3, updatedReplicas: 3, availableReplicas: 3 }, 2),
    {
      status: "Progressing",
      message: "Waiting for rollout to finish: observed deployment generation less than desired generation",
    },
  ],
  [
    "deployment paused",
    deploy({ paused: true }, {}),
    { status: "Suspended", message: "Deployment is paused" },
  ],
  [
    "deployment progress deadline",
    deploy(
      {},
      {
        updatedReplicas: 1,
        conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
      },
    ),
    { status: "Degraded", message: 'Deployment "x" exceeded its progress deadline' },
  ],
  [
    "statefulset waiting pods",
    obj("apps/v1", "StatefulSet", {
      spec: { replicas: 3 },
      status: { observedGeneration: 1, readyReplicas: 1 },
    }),
    { status: "Progressing", message: "Waiting for 2 pods to be ready..." },
  ],
  [
    "statefulset complete",
    obj("apps/v1", "StatefulSet", {
      spec: { replicas: 2 },
      status: {
        observedGeneration: 1,
        readyReplicas: 2,
        currentReplicas: 2,
        currentRevision: "r1",
        updateRevision: "r1",
      },
    }),
    { status: "Healthy", message: "statefulset rolling update complete 2 pods at revision r1..." },
  ],
  [
    "replicaset failure",
    obj("apps/v1", "ReplicaSet", {
      spec: { replicas: 1 },
      status: {
        observedGeneration: 1,
        conditions: [{ type: "ReplicaFailure", status: "True", message: "quota" }],
      },
    }),
    { status: "Degraded", message: "quota" },
  ],
  [
    "daemonset rolling",
    obj("apps/v1", "DaemonSet", {
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 3,
        updatedNumberScheduled: 3,
        numberAvailable: 1,
      },
    }),
    {
      status: "Progressing",
      message: 'Waiting for daemon set "x" rollout to finish: 1 of 3 updated pods are available...',
    },
  ],
  [
    "pod crashloop",
    obj("v1", "Pod", {
      spec: {},
      status: {
        phase: "Running",
        containerStatuses: [
          { name: "a", state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 5m" } } },
        ],
      },
    }),
    { status: "Degraded", message: "back-off 5m" },
  ],
  [
    "pod ready",
    obj("v1", "Pod", {
      spec: {},
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    }),
    { status: "Healthy" },
  ],
  [
    "hook pod failed exit code",
    obj("v1", "Pod", {
      spec: { restartPolicy: "Never" },
      status: { phase: "Failed", containerStatuses: [{ name: "m", state: { terminated: { exitCode: 3 } } }] },
    }),
    { status: "Degraded", message: 'container "m" failed with exit code 3' },
  ],
  ["job running", obj("batch/v1", "Job", { status: { active: 1 } }), { status: "Progressing" }],
  [
    "job complete",
    obj("batch/v1", "Job", { status: { conditions: [{ type: "Complete", status: "True" }] } }),
    { status: "Healthy" },
  ],
  [
    "job failed",
    obj("batch/v1", "Job", {
      status: {
        conditions: [
          { type: "Failed", status: "True", message: "Job has reached the specified backoff limit" },
        ],
      },
    }),
    { status: "Degraded", message: "Job has reached the specified backoff limit" },
  ],
  ["pvc bound", obj("v1", "PersistentVolumeClaim", { status: { phase: "Bound" } }), { status: "Healthy" }],
  [
    "pvc pending",
    obj("v1", "PersistentVolumeClaim", { status: { phase: "Pending" } }),
    { status: "Progressing" },
  ],
  ["pvc lost", obj("v1", "PersistentVolumeClaim", { status: { phase: "Lost" } }), { status: "Degraded" }],
  ["service clusterip", obj("v1", "Service", { spec: { type: "ClusterIP" } }), { status: "Healthy" }],
  ["service lb pending", obj("v1", "Service", { spec: { type: "LoadBalancer" } }), { status: "Progressing" }],
  [
    "ingress with address",
    obj("networking.k8s.io/v1", "Ingress", { status: { loadBalancer: { ingress: [{ ip: "10.0.0.1" }] } } }),
    { status: "Healthy" },
  ],
  ["ingress without address", obj("networking.k8s.io/v1", "Ingress", {}), { status: "Progressing" }],
  [
    "hpa rescaled",
    obj("autoscaling/v2", "HorizontalPodAutoscaler", {
      status: {
        conditions: [{ type: "AbleToScale", status: "True", reason: "SucceededRescale", message: "ok" }],
      },
    }),
    { status: "Healthy", message: "ok" },
  ],
  [
    "hpa failing metrics",
    obj("autoscaling/v2", "HorizontalPodAutoscaler", {
      status: {
        conditions: [
          {
            type: "ScalingActive",
            status: "False",
            reason: "FailedGetResourceMetric",
            message: "no metrics",
          },
        ],
      },
    }),
    { status: "Degraded", message: "no metrics" },
  ],
  [
    "rollout paused -> Suspended",
    obj("argoproj.io/v1alpha1", "Rollout", {
      status: { observedGeneration: "1", phase: "Paused", message: "CanaryPauseStep" },
    }),
    { status: "Suspended", message: "CanaryPauseStep" },
  ],
  [
    "rollout degraded phase",
    obj("argoproj.io/v1alpha1", "Rollout", {
      status: {
        observedGeneration: 1,
        phase: "Degraded",
        message: "RolloutAborted: Rollout aborted update to revision 2",
      },
    }),
    { status: "Degraded", message: "RolloutAborted: Rollout aborted update to revision 2" },
  ],
  [
    "rollout generation not observed",
    obj("argoproj.io/v1alpha1", "Rollout", { status: { observedGeneration: 1, phase: "Healthy" } }, 2),
    { status: "Progressing", message: "Waiting for rollout spec update to be observed" },
  ],
  [
    "rollout without phase, aborted condition",
    obj("argoproj.io/v1alpha1", "Rollout", {
      status: {
        observedGeneration: 1,
        conditions: [{ type: "Progressing", reason: "RolloutAborted", message: "aborted" }],
      },
    }),
    { status: "Degraded", message: "aborted" },
  ],
  [
    "analysisrun failed",
    obj("argoproj.io/v1alpha1", "AnalysisRun", {
      status: {
        phase: "Failed",
        message: 'Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)',
      },
    }),
    {
      status: "Degraded",
      message: 'Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)',
    },
  ],
  [
    "analysisrun running",
    obj("argoproj.io/v1alpha1", "AnalysisRun", { status: { phase: "Running" } }),
    { status: "Progressing", message: "Analysis run is running" },
  ],
  [
    "analysisrun inconclusive",
    obj("argoproj.io/v1alpha1", "AnalysisRun", { status: { phase: "Inconclusive" } }),
    { status: "Unknown", message: "Analysis run was inconclusive" },
  ],
  [
    "application child",
    obj("argoproj.io/v1alpha1", "Application", {
      status: { health: { status: "Degraded", message: "boom" } },
    }),
    { status: "Degraded", message: "boom" },
  ],
  ["configmap has no health", obj("v1", "ConfigMap", { data: {} }), undefined],
  [
    "deleting object",
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x", deletionTimestamp: "2026-01-05T00:00:00Z" },
    },
    { status: "Progressing", message: "Pending deletion" },
  ],
];

describe("health checks", () => {
  it.each(cases)("%s", (_name, input, want) => {
    expect(getHealth(input)).toEqual(want);
  });

  it("a throwing check becomes Unknown with its message", () => {
    const reg = new HealthRegistry().register("example.com", "Widget", () => {
      throw new Error("bad widget");
    });
    expect(reg.health(obj("example.com/v1", "Widget", {}))).toEqual({
      status: "Unknown",
      message: "bad widget",
    });
  });

  it("a malformed autoscaling/v1 conditions annotation is Unknown, not a crash", () => {
    const hpa = obj("autoscaling/v1", "HorizontalPodAutoscaler", {});
    hpa.metadata.annotations = { "autoscaling.alpha.kubernetes.io/conditions": "{not json" };
    expect(getHealth(hpa)?.status).toBe("Unknown");
  });
});

describe("appHealth", () => {
  const h = (status: HealthStatus["status"], message?: string): HealthStatus =>
    message === undefined ? { status } : { status, message };
  it.each([
    ["no children", [], "Healthy"],
    ["skips kinds without health", [undefined, h("Healthy")], "Healthy"],
    ["suspended beats healthy", [h("Healthy"), h("Suspended")], "Suspended"],
    ["progressing beats suspended", [h("Suspended"), h("Progressing")], "Progressing"],
    ["missing beats progressing", [h("Progressing"), h("Missing")], "Missing"],
    ["degraded beats missing", [h("Missing"), h("Degraded")], "Degraded"],
    ["unknown is worst", [h("Degraded"), h("Unknown")], "Unknown"],
  ] as const)("%s", (_n, children, want) => {
    expect(appHealth(children).status).toBe(want);
  });
  it("keeps the worst child's message", () => {
    expect(appHealth([h("Progressing", "a"), h("Degraded", "b")])).toEqual(h("Degraded", "b"));
  });
});
