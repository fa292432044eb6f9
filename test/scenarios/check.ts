/** The tests every CI scenario gets: it passes its assertions; its mutated twin fails the named one. */
import { expect, it } from "vitest";
import { failedNames, KNOWN_DEFECTS, runCi, TWINS } from "./ci.ts";

export function scenarioTests(file: string): void {
  const defect = KNOWN_DEFECTS[file];
  const twin = TWINS[file];
  if (defect !== undefined && !defect.run) {
    it.skip(`${file}: not run, known defect: ${defect.defect}`, () => undefined);
    console.warn(`[ci scenarios] ${file} not run: known defect (hangs): ${defect.defect}`);
    return;
  }
  if (defect !== undefined) {
    it(`${file} still exposes a known defect (${defect.defect})`, async () => {
      const r = await runCi(file);
      console.warn(
        `[ci scenarios] ${file}: known defect: ${defect.defect}\n  ${failedNames(r).join("\n  ")}`,
      );
      expect(r.assertions.length).toBeGreaterThan(0);
      expect(failedNames(r), "the defect looks fixed: remove the KNOWN_DEFECTS entry").not.toEqual([]);
    });
  } else {
    it(`${file} passes every assertion`, async () => {
      const r = await runCi(file);
      expect(r.assertions.length).toBeGreaterThan(0);
      expect(failedNames(r)).toEqual([]);
    });
  }
  if (twin === undefined) {
    it(`${file} has a mutated twin`, () => {
      expect.fail(`add a TWINS entry for ${file} in test/scenarios/ci.ts`);
    });
    return;
  }
  if (defect !== undefined) return; // the original already fails; its twin proves nothing more
  it(`${file} twin fails (${twin.why})`, async () => {
    const r = await runCi(file, twin.sets);
    const failed = r.assertions.filter((a) => !a.passed).map((a) => a.name);
    expect(failed).toContain(twin.fails);
  });
}
