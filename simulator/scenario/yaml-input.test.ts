import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GtbError } from "../../engine/core/errors.ts";
import { writeOutputDir } from "./output.ts";
import { errorAt, parseYaml, validateSchema } from "./yaml-input.ts";

const schema = {
  type: "object",
  additionalProperties: false,
  required: ["spec"],
  properties: {
    spec: {
      type: "object",
      additionalProperties: false,
      properties: {
        seed: { type: "integer" },
        worlds: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            properties: { name: { type: "string" }, model: { enum: ["manual", "gitops"] } },
          },
        },
      },
    },
  },
};

function fail(fn: () => unknown): GtbError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GtbError) return e;
    throw e;
  }
  throw new Error("expected a GtbError");
}

describe("YAML input errors", () => {
  it.each([
    ["unknown key", "spec:\n  seed: 1\n  sede: 2\n", "spec.sede", 3, /unknown field "sede"/],
    ["wrong type", "spec:\n  seed: abc\n", "spec.seed", 2, /must be integer/],
    [
      "bad enum in a list",
      "spec:\n  worlds:\n    - name: a\n      model: manul\n",
      "spec.worlds[0].model",
      4,
      /must be one of "manual", "gitops"/,
    ],
    ["missing required", "other: 1\n", "(root)", 1, /unknown field "other"|missing required field "spec"/],
  ])("%s -> path, line and message", (_n, text, path, line, msg) => {
    const e = fail(() =>
      validateSchema(parseYaml("s.yaml", text), schema, "GTB_SCENARIO_INVALID", "scenario"),
    );
    expect(e.code).toBe("GTB_SCENARIO_INVALID");
    expect(e.file).toBe("s.yaml");
    if (path !== "(root)") expect(e.path).toBe(path);
    expect(e.line).toBe(line);
    expect(e.message).toMatch(msg);
    expect(e.exitCode).toBe(2);
  });

  it("syntax errors carry line and column", () => {
    const e = fail(() => parseYaml("s.yaml", "spec:\n  seed: [1, 2\n"));
    expect(e.code).toBe("GTB_YAML_SYNTAX");
    expect(e.line).toBeGreaterThanOrEqual(2);
  });

  it("semantic errors point at the node", () => {
    const input = parseYaml("s.yaml", "spec:\n  worlds:\n    - name: a\n    - name: b\n");
    const e = errorAt(input, "GTB_X", "bad", ["spec", "worlds", 1, "name"]);
    expect(e.line).toBe(4);
    expect(e.format()).toContain("s.yaml:4");
  });
});

describe("writeOutputDir", () => {
  it("replaces the directory atomically and leaves nothing behind on failure", async () => {
    const root = await mkdtemp(join(tmpdir(), "gtb-out-"));
    const dir = join(root, "out");
    await writeOutputDir(dir, { "a.txt": "1", "sub/b.txt": "2" });
    await writeOutputDir(dir, { "a.txt": "3" });
    expect(await readdir(dir)).toEqual(["a.txt"]);
    expect(await readFile(join(dir, "a.txt"), "utf8")).toBe("3");
    // a file where the parent directory should be: the write fails, the old output stays
    await writeFile(join(root, "blocker"), "x");
    await expect(writeOutputDir(join(root, "blocker", "out"), { "a.txt": "1" })).rejects.toMatchObject({
      code: "GTB_OUTPUT_WRITE",
    });
    expect((await readdir(root)).sort()).toEqual(["blocker", "out"]);
  });
});
