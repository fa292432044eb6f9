import { describe, expect, it } from "vitest";
import { ParseCache, parsePromQL } from "./parser.ts";

/** What parsePromQL makes of a query: its AST, or its error's type and message. */
function direct(src: string): unknown {
  try {
    return parsePromQL(src);
  } catch (e) {
    return { error: (e as Error).message, type: (e as { errorType?: string }).errorType };
  }
}

function cached(cache: ParseCache, src: string): unknown {
  try {
    return cache.parse(src);
  } catch (e) {
    return { error: (e as Error).message, type: (e as { errorType?: string }).errorType };
  }
}

const sel = (svc: string, hash: string) =>
  `namespace="shop",service="${svc}",rollouts_pod_template_hash="${hash}"`;

describe("ParseCache", () => {
  // each query is parsed after others of the same shape (values aside), so it comes from a shape
  const queries = [
    `(sum(rate(http_requests_total{${sel("a", "1")},code=~"5.."}[5m])) or vector(0)) / sum(rate(http_requests_total{${sel("a", "1")}}[5m]))`,
    `(sum(rate(http_requests_total{${sel("b", "2")},code=~"5.."}[5m])) or vector(0)) / sum(rate(http_requests_total{${sel("b", "2")}}[5m]))`,
    `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${sel("a", "1")}}[5m])))`,
    `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${sel("c-d", "x9")}}[5m])))`,
    // the same value twice, != and spaces around the operator
    `up{job = "a", instance != "a"} + on(job) up{job="a"}`,
    `up{job = "b", instance != "c"} + on(job) up{job="d"}`,
    // a regex matcher's value stays in the shape
    `up{job=~"a|b", x="1"}`,
    `up{job=~"(", x="2"}`,
    `up{job=~"c|d", x="3"}`,
    // a comment with a quote, strings in other places, escapes
    `up{job="a"} # "x="y"\n + 1`,
    `up{job="b"} # "x="y"\n + 1`,
    `label_replace(up{job="a"}, "dst", "$1", "job", "(.*)")`,
    `label_replace(up{job="b"}, "dst", "$1", "job", "(.*)")`,
    `up{job="a\\"b", x="1"}`,
    `up{job='a', x="1"}`,
    `up{job=\`a\`, x="2"}`,
    // errors name the query's own values
    `up{__name__="a", x="1"}`,
    `{__name__="b", x="1"} offset 5m`,
    `up{__name__="b", x="2"}`,
    `up{x!="1"}`,
    `up{x!="2"}`,
    `{x!="3"}`,
    `{x!="4"}`,
    `up == "a"`,
    `up != "a"`,
    `up != "b"`,
    `up{x="1"} <= "2"`,
    `up{x="1"`,
    `up{x="2"`,
    // text that looks like a placeholder is left alone
    `up{x="__gtb_shape_value_0"}`,
    `up{x="__gtb_shape_value_1", y="__gtb_shape_value_0"}`,
    // subqueries, offsets, @, aggregations with parameters
    `max_over_time(rate(up{job="a"}[5m])[30m:1m] offset 1m)`,
    `max_over_time(rate(up{job="b"}[5m])[30m:1m] offset 1m)`,
    `topk(3, up{job="a"} @ 100)`,
    `topk(3, up{job="b"} @ 100)`,
    `count_values("v", up{job="a"})`,
    `count_values("v", up{job="b"})`,
  ];

  it("gives what a direct parse gives (AST or error), for queries made from the same shapes", () => {
    const cache = new ParseCache();
    for (const q of queries) expect(cached(cache, q), q).toEqual(direct(q));
    // and again, from the cache
    for (const q of queries) expect(cached(cache, q), q).toEqual(direct(q));
  });

  it("gives each query its own selector objects (caches key on matcher lists)", () => {
    const cache = new ParseCache();
    const a = cache.parse(`up{job="a"}`);
    const b = cache.parse(`up{job="b"}`);
    if (a.kind !== "vector" || b.kind !== "vector") throw new Error("expected vector selectors");
    expect(a.matchers).not.toBe(b.matchers);
    expect(a.matchers[1]!.value).toBe("a");
    expect(b.matchers[1]!.value).toBe("b");
    expect(b.text).toBe('__name__="up",job="b"');
    expect(cache.parse(`up{job="a"}`)).toBe(a);
  });
});
