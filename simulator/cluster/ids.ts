/**
 * Deterministic identifiers: uids and generateName suffixes derived from a
 * seed and a counter (never random), so a run with the same seed names every
 * object the same way.
 */

/** 32-bit FNV-1a of a string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32 step: a well-mixed 32-bit value from a counter. */
function mix(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** "00".."ff" by byte value. */
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const hex8 = (n: number): string =>
  HEX2[(n >>> 24) & 255]! + HEX2[(n >>> 16) & 255]! + HEX2[(n >>> 8) & 255]! + HEX2[n & 255]!;

/** generateName alphabet of upstream (k8s.io/apimachinery/pkg/util/rand: no vowels, no confusables). */
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

export class IdGenerator {
  private counter = 0;
  private readonly seed: number;

  constructor(seed = "gitops-testbed") {
    this.seed = fnv1a(seed);
  }

  private next(): number {
    this.counter++;
    return mix(this.seed ^ Math.imul(this.counter, 0x27d4eb2d));
  }

  /** An RFC 4122-shaped (version 4 layout) uid. */
  uid(): string {
    const a = hex8(this.next());
    const b = hex8(this.next());
    const nc = this.next();
    const c = hex8(nc);
    const d = hex8(this.next());
    const variant = (((nc >>> 28) & 3) | 8).toString(16);
    return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
  }

  /** A 5-character generateName suffix. */
  suffix(): string {
    let out = "";
    for (let i = 0; i < 5; i++) out += ALPHANUMS[this.next() % ALPHANUMS.length];
    return out;
  }
}
