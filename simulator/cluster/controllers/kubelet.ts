/**
 * A simulated kubelet (kwok-style stages) for every pod of the cluster:
 * bind to the fake node, stay Pending (as created) for a start-up delay with
 * jitter, then Running and Ready in one status write - or Running and never
 * Ready, or in CrashLoopBackOff with upstream's restart backoff (10 s
 * doubling, capped at 5 min) - as the PodBehaviour hook decides. Pods that do
 * not restart (restartPolicy Never/OnFailure, e.g. Job pods) run to
 * completion. Like kwok's pod-ready stage, nothing is written while the
 * containers are being created: the conditions of that first write carry the
 * times each stage was reached (scheduled and initialized when the kubelet
 * first saw the pod, ready to start containers when they started).
 *
 * The status is a pure function of (pod, the outcome drawn when it started,
 * now): each reconcile writes it when it changed and asks to be re-run when
 * the next stage is due. No polling. The kubelet owns pod status: changes to
 * it alone (its own writes' watch events) do not wake it up.
 */
import { type Clock, rfc3339 } from "../../../engine/core/clock.ts";
import type { Rng } from "../../../engine/core/rng.ts";
import type { KubeClient, KubeObject } from "../../../engine/kube/types.ts";
import { deepEqual } from "../objutil.ts";
import { type Informer, keyOf, type ReconcileResult, WorkQueue } from "./informer.ts";
import {
  type Condition,
  getCondition,
  isDeleting,
  type Json,
  setCondition,
  specOf,
  stamp,
  statusOf,
  statusPatch,
} from "./util.ts";

export const NODE_NAME = "embedded-node-1";
export const NODE_IP = "10.0.0.11";

/** What the behaviour hook sees of a pod. */
export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  labels: Readonly<Record<string, string>>;
  /** Images of the pod's containers, in order. */
  images: readonly string[];
  /** The controlling owner (ReplicaSet, StatefulSet, Job ...), when there is one. */
  owner?: { kind: string; name: string };
}

/** How a pod behaves once started. */
export interface PodOutcome {
  /** Time from creation to containers started (default: the kubelet's start-up delay with jitter). */
  startupDelayMs?: number;
  /** Whether the containers become Ready (false: Running, never Ready). */
  ready: boolean;
  /** Containers crash at start and restart with back-off (CrashLoopBackOff); never Ready. */
  crashLoop?: boolean;
  /** Pods that do not restart (Job pods): run time until they succeed (default 10 s with jitter). */
  runMs?: number;
}

/** The fault injector's hook: undefined means a healthy pod. */
export type PodBehaviour = (pod: PodInfo) => PodOutcome | undefined;

export interface KubeletOptions {
  rng?: Rng;
  behaviour?: PodBehaviour;
  /** Start-up delay of a pod without an explicit one: base + uniform jitter (defaults 2,000 + 0..3,000 ms). */
  startupMs?: number;
  startupJitterMs?: number;
}

interface PodState {
  outcome: PodOutcome;
  /** When the kubelet first saw the pod (scheduled, initialized, startTime). */
  seenAt: number;
  startAt: number;
  /** When the containers began crash-looping (start, or when a new behaviour made them crash). */
  crashSince?: number;
  runMs: number;
  ip: string;
  /** rfc3339(startAt), formatted once. */
  started: string;
}

const BACKOFF_BASE_MS = 10_000;
const BACKOFF_CAP_MS = 300_000;

/** Restarts done by `elapsed` ms of crash-looping, and when the next one is due (relative). */
export function crashLoopRestarts(elapsed: number): {
  restarts: number;
  nextInMs: number;
  backoffMs: number;
} {
  let t = 0;
  let n = 0;
  for (;;) {
    const backoff = Math.min(BACKOFF_BASE_MS * 2 ** n, BACKOFF_CAP_MS);
    if (backoff === BACKOFF_CAP_MS) {
      const more = Math.floor((elapsed - t) / backoff);
      const restarts = n + Math.max(0, more);
      const next = t + (Math.max(0, more) + 1) * backoff;
      return { restarts, nextInMs: next - elapsed, backoffMs: backoff };
    }
    if (t + backoff > elapsed) return { restarts: n, nextInMs: t + backoff - elapsed, backoffMs: backoff };
    t += backoff;
    n++;
  }
}

export class Kubelet {
  private readonly states = new Map<string, PodState>();
  private readonly queue: WorkQueue;
  private behaviour: PodBehaviour | undefined;
  private nextIp = 1;

  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock,
    private readonly pods: Informer,
    private readonly opts: KubeletOptions,
    onError: (key: string, err: unknown) => void,
  ) {
    this.behaviour = opts.behaviour;
    this.queue = new WorkQueue(clock, (k) => this.reconcile(k), onError);
    pods.on((type, pod, old) => {
      if (type === "DELETED") {
        if (pod.metadata.uid !== undefined) this.states.delete(pod.metadata.uid);
        return;
      }
      // its own status writes (and anyone else's status-only changes) need no reconcile
      if (type === "MODIFIED" && old !== undefined && old !== pod && sameExceptStatus(old, pod)) return;
      this.queue.add(keyOf(pod));
    });
  }

  /**
   * Replace the behaviour hook. With `running`, pods already started take the
   * new behaviour's outcome now (e.g. a fault that makes running pods crash).
   */
  setBehaviour(b: PodBehaviour | undefined, opts: { running?: boolean } = {}): void {
    this.behaviour = b;
    if (opts.running !== true) return;
    const now = this.clock.now();
    for (const pod of this.pods.list()) {
      const st = pod.metadata.uid === undefined ? undefined : this.states.get(pod.metadata.uid);
      if (st === undefined) continue;
      const outcome = this.outcomeOf(pod);
      if (outcome.crashLoop === true && st.outcome.crashLoop !== true)
        st.crashSince = Math.max(now, st.startAt);
      if (outcome.crashLoop !== true) delete st.crashSince;
      st.outcome = outcome;
      this.queue.add(keyOf(pod));
    }
  }

  stop(): void {
    this.queue.stop();
  }

  private outcomeOf(pod: KubeObject): PodOutcome {
    return this.behaviour?.(podInfo(pod)) ?? { ready: true };
  }

  private stateOf(pod: KubeObject): PodState {
    const uid = pod.metadata.uid ?? keyOf(pod);
    let st = this.states.get(uid);
    if (st !== undefined) return st;
    const outcome = this.outcomeOf(pod);
    const rng = this.opts.rng?.fork(`kubelet/${keyOf(pod)}/${uid}`);
    const jitter = (max: number) => (rng === undefined ? max / 2 : rng.float() * max);
    const created = parseTime(pod.metadata.creationTimestamp) ?? this.clock.now();
    const delay =
      outcome.startupDelayMs ?? (this.opts.startupMs ?? 2000) + jitter(this.opts.startupJitterMs ?? 3000);
    const startAt = Math.max(this.clock.now(), created + delay);
    const n = this.nextIp++;
    st = {
      outcome,
      seenAt: this.clock.now(),
      startAt,
      runMs: outcome.runMs ?? 10_000 + jitter(5000),
      ip: `10.244.${(n >> 8) & 255}.${n & 255}`,
      started: rfc3339(startAt),
    };
    if (outcome.crashLoop === true) st.crashSince = startAt;
    this.states.set(uid, st);
    return st;
  }

  private async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const [ns, name] = splitKey(key);
    const pod = this.pods.get(ns, name);
    if (pod === undefined || isDeleting(pod)) return undefined;
    const phase = statusOf(pod).phase;
    if (phase === "Succeeded" || phase === "Failed") return undefined;
    const st = this.stateOf(pod);
    const now = this.clock.now();
    const ref = { apiVersion: "v1", kind: "Pod", name, namespace: ns };
    if (specOf(pod).nodeName === undefined) {
      const bound = await this.clock.track(
        this.client.patch(ref, { spec: { nodeName: NODE_NAME } }, "merge", {
          fieldManager: "kube-scheduler",
        }),
      );
      this.pods.set(bound);
    }
    // containers still being created: the pod stays as created (Pending) until they start
    if (now < st.startAt) return { requeueAfterMs: st.startAt - now };
    const { status, nextInMs } = this.desired(pod, st, now);
    const patch = statusPatch(statusOf(pod), status);
    if (patch !== undefined) {
      const written = await this.clock.track(
        this.client.patch(ref, patch, "merge", { subresource: "status", fieldManager: "kubelet" }),
      );
      this.pods.set(written);
    }
    return nextInMs === undefined ? undefined : { requeueAfterMs: nextInMs };
  }

  /** The status the pod should have now, and when it next changes. */
  private desired(pod: KubeObject, st: PodState, now: number): { status: Json; nextInMs?: number } {
    const old = statusOf(pod);
    const containers = (Array.isArray(specOf(pod).containers) ? specOf(pod).containers : []) as Json[];
    const restarts = (specOf(pod).restartPolicy ?? "Always") === "Always";
    let conds = (Array.isArray(old.conditions) ? old.conditions : []) as Condition[];
    /** Set a condition; `since` is when it took this status, if it changed (default now). */
    const cond = (type: string, ok: boolean, reason?: string, since = now) => {
      const c: Condition = { type, status: ok ? "True" : "False", lastProbeTime: null };
      if (!ok && reason !== undefined) c.reason = reason;
      conds = setCondition(conds, c, since);
    };
    const started = st.started;
    /** Container statuses, all in `state`. */
    const cs = (state: (name: string) => Json, ready: boolean, restartCount: number, lastState: Json = {}) =>
      containers.map((c) => {
        const name = String(c.name ?? "");
        const s = state(name);
        return {
          containerID: `containerd://${st.ip.replaceAll(".", "")}${name}`,
          image: c.image,
          imageID: "",
          lastState,
          name,
          ready,
          restartCount,
          started: "running" in s,
          state: s,
        };
      });
    const result = (phase: string, ready: boolean, reason: string, statuses: Json[], nextInMs?: number) => {
      cond("ContainersReady", ready, reason);
      cond("Ready", ready, reason);
      const status: Json = {
        phase,
        conditions: sortConds(conds),
        hostIP: NODE_IP,
        hostIPs: [{ ip: NODE_IP }],
        podIP: st.ip,
        podIPs: [{ ip: st.ip }],
        startTime: typeof old.startTime === "string" ? old.startTime : stamp(st.seenAt),
        qosClass: "BestEffort",
        containerStatuses: statuses,
      };
      return nextInMs === undefined ? { status } : { status, nextInMs };
    };
    const running = () => ({ running: { startedAt: started } });

    cond("PodScheduled", true, undefined, st.seenAt);
    cond("Initialized", true, undefined, st.seenAt);
    cond("PodReadyToStartContainers", true, undefined, st.startAt);
    if (!restarts) {
      const failed = st.outcome.crashLoop === true;
      const endAt = st.startAt + (failed ? 1000 : st.runMs);
      if (now < endAt) {
        const ready = st.outcome.ready && !failed;
        return result("Running", ready, "ContainersNotReady", cs(running, ready, 0), endAt - now);
      }
      const terminated = () => ({
        terminated: {
          exitCode: failed ? 1 : 0,
          reason: failed ? "Error" : "Completed",
          startedAt: started,
          finishedAt: rfc3339(endAt),
        },
      });
      const phase = failed ? "Failed" : "Succeeded";
      return result(phase, false, failed ? "PodFailed" : "PodCompleted", cs(terminated, false, 0));
    }
    if (st.crashSince !== undefined) {
      const loop = crashLoopRestarts(now - st.crashSince);
      const lastCrash = rfc3339(now - (loop.backoffMs - loop.nextInMs));
      const podId = `${pod.metadata.name ?? ""}_${pod.metadata.namespace ?? ""}(${pod.metadata.uid ?? ""})`;
      const waiting = (c: string) => ({
        waiting: {
          reason: "CrashLoopBackOff",
          message: `back-off ${loop.backoffMs / 1000}s restarting failed container=${c} pod=${podId}`,
        },
      });
      const last = {
        terminated: { exitCode: 1, reason: "Error", startedAt: lastCrash, finishedAt: lastCrash },
      };
      return result(
        "Running",
        false,
        "ContainersNotReady",
        cs(waiting, false, loop.restarts, last),
        loop.nextInMs,
      );
    }
    return result("Running", st.outcome.ready, "ContainersNotReady", cs(running, st.outcome.ready, 0));
  }
}

const COND_ORDER = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];
function sortConds(cs: Condition[]): Condition[] {
  return [...cs].sort((a, b) => COND_ORDER.indexOf(a.type) - COND_ORDER.indexOf(b.type));
}

/** Same pod, same spec and deletion state: only status or bookkeeping metadata differ. */
function sameExceptStatus(a: KubeObject, b: KubeObject): boolean {
  return (
    a.metadata.uid === b.metadata.uid &&
    a.metadata.deletionTimestamp === b.metadata.deletionTimestamp &&
    (a.spec === b.spec || deepEqual(a.spec, b.spec))
  );
}

export function podInfo(pod: KubeObject): PodInfo {
  const containers = (Array.isArray(specOf(pod).containers) ? specOf(pod).containers : []) as Json[];
  const info: PodInfo = {
    namespace: pod.metadata.namespace ?? "",
    name: pod.metadata.name ?? "",
    uid: pod.metadata.uid ?? "",
    labels: pod.metadata.labels ?? {},
    images: containers.map((c) => String(c.image ?? "")),
  };
  const owner = pod.metadata.ownerReferences?.find((r) => r.controller === true);
  if (owner !== undefined) info.owner = { kind: owner.kind, name: owner.name };
  return info;
}

/** True when the pod's Ready condition is True. */
export function isPodReady(pod: KubeObject): boolean {
  return getCondition(statusOf(pod), "Ready")?.status === "True";
}

/** Ms since the epoch when the pod became Ready (its Ready condition's lastTransitionTime). */
export function readySince(pod: KubeObject): number | undefined {
  return parseTime(getCondition(statusOf(pod), "Ready")?.lastTransitionTime);
}

export function parseTime(s: unknown): number | undefined {
  if (typeof s !== "string") return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf("/");
  return [key.slice(0, i), key.slice(i + 1)];
}
