/**
 * Reading user YAML with errors that point at the file, line, column and field path:
 * YAML syntax errors, JSON-Schema violations (unknown keys, wrong types) mapped back to
 * the node that caused them, and semantic errors raised by callers via `locate`.
 */
import { Ajv, type ErrorObject } from "ajv";
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { GtbError } from "../../engine/core/errors.ts";

export interface YamlInput {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  value: unknown;
}

export function parseYaml(file: string, text: string, code = "GTB_YAML_SYNTAX"): YamlInput {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err !== undefined) {
    const pos = lines.linePos(err.pos[0]);
    throw new GtbError(code, `invalid YAML: ${err.message.split("\n")[0]}`, {
      file,
      line: pos.line,
      column: pos.col,
      hint: "fix the YAML syntax at this position",
    });
  }
  return { file, doc, lines, value: doc.toJS({ maxAliasCount: 1000 }) };
}

/** Field path as users write it: `spec.worlds[1].model`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out === "" ? p : `.${p}`;
  return out;
}

/** Line and column of the node at `path` (or of its nearest existing parent). */
export function locate(
  input: YamlInput,
  path: ReadonlyArray<string | number>,
  key = false,
): { line?: number; column?: number } {
  for (let n = path.length; n >= 0; n--) {
    const sub = path.slice(0, n);
    let node: unknown = sub.length === 0 ? input.doc.contents : input.doc.getIn(sub, true);
    if (key && n === path.length && n > 0) {
      const parent = sub.length === 1 ? input.doc.contents : input.doc.getIn(sub.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find(
          (it) => (it.key as { value?: unknown } | null)?.value === sub[sub.length - 1],
        );
        if (pair?.key) node = pair.key;
      }
    }
    const range = (node as Node | undefined)?.range;
    if (range !== undefined && range !== null) {
      const pos = input.lines.linePos(range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

export function errorAt(
  input: YamlInput,
  code: string,
  message: string,
  path: ReadonlyArray<string | number>,
  hint?: string,
): GtbError {
  const loc = locate(input, path);
  return new GtbError(code, message, {
    file: input.file,
    path: formatPath(path),
    ...loc,
    ...(hint === undefined ? {} : { hint }),
  });
}

function pointerToPath(pointer: string): Array<string | number> {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(e: ErrorObject): { message: string; path: Array<string | number>; key: boolean } {
  const path = pointerToPath(e.instancePath);
  switch (e.keyword) {
    case "additionalProperties": {
      const prop = String((e.params as { additionalProperty: string }).additionalProperty);
      return { message: `unknown field "${prop}"`, path: [...path, prop], key: true };
    }
    case "required":
      return {
        message: `missing required field "${(e.params as { missingProperty: string }).missingProperty}"`,
        path,
        key: false,
      };
    case "enum":
      return {
        message: `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(", ")}`,
        path,
        key: false,
      };
    default:
      return { message: e.message ?? e.keyword, path, key: false };
  }
}

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
const compiled = new WeakMap<object, ReturnType<Ajv["compile"]>>();

/**
 * Validate `input.value` against a JSON Schema; throws a GtbError for the first
 * violation (with its line), listing the others in the message.
 */
export function validateSchema<T>(input: YamlInput, schema: object, code: string, what: string): T {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(input.value)) return input.value as T;
  // Prefer the most specific error: unknown fields and type errors over anyOf/oneOf summaries.
  const errors = (validate.errors ?? []).filter((e) => !["anyOf", "oneOf", "if"].includes(e.keyword));
  const all = errors.length > 0 ? errors : (validate.errors ?? []);
  const described = all.map(describe);
  const first = described[0]!;
  const loc = locate(input, first.path, first.key);
  const others = described
    .slice(1, 6)
    .map((d) => `${formatPath(d.path) || "(root)"}: ${d.message}`)
    .join("; ");
  return (() => {
    throw new GtbError(
      code,
      `invalid ${what}: ${formatPath(first.path) || "(root)"}: ${first.message}${others ? ` (also: ${others})` : ""}`,
      {
        file: input.file,
        path: formatPath(first.path),
        ...loc,
        hint: `see the ${what} reference in docs/SCENARIOS.md`,
      },
    );
  })();
}

/** Walk helper: is this YAML node a sequence / map (re-exported for callers' semantic checks). */
export { isMap, isSeq };
