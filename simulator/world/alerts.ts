/**
 * Alerting on the mock Prometheus, as an on-call team would run it: the error
 * ratio over 5 minutes above a threshold, or the P99 above a threshold, for
 * `alertFor` (Prometheus `for:` semantics: pending at the first true evaluation,
 * firing once it has held for the duration).
 *
 * Cost follows observation: a service is evaluated only while its traffic
 * deviates from its healthy baseline (a faulty version or a harmful drift is
 * serving); elsewhere the traffic is the baseline, whose error ratio is ten
 * times below the alert threshold, and nothing is evaluated. A version with a
 * load regression deviates only while it serves more than the regression's load,
 * so its watch skips the evaluations whose window it served below it. A watch
 * ends when no deviating version ran within the rules' window (5 minutes and a
 * margin) and none runs now: the next faulty version starts a new one. Evaluation runs every minute for
 * the first two hours of a watch and every 15 minutes after. False alerts from
 * noise on healthy services are therefore not modelled.
 */
import type { Clock, TimerHandle } from "../../engine/core/clock.ts";
import type { FleetService } from "../fleet/generate.ts";
import type { QueryValue } from "../prometheus/engine.ts";
import type { MockPrometheus } from "../prometheus/mock.ts";

export interface AlertRules {
  errorRate: number;
  p99LatencyMs: number;
  forMs: number;
  /** Evaluation interval in the first `denseForMs` of a watch, and after it. */
  intervalMs?: number;
  sparseIntervalMs?: number;
  denseForMs?: number;
}

export interface AlertFiring {
  service: FleetService;
  /** When the condition first held (pending since). */
  pendingSince: number;
  firedAt: number;
  reason: string;
}

interface Watch {
  service: FleetService;
  queries: RuleQueries;
  since: number;
  timer: TimerHandle | undefined;
  pendingSince: number | undefined;
}

/**
 * The first element's value, as the rules have always read it: through the API's text, where
 * Number("+Inf") is NaN, so an infinite value compares like NaN (it never crosses a threshold).
 */
function scalarOf(v: QueryValue): number {
  const x = v.type === "vector" ? (v.samples[0]?.v ?? Number.NaN) : v.type === "scalar" ? v.v : Number.NaN;
  return Number.isFinite(x) ? x : Number.NaN;
}

interface RuleQueries {
  errorRatio: string;
  p99: string;
}

export function errorRatioQuery(s: FleetService): string {
  const sel = `namespace="${s.namespace}",service="${s.name}"`;
  return `sum(rate(http_requests_total{${sel},code=~"5.."}[5m])) / sum(rate(http_requests_total{${sel}}[5m]))`;
}

export function p99Query(s: FleetService): string {
  const sel = `namespace="${s.namespace}",service="${s.name}"`;
  return `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[5m])))`;
}

/** The rules' range ([5m]) plus a minute: a version that ran earlier has no sample in their window. */
const RULE_WINDOW_MS = 6 * 60_000;

/** Did the service's traffic deviate from its healthy baseline at some moment of [fromMs, toMs]? */
export type DeviationProbe = (service: FleetService, fromMs: number, toMs: number) => boolean;

export class AlertScanner {
  private readonly watches = new Map<string, Watch>();
  /** The rules' query texts per service, built once (not per evaluation). */
  private readonly queries = new Map<string, RuleQueries>();
  /** PromQL evaluations done (for cost reporting). */
  evaluations = 0;

  constructor(
    private readonly clock: Clock,
    private readonly prometheus: MockPrometheus,
    private readonly rules: AlertRules,
    private readonly onFire: (f: AlertFiring) => void,
    /** Without it a watch lasts until unwatch() or firing. */
    private readonly deviates?: DeviationProbe,
  ) {}

  /** Start evaluating the service's alert rules (no-op when already watched). */
  watch(service: FleetService): void {
    if (this.watches.has(service.name)) return;
    let queries = this.queries.get(service.name);
    if (queries === undefined) {
      queries = { errorRatio: errorRatioQuery(service), p99: p99Query(service) };
      this.queries.set(service.name, queries);
    }
    const w: Watch = { service, queries, since: this.clock.now(), timer: undefined, pendingSince: undefined };
    this.watches.set(service.name, w);
    this.schedule(w, this.rules.intervalMs ?? 60_000);
  }

  unwatch(service: FleetService): void {
    const w = this.watches.get(service.name);
    if (w === undefined) return;
    if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    this.watches.delete(service.name);
  }

  isWatching(service: FleetService): boolean {
    return this.watches.has(service.name);
  }

  stop(): void {
    for (const w of this.watches.values()) if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    this.watches.clear();
  }

  private schedule(w: Watch, delay: number): void {
    w.timer = this.clock.setTimeout(() => this.evaluate(w), delay);
  }

  private evaluate(w: Watch): void {
    if (this.watches.get(w.service.name) !== w) return;
    const now = this.clock.now();
    let reason: string | undefined;
    if (this.deviates !== undefined && !this.deviates(w.service, now - RULE_WINDOW_MS, now)) {
      // healthy baseline all through the window: nothing to evaluate until a faulty version returns
      if (!this.deviates(w.service, now, Number.POSITIVE_INFINITY)) {
        this.watches.delete(w.service.name);
        return;
      }
      // a faulty version runs but served like the baseline (a load regression below its load):
      // the rules hold as on a healthy service; it is asked again at the next evaluation
    } else {
      this.evaluations++;
      const err = scalarOf(this.prometheus.evaluate(w.queries.errorRatio, now));
      if (err > this.rules.errorRate)
        reason = `error ratio ${(err * 100).toFixed(2)}% > ${(this.rules.errorRate * 100).toFixed(2)}%`;
      else {
        // the latency rule decides only when the error rule does not hold (its reason comes first)
        const p99 = scalarOf(this.prometheus.evaluate(w.queries.p99, now));
        if (p99 * 1000 > this.rules.p99LatencyMs)
          reason = `P99 ${Math.round(p99 * 1000)} ms > ${this.rules.p99LatencyMs} ms`;
      }
    }
    if (reason === undefined) w.pendingSince = undefined;
    else {
      w.pendingSince ??= now;
      if (now - w.pendingSince >= this.rules.forMs) {
        this.watches.delete(w.service.name);
        this.onFire({ service: w.service, pendingSince: w.pendingSince, firedAt: now, reason });
        return;
      }
    }
    const dense = now - w.since < (this.rules.denseForMs ?? 2 * 3_600_000);
    const interval =
      w.pendingSince !== undefined || dense
        ? (this.rules.intervalMs ?? 60_000)
        : (this.rules.sparseIntervalMs ?? 900_000);
    this.schedule(w, interval);
  }
}
