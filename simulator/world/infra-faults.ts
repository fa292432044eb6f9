/**
 * Infrastructure faults (the INFRA_FAULTS of simulator/scenario/catalogue.ts;
 * docs/FAULTS.md): a scenario's `spec.events[].fault {kind, for, service?, params}`
 * becomes a window of clock time during which a piece of infrastructure misbehaves.
 *
 *   const { faults } = infra;                                   // made by Infra: windows, no timers
 *   createEngine({ client: faults.wrapClient(infra.systemClient(...)), source: faults.wrapGitSource(git),
 *                  notifier: faults.wrapNotifier(slack) })
 *   if (world.webhook && !faults.isWebhookLost(clock.now())) engine.deliverPush(...)  // else: the poll
 *   scheduleInfraFaults(infra, { engine, faults });             // once, at the scenario start
 *
 * People's clients (`infra.client(identity)`) are always wrapped (and re-run transient errors).
 *
 * Mechanically:
 * - prometheus-down/slow/empty/nan: `infra.prometheus.setFault(...)` for the window
 *   (queries fail with 503 / take `delay` / return no series / return NaN); overlapping
 *   windows stack, the latest one wins, the fault clears when none is left;
 * - api-errors, api-latency, watch-drop: every FaultyKubeClient handed out by
 *   `wrapClient` fails a share of requests, delays them, or has its watches dropped
 *   (410 Expired, so informers re-list) at the start of the window;
 * - git-unreachable: the GitSource from `wrapGitSource` rejects every call; when the window ends,
 *   the apps whose refresh failed are refreshed within one poll cycle (as Argo CD's next poll);
 * - webhook-loss: `isWebhookLost(t)` is true for a `ratio` share of pushes in the window
 *   (the world then waits for the poll that would find the commit);
 * - notify-down: `isNotifyDown(t)`, and `wrapNotifier` fails deliveries (503);
 * - engine-restart: the Application controller stops and starts again after `for`
 *   (default 0: an immediate restart, which re-lists and re-compares every app).
 * Every window emits a `fault.injected` world event when it begins.
 */
import { parseDuration } from "../../engine/core/clock.ts";
import { GtbError } from "../../engine/core/errors.ts";
import type { KubeClient } from "../../engine/kube/types.ts";
import type { Notifier, SlackMessage } from "../../engine/notify/types.ts";
import type { FileTree } from "../../engine/render/types.ts";
import type { CommitInfo, GitSource } from "../../engine/source/types.ts";
import { INFRA_FAULTS, type InfraFault } from "../scenario/catalogue.ts";
import type { Params } from "../scenario/load.ts";
import {
  type ErrorFault,
  FaultyKubeClient,
  type InjectedErrorCode,
  type LatencyFault,
} from "./faulty-client.ts";
import type { Infra } from "./infra.ts";

/** One scheduled infrastructure fault, resolved: absolute clock times, defaults applied. */
export interface FaultWindow {
  kind: InfraFault;
  /** Clock ms when it begins and ends (end === start for instantaneous faults). */
  start: number;
  end: number;
  service?: string;
  params: Params;
  /** Field path of the scheduling event, for errors. */
  path: string;
}

/** The parts of the GitOps engine (Engine from engine/index.ts) the faults use. */
export interface EngineHandle {
  stop(): Promise<void>;
  start(): Promise<void>;
  /** git-unreachable: the poll after the outage refreshes the apps whose refresh failed. */
  refresh?(app: string): void;
  readonly controller?: {
    appNames(): string[];
    application(name: string): { status?: { conditions?: Array<{ type: string }> } } | undefined;
  };
}

/** What the world hands over for faults that need its cooperation. */
export interface InfraFaultHooks {
  /** For engine-restart (and the poll after git-unreachable): the GitOps engine. */
  engine?: EngineHandle;
  /** The world's InfraFaults (default: `infra.faults`). */
  faults?: InfraFaults;
}

const PROMETHEUS_KINDS = {
  "prometheus-down": "unavailable",
  "prometheus-slow": "slow",
  "prometheus-empty": "empty",
  "prometheus-nan": "nan",
} as const;
const ERROR_CODES: readonly InjectedErrorCode[] = [409, 429, 500];

function num(p: Params, k: string): number {
  const v = p[k];
  if (typeof v === "number") return v;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  return Number.NaN;
}

function ms(p: Params, k: string): number {
  const v = p[k];
  return typeof v === "number" ? v : parseDuration(String(v));
}

/** Resolve the scenario's fault events for one world into windows (pure). Throws GtbError on bad params. */
export function faultWindows(infra: Pick<Infra, "input">): FaultWindow[] {
  const { scenario, world, services } = infra.input;
  const out: FaultWindow[] = [];
  for (const ev of scenario.events) {
    const f = ev.fault;
    if (f === undefined || (ev.world !== undefined && ev.world !== world.name)) continue;
    const params: Params = { ...(INFRA_FAULTS[f.kind] as Params), ...f.params };
    const path = `${ev.path}.fault`;
    const bad = (key: string, why: string): GtbError =>
      new GtbError("GTB_FAULT_PARAMS", `${f.kind}: params.${key} ${why}`, {
        file: scenario.file,
        path: `${path}.params.${key}`,
        hint: "see docs/FAULTS.md for every fault's parameters and defaults",
      });
    for (const key of Object.keys(params)) {
      if (!(key in INFRA_FAULTS[f.kind])) throw bad(key, "is not a parameter of this fault");
    }
    if (f.kind === "api-errors") {
      if (!ERROR_CODES.includes(num(params, "code") as InjectedErrorCode))
        throw bad("code", `must be one of ${ERROR_CODES.join(", ")}`);
    }
    for (const key of ["ratio"]) {
      if (key in params && !(num(params, key) >= 0 && num(params, key) <= 1))
        throw bad(key, "must be a number from 0 to 1");
    }
    for (const key of ["delay"]) {
      if (!(key in params)) continue;
      try {
        ms(params, key);
      } catch {
        throw bad(key, `must be a duration like "20s", got ${JSON.stringify(params[key])}`);
      }
    }
    let service: string | undefined;
    if (f.service !== undefined) {
      service = typeof f.service === "number" ? services[f.service]?.name : f.service;
      if (service === undefined || !services.some((s) => s.name === service)) {
        throw new GtbError("GTB_SCENARIO_SERVICE", `fault service ${String(f.service)} is not in the fleet`, {
          file: scenario.file,
          path: `${path}.service`,
          hint: "refer to services by fleet index (0-based) or by a generated name",
        });
      }
    }
    const start = scenario.startMs + ev.atMs;
    out.push({
      kind: f.kind,
      start,
      end: start + (f.forMs ?? 0),
      ...(service === undefined ? {} : { service }),
      params,
      path,
    });
  }
  return out;
}

/** The fault windows of one world and the adapters that honour them. */
export class InfraFaults {
  readonly windows: FaultWindow[];
  private readonly clients: FaultyKubeClient[] = [];
  private gitWrapped = false;
  private notifierWrapped = false;
  private scheduled = false;
  private readonly webhookRng;
  private readonly pollRng;
  private readonly prometheusStack: FaultWindow[] = [];
  private apiErrors: ErrorFault | undefined;
  private apiLatency: LatencyFault | undefined;

  constructor(private readonly infra: Infra) {
    this.windows = faultWindows(infra);
    this.webhookRng = infra.rng.fork("infra-faults/webhook");
    this.pollRng = infra.rng.fork("infra-faults/poll");
  }

  private active(kind: InfraFault, t: number): FaultWindow | undefined {
    return this.windows.find((w) => w.kind === kind && t >= w.start && t < w.end);
  }

  /** A KubeClient that fails, slows down or drops watches during api-errors, api-latency, watch-drop. */
  wrapClient(inner: KubeClient): FaultyKubeClient {
    const c = new FaultyKubeClient(
      inner,
      this.infra.clock,
      this.infra.rng.fork(`infra-faults/api/${this.clients.length}`),
    );
    // a client made inside a window misbehaves like the others
    c.setErrors(this.apiErrors);
    c.setLatency(this.apiLatency);
    this.clients.push(c);
    return c;
  }

  /** A GitSource that rejects every call while git-unreachable is active. */
  wrapGitSource(inner: GitSource): GitSource {
    this.gitWrapped = true;
    const check = (repoURL: string): void => {
      if (this.isGitUnreachable(this.infra.clock.now()))
        throw new Error(
          `rpc error: code = Unknown desc = failed to fetch ${repoURL}: unable to access '${repoURL}': Could not resolve host (git-unreachable fault)`,
        );
    };
    return {
      resolve: async (repoURL: string, revision: string): Promise<string> => {
        check(repoURL);
        return inner.resolve(repoURL, revision);
      },
      tree: async (repoURL: string, commit: string): Promise<FileTree> => {
        check(repoURL);
        return inner.tree(repoURL, commit);
      },
      commit: async (repoURL: string, sha: string): Promise<CommitInfo> => {
        check(repoURL);
        return inner.commit(repoURL, sha);
      },
      changedFiles: async (repoURL: string, from: string, to: string): Promise<string[]> => {
        check(repoURL);
        return inner.changedFiles(repoURL, from, to);
      },
      close: () => inner.close(),
    };
  }

  /** A Notifier whose deliveries fail (Slack 503) while notify-down is active. */
  wrapNotifier(inner: Notifier): Notifier {
    this.notifierWrapped = true;
    return {
      send: async (message: SlackMessage): Promise<void> => {
        if (this.isNotifyDown(this.infra.clock.now()))
          throw new Error("503 Service Unavailable: notification endpoint down (notify-down fault)");
        await inner.send(message);
      },
    };
  }

  /** Whether the push webhook for a commit at `t` is lost (draws against `ratio` inside a window). */
  isWebhookLost(t: number): boolean {
    const w = this.active("webhook-loss", t);
    return w !== undefined && this.webhookRng.chance(num(w.params, "ratio"));
  }

  isGitUnreachable(t: number): boolean {
    return this.active("git-unreachable", t) !== undefined;
  }

  isNotifyDown(t: number): boolean {
    return this.active("notify-down", t) !== undefined;
  }

  /**
   * Set the timers of every window (call once, when the world's clock is at the scenario start).
   * Throws GTB_FAULT_UNSUPPORTED when a fault needs an adapter or handle the world did not take.
   */
  schedule(hooks: InfraFaultHooks = {}): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const { clock } = this.infra;
    for (const w of this.windows) this.checkSupported(w, hooks);
    for (const w of this.windows) {
      clock.setTimeout(() => this.begin(w, hooks), Math.max(0, w.start - clock.now()));
      if (w.end > w.start) clock.setTimeout(() => this.finish(w, hooks), Math.max(0, w.end - clock.now()));
    }
  }

  private checkSupported(w: FaultWindow, hooks: InfraFaultHooks): void {
    // API faults need no world cooperation: people's clients (Infra.client) always go through wrapClient
    const missing =
      w.kind === "git-unreachable" && !this.gitWrapped
        ? "a GitSource from wrapGitSource()"
        : w.kind === "notify-down" && !this.notifierWrapped
          ? "a Notifier from wrapNotifier()"
          : w.kind === "engine-restart" && hooks.engine === undefined
            ? "its engine handle (scheduleInfraFaults(infra, { engine }))"
            : undefined;
    if (missing === undefined) return;
    const { scenario, world } = this.infra.input;
    throw new GtbError(
      "GTB_FAULT_UNSUPPORTED",
      `fault ${w.kind} cannot be injected in world "${world.name}" (model ${world.model}): the world does not use ${missing}`,
      {
        file: scenario.file,
        path: `${w.path}.kind`,
        hint: `schedule it only for worlds that support it (spec.events[].world), see docs/FAULTS.md`,
      },
    );
  }

  private begin(w: FaultWindow, hooks: InfraFaultHooks): void {
    this.infra.emit({
      type: "fault.injected",
      time: this.infra.clock.now(),
      fault: w.kind,
      ...(w.service === undefined ? {} : { service: w.service }),
      params: { ...w.params },
      ...(w.end > w.start ? { until: w.end } : {}),
    });
    const service = w.service === undefined ? {} : { service: w.service };
    switch (w.kind) {
      case "prometheus-down":
      case "prometheus-slow":
      case "prometheus-empty":
      case "prometheus-nan":
        this.prometheusStack.push(w);
        this.applyPrometheus();
        break;
      case "api-errors":
        this.apiErrors = {
          code: num(w.params, "code") as InjectedErrorCode,
          ratio: num(w.params, "ratio"),
          ...service,
        };
        for (const c of this.clients) c.setErrors(this.apiErrors);
        break;
      case "api-latency":
        this.apiLatency = { delayMs: ms(w.params, "delay"), ...service };
        for (const c of this.clients) c.setLatency(this.apiLatency);
        break;
      case "watch-drop":
        for (const c of this.clients) c.dropWatches();
        break;
      case "engine-restart": {
        const engine = hooks.engine;
        if (engine === undefined) break;
        const clock = this.infra.clock;
        void clock.track(
          engine
            .stop()
            .then(() => (w.end > w.start ? undefined : clock.track(engine.start()).then(() => undefined))),
        );
        break;
      }
      case "git-unreachable":
      case "webhook-loss":
      case "notify-down":
        break; // answered by isGitUnreachable / isWebhookLost / isNotifyDown and the wrappers
    }
  }

  private finish(w: FaultWindow, hooks: InfraFaultHooks): void {
    switch (w.kind) {
      case "prometheus-down":
      case "prometheus-slow":
      case "prometheus-empty":
      case "prometheus-nan": {
        const i = this.prometheusStack.indexOf(w);
        if (i >= 0) this.prometheusStack.splice(i, 1);
        this.applyPrometheus();
        break;
      }
      case "api-errors":
        this.apiErrors = undefined;
        for (const c of this.clients) c.setErrors(undefined);
        break;
      case "api-latency":
        this.apiLatency = undefined;
        for (const c of this.clients) c.setLatency(undefined);
        break;
      case "engine-restart":
        if (hooks.engine !== undefined) void this.infra.clock.track(hooks.engine.start());
        break;
      case "git-unreachable":
        if (hooks.engine !== undefined) this.pollAfterOutage(hooks.engine);
        break;
      default:
        break;
    }
  }

  /**
   * Argo CD retries an app whose refresh failed (ComparisonError) at its next poll
   * (`timeout.reconciliation`, 3 min, plus up to 60 s jitter). The worlds do not run idle polls
   * one by one in virtual time, so when Git is reachable again each such app is refreshed at a
   * uniformly drawn point of one poll cycle, as the poll would.
   */
  private pollAfterOutage(engine: EngineHandle): void {
    if (engine.refresh === undefined) return;
    let controller: EngineHandle["controller"];
    try {
      controller = engine.controller;
    } catch {
      return; // the engine is stopped (engine-restart): it refreshes every app when it starts
    }
    if (controller === undefined) return;
    const cycle = this.infra.input.scenario.delivery.pollIntervalMs + 60_000;
    for (const app of controller.appNames()) {
      const failed = controller
        .application(app)
        ?.status?.conditions?.some((c) => c.type === "ComparisonError");
      if (failed !== true) continue;
      const delay = Math.floor(this.pollRng.float() * cycle);
      this.infra.clock.setTimeout(() => {
        if (!this.isGitUnreachable(this.infra.clock.now())) engine.refresh?.(app);
      }, delay);
    }
  }

  private applyPrometheus(): void {
    const top = this.prometheusStack[this.prometheusStack.length - 1];
    if (top === undefined) {
      this.infra.prometheus.clearFault();
      return;
    }
    const kind = PROMETHEUS_KINDS[top.kind as keyof typeof PROMETHEUS_KINDS];
    this.infra.prometheus.setFault(kind === "slow" ? { kind, delayMs: ms(top.params, "delay") } : { kind });
  }
}

/**
 * Schedule the world's infrastructure faults (one call, right before `infra.runToEnd()`).
 * Returns the InfraFaults (the one passed in `hooks.faults`, or a new one).
 */
export function scheduleInfraFaults(infra: Infra, hooks: InfraFaultHooks = {}): InfraFaults {
  const faults = hooks.faults ?? infra.faults;
  faults.schedule(hooks);
  return faults;
}
