/**
 * ignoreDifferences (Argo CD `spec.ignoreDifferences[]`): jsonPointers,
 * a documented subset of jqPathExpressions, managedFieldsManagers.
 *
 * Supported jq subset (anything else is a GtbError GTB_DIFF_UNSUPPORTED_JQ):
 *   paths      .a.b   ."a/b"   .["a/b"]   .a[]   .a[]?   .a[2]
 *   filters    select(.x.y == "v")   select(.x != 3)   (string, number, true, false, null literals)
 *   pipes      path | select(...) | path ...
 * The matched paths are deleted from both sides, like Argo CD's `del(expr)`.
 */
import { GtbError } from "../core/errors.ts";
import { type KubeObject, splitApiVersion } from "../kube/types.ts";
import { deepEqual, isObject, parsePointer, removeAt } from "./json.ts";

export interface IgnoreDifference {
  group?: string;
  kind: string;
  name?: string;
  namespace?: string;
  jsonPointers?: string[];
  jqPathExpressions?: string[];
  managedFieldsManagers?: string[];
}

/** Does rule `r` apply to object `obj` ("*" wildcards allowed for group and kind)? */
export function ruleMatches(r: IgnoreDifference, obj: KubeObject): boolean {
  const group = splitApiVersion(obj.apiVersion).group;
  if (r.group !== undefined && r.group !== "*" && r.group !== group) return false;
  if (r.kind !== "*" && r.kind !== obj.kind) return false;
  if (r.name !== undefined && r.name !== "" && r.name !== obj.metadata.name) return false;
  if (r.namespace !== undefined && r.namespace !== "" && r.namespace !== obj.metadata.namespace) return false;
  return true;
}

type Step =
  | { t: "field"; name: string }
  | { t: "iter"; optional: boolean }
  | { t: "index"; i: number }
  | { t: "select"; path: string[]; op: "==" | "!="; value: unknown };

type Path = Array<string | number>;

class JqSyntax extends Error {}

function parsePath(src: string, pos: number, steps: Step[]): number {
  let i = pos;
  const ws = () => {
    while (src[i] === " ") i++;
  };
  ws();
  if (src[i] !== ".") throw new JqSyntax(`expected "." at ${i}`);
  let first = true;
  for (;;) {
    ws();
    if (src[i] === "." && /[A-Za-z_$]/.test(src[i + 1] ?? "")) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i + 1));
      steps.push({ t: "field", name: m![0] });
      i += 1 + m![0].length;
    } else if (src[i] === "." && src[i + 1] === '"') {
      const m = /^"((?:[^"\\]|\\.)*)"/.exec(src.slice(i + 1));
      if (m === null) throw new JqSyntax(`unterminated string at ${i + 1}`);
      steps.push({ t: "field", name: JSON.parse(m[0]) as string });
      i += 1 + m[0].length;
    } else if (src[i] === "[" || (src[i] === "." && src[i + 1] === "[")) {
      if (src[i] === ".") i++;
      const rest = src.slice(i);
      let m = /^\[\s*\](\?)?/.exec(rest);
      if (m !== null) {
        steps.push({ t: "iter", optional: m[1] === "?" });
        i += m[0].length;
        continue;
      }
      m = /^\[\s*(\d+)\s*\]\??/.exec(rest);
      if (m !== null) {
        steps.push({ t: "index", i: Number(m[1]) });
        i += m[0].length;
        continue;
      }
      m = /^\[\s*("(?:[^"\\]|\\.)*")\s*\]\??/.exec(rest);
      if (m === null) throw new JqSyntax(`unsupported subscript at ${i}`);
      steps.push({ t: "field", name: JSON.parse(m[1]!) as string });
      i += m[0].length;
    } else if (src[i] === "." && first) {
      i++; // identity "."
    } else {
      return i;
    }
    first = false;
  }
}

function parseLiteral(src: string): unknown {
  const s = src.trim();
  if (
    s === "true" ||
    s === "false" ||
    s === "null" ||
    /^-?\d+(\.\d+)?$/.test(s) ||
    /^"(?:[^"\\]|\\.)*"$/.test(s)
  ) {
    return JSON.parse(s);
  }
  throw new JqSyntax(`unsupported literal ${s}`);
}

/** Parse the supported jq subset. Throws JqSyntax for anything else. */
function parseJq(expr: string): Step[] {
  const steps: Step[] = [];
  for (const rawSeg of expr.split(/\|(?=(?:[^"]*"[^"]*")*[^"]*$)/)) {
    const seg = rawSeg.trim();
    const sel = /^select\s*\((.*)\)$/.exec(seg);
    if (sel !== null) {
      const m = /^(.*?)(==|!=)(.*)$/.exec(sel[1]!);
      if (m === null) throw new JqSyntax(`unsupported select(${sel[1]})`);
      const sub: Step[] = [];
      const end = parsePath(m[1]!, 0, sub);
      if (m[1]!.slice(end).trim() !== "" || sub.some((s) => s.t !== "field")) {
        throw new JqSyntax(`unsupported select path ${m[1]!.trim()}`);
      }
      steps.push({
        t: "select",
        path: sub.map((s) => (s.t === "field" ? s.name : "")),
        op: m[2] === "==" ? "==" : "!=",
        value: parseLiteral(m[3]!),
      });
      continue;
    }
    const end = parsePath(seg, 0, steps);
    if (seg.slice(end).trim() !== "") throw new JqSyntax(`unsupported syntax "${seg.slice(end).trim()}"`);
  }
  return steps;
}

function getPath(obj: unknown, path: Path): unknown {
  let cur = obj;
  for (const k of path) {
    if (Array.isArray(cur) && typeof k === "number") cur = cur[k];
    else if (isObject(cur)) cur = cur[String(k)];
    else return undefined;
  }
  return cur;
}

function evalPaths(obj: unknown, steps: Step[]): Path[] {
  let paths: Path[] = [[]];
  for (const s of steps) {
    const next: Path[] = [];
    for (const p of paths) {
      const v = getPath(obj, p);
      if (s.t === "field") {
        if (isObject(v) && Object.hasOwn(v, s.name)) next.push([...p, s.name]);
      } else if (s.t === "index") {
        if (Array.isArray(v) && s.i < v.length) next.push([...p, s.i]);
      } else if (s.t === "iter") {
        if (Array.isArray(v)) for (let i = 0; i < v.length; i++) next.push([...p, i]);
        else if (isObject(v)) for (const k of Object.keys(v)) next.push([...p, k]);
      } else {
        const got = s.path.reduce<unknown>((acc, k) => (isObject(acc) ? acc[k] : undefined), v);
        const eq = deepEqual(got ?? null, s.value);
        if (s.op === "==" ? eq : !eq) next.push(p);
      }
    }
    paths = next;
  }
  return paths;
}

/** Delete paths in an order that keeps array indices valid (deepest, highest index first). */
function deletePaths(obj: unknown, paths: Path[]): void {
  const sorted = [...paths].sort((a, b) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const x = a[i]!;
      const y = b[i]!;
      if (x === y) continue;
      if (typeof x === "number" && typeof y === "number") return y - x;
      return String(x) < String(y) ? -1 : 1;
    }
    return b.length - a.length;
  });
  for (const p of sorted) removeAt(obj, p);
}

/** Validate and compile a jqPathExpression; `where` is the field path used in errors. */
export function compileJq(expr: string, where: string): (obj: unknown) => void {
  let steps: Step[];
  try {
    steps = parseJq(expr);
  } catch (e) {
    if (!(e instanceof JqSyntax)) throw e;
    throw new GtbError("GTB_DIFF_UNSUPPORTED_JQ", `unsupported jqPathExpressions "${expr}": ${e.message}`, {
      path: where,
      hint: 'supported: paths (.a.b, ."k", .a[], .a[]?, .a[0]), select(.k == "v" | != ...), joined by "|"; or use jsonPointers',
    });
  }
  return (obj) => deletePaths(obj, evalPaths(obj, steps));
}

/** Remove every jsonPointer / jqPathExpression of the matching rules from `obj` (in place). */
export function applyIgnorePaths(obj: KubeObject, rules: readonly IgnoreDifference[]): void {
  rules.forEach((r, ri) => {
    if (!ruleMatches(r, obj)) return;
    for (const p of r.jsonPointers ?? []) {
      let tokens: string[];
      try {
        tokens = parsePointer(p);
      } catch (e) {
        throw new GtbError("GTB_DIFF_BAD_JSON_POINTER", `invalid jsonPointers entry "${p}"`, {
          path: `ignoreDifferences[${ri}].jsonPointers`,
          hint: 'a JSON pointer starts with "/", e.g. /spec/replicas',
          cause: e,
        });
      }
      removeAt(obj, tokens);
    }
    (r.jqPathExpressions ?? []).forEach((expr, ei) => {
      compileJq(expr, `ignoreDifferences[${ri}].jqPathExpressions[${ei}]`)(obj);
    });
  });
}

/** managedFieldsManagers named by the rules that match `obj`. */
export function ignoredManagers(obj: KubeObject, rules: readonly IgnoreDifference[]): string[] {
  return rules.filter((r) => ruleMatches(r, obj)).flatMap((r) => r.managedFieldsManagers ?? []);
}
