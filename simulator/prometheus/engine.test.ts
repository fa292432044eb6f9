/**
 * Table-driven checks of tricky PromQL semantics (Prometheus 2.42), worked out by hand from
 * promql/functions.go and engine.go. The promtool differential test covers breadth; these pin
 * the rules canary verdicts depend on and run without promtool.
 */
import { describe, expect, it } from "vitest";
import { MockPrometheus } from "./mock.ts";
import { PromQLError } from "./parser.ts";
import { parseSeriesFile } from "./series-file.ts";
import { labelsString } from "./values.ts";

const SERIES = `
interval: 15s
input_series:
  - series: 'c{job="a", instance="1"}'
    values: '0+10x40'
  - series: 'c{job="a", instance="2"}'
    values: '0+5x40'
  - series: 'late{job="a"}'
    values: '_x4 100+10x10'
  - series: 'small{job="a"}'
    values: '_x4 1+10x10'
  - series: 'r{job="a"}'
    values: '0 10 20 5 15'
  - series: 's{job="a"}'
    values: '1 2 stale 4'
  - series: 'g{job="a"}'
    values: '1'
  - series: 'h_bucket{le="0.1"}'
    values: '10'
  - series: 'h_bucket{le="0.5"}'
    values: '20'
  - series: 'h_bucket{le="+Inf"}'
    values: '20'
  - series: 'z_bucket{le="0.1"}'
    values: '0'
  - series: 'z_bucket{le="+Inf"}'
    values: '0'
  - series: 'noinf_bucket{le="0.1"}'
    values: '3'
  - series: 'tail_bucket{le="1"}'
    values: '5'
  - series: 'tail_bucket{le="+Inf"}'
    values: '10'
  - series: 'owner{job="a", team="t1"}'
    values: '1x40'
`;

function prom(): MockPrometheus {
  const p = new MockPrometheus();
  p.loadSeries(parseSeriesFile(SERIES, "inline"));
  return p;
}

/** Result as {labels string: value}; scalars under "scalar". */
function run(p: MockPrometheus, expr: string, tSec: number): Record<string, number> {
  const v = p.evaluate(expr, tSec * 1000);
  if (v.type === "scalar") return { scalar: v.v };
  if (v.type !== "vector") throw new Error(`unexpected ${v.type}`);
  return Object.fromEntries(
    v.samples.map((s) => {
      const { __name__: name, ...rest } = s.labels;
      return [`${name ?? ""}${labelsString(rest)}`, s.v];
    }),
  );
}

const CASES: [string, string, number, Record<string, number>][] = [
  ["rate over an aligned window", 'rate(c{instance="1"}[1m])', 600, { '{instance="1", job="a"}': 40 / 60 }],
  ["increase is rate x range", 'increase(c{instance="1"}[1m])', 600, { '{instance="1", job="a"}': 40 }],
  ["extrapolates to both edges", 'increase(c{instance="1"}[1m])', 610, { '{instance="1", job="a"}': 40 }],
  [
    "extrapolates half an interval when the series starts late",
    "increase(late[2m])",
    120,
    { '{job="a"}': 45 },
  ],
  ["never extrapolates below zero", "increase(small[2m])", 120, { '{job="a"}': 41 }],
  ["counter resets add the last value", "increase(r[1m])", 60, { '{job="a"}': 35 }],
  ["delta does not correct resets", "delta(r[1m])", 60, { '{job="a"}': 15 }],
  ["irate uses the last two samples", "irate(r[1m])", 60, { '{job="a"}': 10 / 15 }],
  ["irate after a reset uses the last value", "irate(r[1m])", 45, { '{job="a"}': 5 / 15 }],
  ["one sample: rate drops the series", "rate(g[5m])", 60, {}],
  ["staleness marker ends the series", "s", 30, {}],
  ["sample before the marker", "s", 29, { 's{job="a"}': 2 }],
  ["range vectors skip staleness markers", "count_over_time(s[1m])", 45, { '{job="a"}': 3 }],
  ["lookback is 5m inclusive (2.42)", "g", 300, { 'g{job="a"}': 1 }],
  ["lookback ends after 5m", "g", 300.001, {}],
  ["histogram_quantile interpolates", "histogram_quantile(0.75, h_bucket)", 0, { "{}": 0.3 }],
  ["histogram_quantile first bucket from 0", "histogram_quantile(0.5, h_bucket)", 0, { "{}": 0.1 }],
  [
    "quantile in the +Inf bucket: second-highest bound",
    "histogram_quantile(0.99, tail_bucket)",
    0,
    { "{}": 1 },
  ],
  ["zero observations: NaN", "histogram_quantile(0.9, z_bucket)", 0, { "{}": Number.NaN }],
  ["no +Inf bucket: NaN", "histogram_quantile(0.9, noinf_bucket)", 0, { "{}": Number.NaN }],
  ["q > 1 is +Inf", "histogram_quantile(2, h_bucket)", 0, { "{}": Number.POSITIVE_INFINITY }],
  ["le survives sum by (le)", "histogram_quantile(0.75, sum by (le) (h_bucket))", 0, { "{}": 0.3 }],
  ["0/0 is NaN", "sum(rate(g[5m])) / sum(rate(g[5m]))", 60, {}],
  [
    "x/0 is +Inf and drops __name__",
    'c{instance="1"} / 0',
    15,
    { '{instance="1", job="a"}': Number.POSITIVE_INFINITY },
  ],
  ["0/0 on samples is NaN", 'c{instance="1"} / 0', 0, { '{instance="1", job="a"}': Number.NaN }],
  ["comparison filters and keeps __name__", "c > 300", 600, { 'c{instance="1", job="a"}': 400 }],
  [
    "bool comparison drops __name__",
    "c > bool 300",
    600,
    { '{instance="1", job="a"}': 1, '{instance="2", job="a"}': 0 },
  ],
  ["scalar on the left keeps the vector value", "300 < c", 600, { 'c{instance="1", job="a"}': 400 }],
  ["sum by", "sum by (job) (c)", 600, { '{job="a"}': 600 }],
  ["avg without", "avg without (instance) (c)", 600, { '{job="a"}': 300 }],
  ["topk keeps all labels", "topk(1, c)", 600, { 'c{instance="1", job="a"}': 400 }],
  ["count_values", 'count_values("v", c)', 0, { '{v="0"}': 2 }],
  ["quantile aggregation", "quantile(0.5, c)", 600, { "{}": 300 }],
  [
    "group_left copies labels from the one side",
    "c * on (job) group_left (team) owner",
    15,
    {
      '{instance="1", job="a", team="t1"}': 10,
      '{instance="2", job="a", team="t1"}': 5,
    },
  ],
  ["and / unless / or", 'c and on (instance) c{instance="2"}', 15, { 'c{instance="2", job="a"}': 5 }],
  ["unless", 'c unless on (instance) c{instance="2"}', 15, { 'c{instance="1", job="a"}': 10 }],
  [
    "or adds unmatched right samples",
    'c{instance="1"} or g',
    15,
    { 'c{instance="1", job="a"}': 10, 'g{job="a"}': 1 },
  ],
  ["offset", 'c{instance="1"} offset 1m', 600, { 'c{instance="1", job="a"}': 360 }],
  ["@ pins the time", 'c{instance="1"} @ 150', 600, { 'c{instance="1", job="a"}': 100 }],
  ["absent labels from equality matchers", 'absent(nope{job="x", a=~"b"})', 0, { '{job="x"}': 1 }],
  ["absent on present series is empty", "absent(c)", 0, {}],
  [
    "last_over_time keeps __name__",
    'last_over_time(c{instance="1"}[1m])',
    600,
    { 'c{instance="1", job="a"}': 400 },
  ],
  [
    "max_over_time on a subquery",
    'max_over_time(rate(c{instance="1"}[1m])[5m:1m])',
    600,
    { '{instance="1", job="a"}': 40 / 60 },
  ],
  ["label_replace", 'label_replace(g, "x", "$1-z", "job", "(.*)")', 0, { 'g{job="a", x="a-z"}': 1 }],
  ["scalar of one sample", 'scalar(c{instance="1"})', 15, { scalar: 10 }],
  ["scalar of many is NaN", "scalar(c)", 15, { scalar: Number.NaN }],
  ["time()", "time()", 90, { scalar: 90 }],
  ["1 ^ NaN is 1 like Go", "1 ^ NaN", 0, { scalar: 1 }],
  ["timestamp of a sample", "timestamp(g)", 100, { '{job="a"}': 0 }],
  [
    "offset binds to the last operand",
    'c{instance="1"} - c{instance="1"} offset 1m',
    600,
    { '{instance="1", job="a"}': 40 },
  ],
  [
    "@ binds to the last operand",
    'c{instance="1"} - c{instance="1"} @ 300',
    600,
    { '{instance="1", job="a"}': 200 },
  ],
  ["unary minus binds looser than ^", "-2 ^ 2", 0, { scalar: -4 }],
  ["^ is right-associative", "2 ^ 3 ^ 2", 0, { scalar: 512 }],
];

describe("PromQL semantics (2.42)", () => {
  const p = prom();
  it.each(CASES)("%s: %s @ %ss", (_name, expr, t, want) => {
    const got = run(p, expr, t);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [k, v] of Object.entries(want)) {
      if (Number.isNaN(v)) expect(got[k]).toBeNaN();
      else expect(got[k]).toBeCloseTo(v, 12);
    }
  });

  const ERRORS: [string, string, RegExp][] = [
    ["limitk is newer than 2.42", "limitk(1, c)", /limitk.*not supported/],
    [
      "holt_winters is not in the grammar",
      "holt_winters(c[5m], 0.5, 0.5)",
      /unknown function with name "holt_winters"/,
    ],
    ["native histogram functions", "histogram_count(c)", /native histograms/],
    ["newer functions", "mad_over_time(c[5m])", /unknown function/],
    [
      "rate needs a range",
      "rate(c)",
      /expected type range vector in call to function "rate", got instant vector/,
    ],
    ["scalar comparisons need bool", "1 > 2", /comparisons between scalars must use BOOL modifier/],
    ["set operators need vectors", "c and 1", /set operator "and" not allowed/],
    ["duration arithmetic", "rate(c[5m * 2])", /duration expressions are not supported/],
    ["empty matchers", '{job=""}', /at least one non-empty matcher/],
    ["syntax", "sum(c", /parse error/],
    ["bad regex", 'c{job=~"("}', /invalid regular expression/],
  ];
  it.each(ERRORS)("bad_data: %s", (_name, expr, re) => {
    let err: unknown;
    try {
      p.evaluate(expr, 0);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PromQLError);
    expect((err as PromQLError).errorType).toBe("bad_data");
    expect((err as PromQLError).message).toMatch(re);
  });

  it("many-to-many matching is an execution error", () => {
    expect(() => p.evaluate("c + on (job) c", 15_000)).toThrow(/many-to-many matching not allowed/);
  });
});
