import { describe, expect, it } from "vitest";
import { type Value, compile, evalCondition, ExprError } from "./expr.ts";

const cases: Array<[string, Value, boolean]> = [
  ["result[0] <= 0.005", [0.004], true],
  ["result[0] <= 0.005", [0.02], false],
  ["result <= 0.005", 0.001, true],
  ["result[0] < 0.005", [Number.NaN], false],
  ["result[0] >= 0.005", [Number.NaN], false],
  ["result[0] == result[0]", [Number.NaN], false],
  ["isNaN(result[0])", [Number.NaN], true],
  ["isInf(result[0])", [Number.POSITIVE_INFINITY], true],
  ["isInf(result)", -Infinity, true],
  ["len(result) > 0 && result[0] < 0.5", [], false],
  ["len(result) == 0 || isNaN(result[0]) || result[0] < 0.005", [], true],
  ["len(result) == 0 || isNaN(result[0]) || result[0] < 0.005", [Number.NaN], true],
  ["len(result) == 0 || isNaN(result[0]) || result[0] < 0.005", [0.02], false],
  ["all(result, {# < 0.5})", [0.1, 0.2], true],
  ["all(result, {# < 0.5})", [0.1, 0.7], false],
  ["all(result, # < 0.5)", [0.1, 0.2], true],
  ["any(result, {# > 0.5})", [0.1, 0.7], true],
  ["none(result, {# > 0.5})", [0.1, 0.2], true],
  ["one(result, {# > 0.5})", [0.6, 0.2], true],
  ["all(result, {# < 0.5})", [], true],
  ["result[0] > 0.9 and result[1] > 0.9", [0.95, 0.99], true],
  ["result[0] > 0.9 or result[1] > 0.9", [0.5, 0.99], true],
  ["not (result[0] > 0.9)", [0.5], true],
  ["!(result[0] > 0.9)", [0.95], false],
  ["result[0] + result[1] * 2 == 5", [1, 2], true],
  ["(result[0] + result[1]) * 2 == 6", [1, 2], true],
  ["result[0] / 2 == 0.5", [1], true],
  ["2 ** 3 == 8", 0, true],
  ["10 % 3 == 1", 0, true],
  ["-result[0] < 0", [3], true],
  ["result[-1] == 3", [1, 2, 3], true],
  ["asInt(result) == 3", "3", true],
  ["asFloat(result) > 0.5", "0.75", true],
  ["asInt(result[0]) == 3", [3.7], true],
  ["default(result, 0) == 0", null, true],
  ["isNil(result)", null, true],
  ["isNil(result)", [1], false],
  ["2 in result", [1, 2, 3], true],
  ["4 not in result", [1, 2, 3], true],
  ['"a" in {"a": 1}', 0, true],
  ["result[0] > 0.5 ? true : false", [0.7], true],
  ["result == true", true, true],
  ["len(result) == 3", [1, 2, 3], true],
  ["max(result) < 5 && min(result) > 0", [1, 4], true],
  ["sum(result) == 6", [1, 2, 3], true],
  ["len(filter(result, {# > 1})) == 2", [1, 2, 3], true],
  ["result[1:] == [2, 3]", [1, 2, 3], true],
  ["1_000 == 1000", 0, true],
  ["1e3 == 1000 && .5 == 0.5", 0, true],
];

describe("expr-lang conditions", () => {
  it.each(cases)("%s with %j -> %s", (src, result, want) => {
    expect(evalCondition(compile(src), result)).toBe(want);
  });

  const runtimeErrors: Array<[string, Value, RegExp]> = [
    ["result[0] < 0.5", [], /index out of range: 0 \(array length is 0\)/],
    ["result < 0.5", "x", /mismatched types string and float64/],
    ["result[0]", [1], /expected bool, but got int/],
    ["asInt(result)", "x", /invalid syntax/],
    ["result[0] && true", [1], /expected bool/],
  ];
  it.each(runtimeErrors)("%s with %j throws %s", (src, result, re) => {
    expect(() => evalCondition(compile(src), result)).toThrow(re);
  });

  const compileErrors: Array<[string, string, number, number]> = [
    ["result[0] <", "unexpected end of expression", 1, 12],
    ["result[0] < 0.5 )", 'unexpected token Operator(")")', 1, 17],
    ["reslt[0] < 0.5", "unknown name reslt", 1, 1],
    ["result[0] < 0.5 &&\n  foo(result)", "unknown func foo", 2, 3],
    ["# > 1", "cannot use pointer accessor outside predicate", 1, 1],
    ['result == "abc', "literal not terminated", 1, 11],
    ["result @ 1", "unrecognized character", 1, 8],
  ];
  it.each(compileErrors)("compile %j fails with %s at %d:%d", (src, msg, line, col) => {
    let err: unknown;
    try {
      compile(src);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExprError);
    const e = err as ExprError;
    expect(e.message).toContain(msg);
    expect([e.line, e.column]).toEqual([line, col]);
    expect(e.message).toContain(`(${line}:${col})`);
  });

  it("keeps and/or precedence: and binds tighter than or", () => {
    expect(evalCondition(compile("true or false and false"), 0)).toBe(true);
    expect(evalCondition(compile("(true or false) and false"), 0)).toBe(false);
  });

  it("short-circuits so guards protect indexing", () => {
    expect(evalCondition(compile("len(result) > 0 && result[0] < 1"), [])).toBe(false);
  });
});
