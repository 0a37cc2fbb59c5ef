/**
 * The SSH wire encoding (RFC 4251 section 5) that SSHSIG blobs and public keys are made of:
 * uint32 big-endian lengths and strings. Pure; a short or overlong blob is a WireError.
 */

export class WireError extends Error {}

/** Reads one blob from the start; `done()` says whether every byte was used. */
export class WireReader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  uint32(): number {
    if (this.at + 4 > this.bytes.length) throw new WireError("ends inside a length");
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.at, 4);
    this.at += 4;
    return view.getUint32(0);
  }

  byte(): number {
    const value = this.bytes[this.at];
    if (value === undefined) throw new WireError("ends inside a byte field");
    this.at += 1;
    return value;
  }

  raw(length: number): Uint8Array {
    if (this.at + length > this.bytes.length) throw new WireError(`ends inside a field of ${length} bytes`);
    const out = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return out;
  }

  string(): Uint8Array {
    return this.raw(this.uint32());
  }

  /** A string that must be printable ASCII (algorithm names, namespaces). */
  text(): string {
    const bytes = this.string();
    if (!bytes.every((b) => b >= 0x20 && b < 0x7f)) throw new WireError("a name holds bytes that are not printable ASCII");
    return new TextDecoder().decode(bytes);
  }

  done(): boolean {
    return this.at === this.bytes.length;
  }

  /** Refuses trailing bytes: a blob means exactly one thing. */
  end(what: string): void {
    if (!this.done()) throw new WireError(`${what} has ${this.bytes.length - this.at} bytes after its end`);
  }
}

/** `string` fields back to back: what SSHSIG signs, and what tests build blobs with. */
export function wireStrings(...fields: (Uint8Array | string)[]): Uint8Array {
  const parts = fields.map((f) => (typeof f === "string" ? new TextEncoder().encode(f) : f));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const part of parts) {
    view.setUint32(at, part.length);
    out.set(part, at + 4);
    at += 4 + part.length;
  }
  return out;
}

/** Raw bytes and wire strings concatenated (the "SSHSIG" preamble has no length). */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
