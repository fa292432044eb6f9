/**
 * Contract between sample producers (the traffic model, series files) and the
 * mock Prometheus. Cost follows observation: a source generates the samples of
 * a window only when a query asks for that window.
 */
export type Labels = Readonly<Record<string, string>>;

/** Samples of one series in a window, sorted by time. */
export interface SampleBlock {
  /** Timestamps, ms since the Unix epoch, ascending. */
  readonly t: ArrayLike<number>;
  /** Values (float64; NaN and +/-Inf allowed). */
  readonly v: ArrayLike<number>;
  /** Optional: stale[i] === 1 marks sample i as a staleness marker (Prometheus' StaleNaN). */
  readonly stale?: ArrayLike<number>;
}

export interface SeriesSource {
  /** Full label set, including __name__. */
  readonly labels: Labels;
  /** Samples with startMs <= t <= endMs. May be generated on demand; must be deterministic. */
  samples(startMs: number, endMs: number): SampleBlock;
}

export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

/**
 * Something that can enumerate series by matchers. The mock Prometheus store
 * aggregates several providers (a materialized store, the traffic model).
 * `select` must return series in a stable order.
 */
export interface SeriesProvider {
  select(matchers: readonly LabelMatcher[]): readonly SeriesSource[];
  /** All label names / values known (for /api/v1/labels and label values). */
  labelNames?(): readonly string[];
}
