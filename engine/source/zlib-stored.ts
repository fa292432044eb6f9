/**
 * zlib streams (RFC 1950) made of stored deflate blocks (RFC 1951 BTYPE 00), as git writes loose
 * objects with core.looseCompression=0 (the simulator's fleet repository does): writing one takes a
 * copy and a checksum, and so does reading one back, without setting up a zlib stream (~15 us to
 * inflate, ~65 us to deflate even a few hundred bytes).
 */

/** Adler-32 of `b` (RFC 1950). */
export function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (let i = 0; i < b.length; ) {
    // 3800 bytes keep s below 2^31 between reductions
    const end = Math.min(i + 3800, b.length);
    for (; i < end; i++) {
      a += b[i]!;
      s += a;
    }
    a %= 65521;
    s %= 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/** A zlib stream of `raw` in stored blocks. */
export function zlibStored(raw: Uint8Array): Buffer {
  const blocks = Math.max(1, Math.ceil(raw.length / 65535));
  const out = Buffer.allocUnsafe(2 + blocks * 5 + raw.length + 4);
  out[0] = 0x78; // deflate, 32 KiB window
  out[1] = 0x01; // no dictionary, fastest; (0x78 << 8 | 0x01) % 31 === 0
  let o = 2;
  for (let k = 0, p = 0; k < blocks; k++) {
    const len = Math.min(65535, raw.length - p);
    out[o] = k === blocks - 1 ? 1 : 0;
    out.writeUInt16LE(len, o + 1);
    out.writeUInt16LE(len ^ 0xffff, o + 3);
    o += 5;
    out.set(raw.subarray(p, p + len), o);
    o += len;
    p += len;
  }
  out.writeUInt32BE(adler32(raw), o);
  return out;
}

/**
 * The content of a zlib stream made only of stored blocks (checksum verified), or undefined for
 * any other stream (compressed blocks, a preset dictionary, damage): inflate those.
 */
export function storedContent(z: Buffer): Buffer | undefined {
  if (z.length < 11 || (z[0]! & 0x0f) !== 8 || ((z[0]! << 8) | z[1]!) % 31 !== 0 || (z[1]! & 0x20) !== 0)
    return undefined;
  const parts: Buffer[] = [];
  let i = 2;
  for (;;) {
    const h = z[i];
    // BFINAL in bit 0, BTYPE in bits 1-2; a stored block's header byte is padded to the byte's end
    if (h === undefined || (h & 0x06) !== 0 || i + 5 > z.length) return undefined;
    const len = z.readUInt16LE(i + 1);
    if ((len ^ z.readUInt16LE(i + 3)) !== 0xffff || i + 5 + len > z.length) return undefined;
    parts.push(z.subarray(i + 5, i + 5 + len));
    i += 5 + len;
    if ((h & 1) === 1) break;
  }
  if (i + 4 !== z.length) return undefined;
  const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return adler32(out) === z.readUInt32BE(i) ? out : undefined;
}
