/**
 * The Rng port: all randomness in engine/ and simulator/ comes from a seeded
 * generator. Implementation: simulator/clock/rng.ts (SeededRng).
 */
export interface Rng {
  /** Uniform in [0, 1). */
  float(): number;
  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** An independent child stream named `name`; the same name always gives the same stream. */
  fork(name: string): Rng;
}
