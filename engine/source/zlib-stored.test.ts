import { deflateSync, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { adler32, storedContent, zlibStored } from "./zlib-stored.ts";

const bytes = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
};

describe("stored zlib streams", () => {
  it.each([0, 1, 300, 65535, 65536, 200_000])("%i bytes: written, inflated and read back", (n) => {
    const raw = bytes(n);
    const z = zlibStored(raw);
    expect(inflateSync(z).equals(raw)).toBe(true);
    expect(storedContent(z)?.equals(raw)).toBe(true);
    // zlib's own level 0 writes stored blocks too
    expect(storedContent(deflateSync(raw, { level: 0 }))?.equals(raw)).toBe(true);
  });

  it("leaves compressed, damaged and truncated streams to inflate", () => {
    const raw = Buffer.from("tree 0\0".repeat(50));
    expect(storedContent(deflateSync(raw, { level: 1 }))).toBeUndefined();
    const z = zlibStored(raw);
    const badSum = Buffer.from(z);
    badSum[badSum.length - 1]! ^= 1;
    expect(storedContent(badSum)).toBeUndefined();
    expect(storedContent(z.subarray(0, z.length - 1))).toBeUndefined();
    const badLen = Buffer.from(z);
    badLen[3]! ^= 1;
    expect(storedContent(badLen)).toBeUndefined();
    expect(storedContent(Buffer.concat([z, Buffer.from([0])]))).toBeUndefined();
  });

  it("adler32 is RFC 1950's (Wikipedia's example)", () => {
    expect(adler32(Buffer.from("Wikipedia"))).toBe(0x11e60398);
    expect(adler32(Buffer.alloc(0))).toBe(1);
  });
});
