/** Public entry point of the mock Prometheus. */
export type { Fault, FaultKind, MockPrometheusOptions, QueryData, QueryOptions, SamplePair } from "./mock.ts";
export { MAX_POINTS, MockPrometheus } from "./mock.ts";
export type { PrometheusServer } from "./http.ts";
export { buildPrometheusApp, prometheusApi, startPrometheusServer } from "./http.ts";
export type { ErrorType } from "./parser.ts";
export { PromQLError } from "./parser.ts";
export type { QueryValue } from "./engine.ts";
export type { InputSeries, SeriesFile, SeriesValue } from "./series-file.ts";
export { expandSeriesValues, loadSeriesFile, parseSeriesFile } from "./series-file.ts";
export { compileMatcher, MemoryStore, matchesAll } from "./store.ts";
export type { CompiledMatcher } from "./store.ts";
export type { LabelMatcher, Labels, MatchOp, SampleBlock, SeriesProvider, SeriesSource } from "./types.ts";
