import { describe, expect, it } from "vitest";
import { canaryReplicasForWeight, canaryStableReplicas, podTemplateHash, replicaWeight } from "./replicas.ts";

describe("canary replica counts without traffic routing (upstream approximation)", () => {
  const table: Array<[number, number, number, number]> = [
    [10, 41, 4, 6],
    [10, 5, 1, 10],
    [10, 50, 5, 5],
    [10, 0, 0, 10],
    [10, 100, 10, 0],
    [4, 25, 1, 3],
    [1, 50, 1, 1],
    [3, 20, 1, 3],
    [0, 50, 0, 0],
  ];
  it.each(table)("%d replicas at weight %d -> %d canary, %d stable", (replicas, weight, canary, stable) => {
    expect(canaryStableReplicas(replicas, weight)).toEqual({ canary, stable });
  });
  it("without surge stays within spec.replicas", () => {
    expect(canaryStableReplicas(10, 5, false)).toEqual({ canary: 1, stable: 9 });
  });
});

describe("helpers", () => {
  it("with traffic routing the canary is scaled to the weight (ceil)", () => {
    expect([
      canaryReplicasForWeight(10, 5),
      canaryReplicasForWeight(10, 25),
      canaryReplicasForWeight(10, 100),
    ]).toEqual([1, 3, 10]);
  });
  it("replica weight is the canary's share of available pods", () => {
    expect(replicaWeight(1, 10)).toBe(9.09);
    expect(replicaWeight(0, 0)).toBe(0);
  });
  it("pod-template hashes are stable, key-order independent and look like upstream's", () => {
    const a = podTemplateHash({
      spec: { containers: [{ name: "a", image: "x:1" }] },
      metadata: { labels: { app: "a" } },
    });
    const b = podTemplateHash({
      metadata: { labels: { app: "a" } },
      spec: { containers: [{ image: "x:1", name: "a" }] },
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(podTemplateHash({ spec: { containers: [{ name: "a", image: "x:2" }] } })).not.toBe(a);
    expect(podTemplateHash({ x: 1 }, 1)).not.toBe(podTemplateHash({ x: 1 }));
  });
});
