/** Objects the rollouts tests share (not used by the library). */
import { RolloutsManager, type RolloutsManagerOptions } from "./manager.ts";
import type { CanaryStep, Rollout } from "./types.ts";

/** A canary Rollout `default/web` with 4 replicas (unless `spec` says otherwise) running `image`. */
export function rollout(image: string, spec: Partial<Rollout["spec"]>, steps: CanaryStep[]): Rollout {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Rollout",
    metadata: { name: "web", namespace: "default" },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "web", image }] },
      },
      strategy: { canary: { steps } },
      ...spec,
    },
  };
}

/**
 * A RolloutsManager for tests: frozen caches (a controller mutating a cached object throws) and
 * reconcile errors thrown (failing the test) rather than swallowed.
 */
export function strictManager(
  opts: Omit<RolloutsManagerOptions, "freezeCache" | "onError">,
): RolloutsManager {
  return new RolloutsManager({
    ...opts,
    freezeCache: true,
    onError: (e, where) => {
      throw new Error(`${where}: ${e instanceof Error ? e.stack : String(e)}`);
    },
  });
}
