/** Drift of each kind and infrastructure faults: the shipped scenarios pass, their twins fail. */
import { describe } from "vitest";
import { CI_SCENARIOS } from "./ci.ts";
import { scenarioTests } from "./check.ts";

describe("CI drift and infrastructure scenarios", () => {
  for (const file of CI_SCENARIOS.filter((f) => !f.startsWith("ci-canary-"))) scenarioTests(file);
});
