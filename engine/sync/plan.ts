/**
 * planSync (pure): pair desired and live objects by (group, kind, namespace,
 * name) as gitops-engine's reconcile.go does, and decide per resource:
 * create / update / skip / prune / prune-skip / hook, ordered by phase, wave,
 * kind and name (prunes: reverse wave order, reverse kind order; PruneLast
 * after everything else in the Sync phase).
 */
import { GtbError } from "../core/errors.ts";
import { DEFAULT_FIELD_MANAGER, diff } from "../diff/diff.ts";
import type { IgnoreDifference } from "../diff/ignore.ts";
import { TRACKING_ANNOTATION } from "../diff/normalize.ts";
import { type KubeObject, splitApiVersion } from "../kube/types.ts";
import { kindIndex } from "./kinds.ts";
import {
  HOOK_ANNOTATION,
  HOOK_DELETE_POLICY_ANNOTATION,
  type HookDeletePolicy,
  type HookType,
  type ResourceKey,
  SYNC_OPTIONS_ANNOTATION,
  SYNC_PHASES,
  SYNC_WAVE_ANNOTATION,
  type SyncPhase,
  type SyncTask,
} from "./types.ts";

const HELM_HOOK_ANNOTATION = "helm.sh/hook";
const HELM_HOOK_DELETE_POLICY_ANNOTATION = "helm.sh/hook-delete-policy";

export interface PlanOptions {
  /** Application name (tracking annotation `<app>:<group>/<Kind>:<ns>/<name>`). */
  appName: string;
  /** Delete live objects of the app that are no longer in Git (automated.prune / `--prune`). */
  prune?: boolean;
  /** Application syncPolicy.syncOptions plus operation sync options, e.g. "CreateNamespace=true". */
  syncOptions?: readonly string[];
  /** Destination namespace (for CreateNamespace=true). */
  namespace?: string;
  /** Automated sync: refuse to prune everything unless allowEmpty. */
  automated?: boolean;
  allowEmpty?: boolean;
  /** Run hooks (default true; self-heal syncs run none). */
  hooks?: boolean;
  /** Partial sync: only these resources (hooks are then not run). */
  resources?: readonly ResourceKey[];
  ignoreDifferences?: readonly IgnoreDifference[];
  /** Field manager (default "argocd-controller"). */
  manager?: string;
}

export interface SyncPlan {
  appName: string;
  manager: string;
  /** ServerSideApply=true semantics unless the sync options say ServerSideApply=false (then kubectl-style client-side apply). */
  serverSideApply: boolean;
  prunePropagationPolicy: "Foreground" | "Background" | "Orphan";
  tasks: SyncTask[];
}

export function resourceKey(obj: KubeObject): ResourceKey {
  return {
    group: splitApiVersion(obj.apiVersion).group,
    kind: obj.kind,
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name ?? "",
  };
}

export function keyString(k: ResourceKey): string {
  return `${k.group}/${k.kind}/${k.namespace}/${k.name}`;
}

export function trackingIdOf(app: string, k: ResourceKey): string {
  return `${app}:${k.group}/${k.kind}:${k.namespace}/${k.name}`;
}

/** "Name=value" options from a list (later entries win); keys compared as written. */
export function parseSyncOptions(opts: readonly string[] | string | undefined): Map<string, string> {
  const list = typeof opts === "string" ? opts.split(",") : (opts ?? []);
  const out = new Map<string, string>();
  for (const raw of list) {
    const s = raw.trim();
    const i = s.indexOf("=");
    if (i > 0) out.set(s.slice(0, i).trim(), s.slice(i + 1).trim());
  }
  return out;
}

function option(obj: KubeObject | undefined, global: Map<string, string>, name: string): string | undefined {
  const own = parseSyncOptions(obj?.metadata.annotations?.[SYNC_OPTIONS_ANNOTATION]);
  return own.get(name) ?? global.get(name);
}

function waveOf(obj: KubeObject): number {
  const raw = obj.metadata.annotations?.[SYNC_WAVE_ANNOTATION];
  if (raw === undefined || raw.trim() === "") return 0;
  const n = Number(raw);
  if (!Number.isInteger(n)) {
    throw new GtbError(
      "GTB_SYNC_BAD_WAVE",
      `${obj.kind}/${obj.metadata.name ?? ""}: sync wave "${raw}" is not an integer`,
      {
        path: `metadata.annotations["${SYNC_WAVE_ANNOTATION}"]`,
        hint: 'use an integer such as "-1", "0" or "5"',
      },
    );
  }
  return n;
}

const HELM_HOOKS: Record<string, HookType> = {
  "pre-install": "PreSync",
  "pre-upgrade": "PreSync",
  "post-install": "PostSync",
  "post-upgrade": "PostSync",
};
const HELM_POLICIES: Record<string, HookDeletePolicy> = {
  "before-hook-creation": "BeforeHookCreation",
  "hook-succeeded": "HookSucceeded",
  "hook-failed": "HookFailed",
};

/** Hook types named by the object's annotations (Argo CD's first, else Helm's), or undefined. */
export function hookTypes(obj: KubeObject): HookType[] | undefined {
  const a = obj.metadata.annotations ?? {};
  const argo = a[HOOK_ANNOTATION];
  if (argo !== undefined) {
    const types = argo.split(",").map((s) => s.trim());
    for (const t of types) {
      if (t !== "Skip" && !(SYNC_PHASES as readonly string[]).includes(t)) {
        throw new GtbError(
          "GTB_SYNC_BAD_HOOK",
          `${obj.kind}/${obj.metadata.name ?? ""}: unknown hook type "${t}"`,
          {
            path: `metadata.annotations["${HOOK_ANNOTATION}"]`,
            hint: "use PreSync, Sync, PostSync, SyncFail or Skip",
          },
        );
      }
    }
    return types as HookType[];
  }
  const helm = a[HELM_HOOK_ANNOTATION];
  if (helm !== undefined) {
    const types = helm
      .split(",")
      .map((s) => HELM_HOOKS[s.trim()])
      .filter((t): t is HookType => t !== undefined);
    return types.length > 0 ? types : ["Skip"];
  }
  return undefined;
}

function deletePolicies(obj: KubeObject): HookDeletePolicy[] {
  const a = obj.metadata.annotations ?? {};
  const argo = a[HOOK_DELETE_POLICY_ANNOTATION];
  const out: HookDeletePolicy[] = [];
  if (argo !== undefined) {
    for (const p of argo.split(",").map((s) => s.trim())) {
      if (p !== "HookSucceeded" && p !== "HookFailed" && p !== "BeforeHookCreation") {
        throw new GtbError(
          "GTB_SYNC_BAD_HOOK",
          `${obj.kind}/${obj.metadata.name ?? ""}: unknown hook delete policy "${p}"`,
          {
            path: `metadata.annotations["${HOOK_DELETE_POLICY_ANNOTATION}"]`,
            hint: "use HookSucceeded, HookFailed or BeforeHookCreation",
          },
        );
      }
      out.push(p);
    }
  } else {
    for (const p of (a[HELM_HOOK_DELETE_POLICY_ANNOTATION] ?? "").split(",")) {
      const m = HELM_POLICIES[p.trim()];
      if (m !== undefined) out.push(m);
    }
  }
  // Argo CD: no policy given -> BeforeHookCreation.
  return out.length > 0 ? out : ["BeforeHookCreation"];
}

function withTracking(app: string, obj: KubeObject): KubeObject {
  const k = resourceKey(obj);
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      annotations: { ...(obj.metadata.annotations ?? {}), [TRACKING_ANNOTATION]: trackingIdOf(app, k) },
    },
  };
}

const PHASE_INDEX: Record<SyncPhase, number> = { PreSync: 0, Sync: 1, PostSync: 2, SyncFail: 3 };

/** Order: phase, wave, applies before prunes, kind (reversed for prunes), name, namespace. */
export function compareTasks(a: SyncTask, b: SyncTask): number {
  const pa = a.action === "prune" || a.action === "pruneSkip" ? 1 : 0;
  const pb = b.action === "prune" || b.action === "pruneSkip" ? 1 : 0;
  const byKind =
    pa === 1 && pb === 1 ? kindIndex(b.kind) - kindIndex(a.kind) : kindIndex(a.kind) - kindIndex(b.kind);
  return (
    PHASE_INDEX[a.phase] - PHASE_INDEX[b.phase] ||
    a.wave - b.wave ||
    pa - pb ||
    byKind ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) ||
    (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0)
  );
}

/**
 * Plan a sync. Pure. Throws GtbError GTB_SYNC_EMPTY_REFUSED for an automated
 * sync that would prune every resource without allowEmpty, and
 * GTB_SYNC_BAD_WAVE / GTB_SYNC_BAD_HOOK for bad annotations.
 */
export function planSync(
  desired: readonly KubeObject[],
  live: readonly KubeObject[],
  opts: PlanOptions,
): SyncPlan {
  const global = parseSyncOptions(opts.syncOptions);
  const manager = opts.manager ?? DEFAULT_FIELD_MANAGER;
  const runHooks = opts.hooks !== false && opts.resources === undefined;
  const only = opts.resources === undefined ? undefined : new Set(opts.resources.map(keyString));
  const selected = (k: ResourceKey) => only === undefined || only.has(keyString(k));
  const applyOutOfSyncOnly = global.get("ApplyOutOfSyncOnly") === "true";
  const liveByKey = new Map<string, KubeObject>();
  for (const l of live) if (hookTypes(l) === undefined) liveByKey.set(keyString(resourceKey(l)), l);
  const tasks: SyncTask[] = [];
  const seen = new Set<string>();
  let desiredResources = 0;

  for (const d of desired) {
    const key = resourceKey(d);
    const hooks = hookTypes(d);
    if (hooks !== undefined) {
      if (!runHooks || hooks.includes("Skip")) continue;
      const policies = deletePolicies(d);
      for (const h of hooks) {
        tasks.push({
          ...key,
          apiVersion: d.apiVersion,
          action: "hook",
          phase: h as SyncPhase,
          wave: waveOf(d),
          target: withTracking(opts.appName, d),
          hookType: h,
          hookDeletePolicies: policies,
        });
      }
      continue;
    }
    desiredResources++;
    const k = keyString(key);
    seen.add(k);
    if (!selected(key)) continue;
    const l = liveByKey.get(k);
    const target = withTracking(opts.appName, d);
    const task: SyncTask = {
      ...key,
      apiVersion: d.apiVersion,
      action: "create",
      phase: "Sync",
      wave: waveOf(d),
      target,
    };
    if (option(d, global, "Replace") === "true") task.replace = true;
    const ssa = parseSyncOptions(d.metadata.annotations?.[SYNC_OPTIONS_ANNOTATION]).get("ServerSideApply");
    if (ssa !== undefined) task.serverSideApply = ssa === "true";
    if (l !== undefined) {
      task.live = l;
      // only ApplyOutOfSyncOnly skips what is in sync: without it there is no diff to make
      const skip =
        applyOutOfSyncOnly &&
        !diff(target, l, { manager, ignoreDifferences: opts.ignoreDifferences ?? [] }).modified;
      task.action = skip ? "skip" : "update";
      if (task.action === "skip") task.message = "unchanged";
    }
    tasks.push(task);
  }

  let prunable = 0;
  for (const [k, l] of liveByKey) {
    if (seen.has(k)) continue;
    // Objects owned by a controller (ReplicaSets, Pods) are not the app's to prune.
    if (l.metadata.ownerReferences?.some((r) => r.controller === true)) continue;
    prunable++;
    const key = resourceKey(l);
    if (!selected(key)) continue;
    const task: SyncTask = {
      ...key,
      apiVersion: l.apiVersion,
      action: "prune",
      phase: "Sync",
      wave: waveOf(l),
      live: l,
    };
    if (opts.prune !== true) {
      task.action = "pruneSkip";
      task.message = "ignored (requires pruning)";
    } else if (option(l, global, "Prune") === "false") {
      task.action = "pruneSkip";
      task.message = "ignored (no prune)";
    }
    tasks.push(task);
  }

  if (
    opts.automated === true &&
    opts.allowEmpty !== true &&
    opts.prune === true &&
    desiredResources === 0 &&
    prunable > 0
  ) {
    throw new GtbError("GTB_SYNC_EMPTY_REFUSED", "auto-sync will wipe out all resources", {
      path: "spec.syncPolicy.automated.allowEmpty",
      hint: "set spec.syncPolicy.automated.allowEmpty: true if the application really should have no resources",
    });
  }

  // Prunes run in reverse wave order; PruneLast ones after every other Sync-phase task.
  const prunes = tasks.filter((t) => t.action === "prune");
  if (prunes.length > 0) {
    const waves = prunes.map((t) => t.wave);
    const lo = Math.min(...waves);
    const hi = Math.max(...waves);
    for (const t of prunes) t.wave = lo + hi - t.wave;
    const pruneLast = prunes.filter((t) => option(t.live, global, "PruneLast") === "true");
    const rest = tasks.filter((t) => t.phase === "Sync" && !pruneLast.includes(t));
    const after = Math.max(...rest.map((t) => t.wave), ...pruneLast.map((t) => t.wave)) + 1;
    for (const t of pruneLast) t.wave = after;
  }

  if (global.get("CreateNamespace") === "true" && opts.namespace !== undefined && opts.namespace !== "") {
    const ns = opts.namespace;
    const declared = desired.some(
      (d) => d.kind === "Namespace" && d.apiVersion === "v1" && d.metadata.name === ns,
    );
    if (!declared) {
      const preWaves = tasks.filter((t) => t.phase === "PreSync").map((t) => t.wave);
      tasks.push({
        group: "",
        kind: "Namespace",
        namespace: "",
        name: ns,
        apiVersion: "v1",
        action: "create",
        phase: "PreSync",
        wave: Math.min(0, ...preWaves),
        target: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
        autoCreatedNamespace: true,
      });
    }
  }

  tasks.sort(compareTasks);
  const ppp = global.get("PrunePropagationPolicy");
  return {
    appName: opts.appName,
    manager,
    serverSideApply: global.get("ServerSideApply") !== "false",
    prunePropagationPolicy: ppp === "foreground" ? "Foreground" : ppp === "orphan" ? "Orphan" : "Background",
    tasks,
  };
}
