import { ByteBuffer } from 'flatbuffers';
import { ModelFormatError } from '../errors.js';

/**
 * Bounds-checked access to a flatbuffer. The `flatbuffers` runtime trusts its input: an offset past the
 * end reads `undefined` bytes as 0 and a huge vector length makes callers allocate without limit. Every
 * offset followed here is checked first (as flatbuffers' C++ Verifier does), so a corrupt file ends in a
 * ModelFormatError naming the table at fault, never a RangeError, a silent zero or an out-of-memory.
 */
export class CheckedBuffer {
  readonly size: number;
  private readonly bb: ByteBuffer;

  constructor(readonly bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.byteLength;
  }

  /** Throws unless bytes [pos, pos + len) lie inside the buffer. */
  check(pos: number, len: number, where: string, what: string): void {
    if (Number.isSafeInteger(pos) && Number.isSafeInteger(len) && pos >= 0 && len >= 0 && pos + len <= this.size) return;
    throw new ModelFormatError(where, `${what} (bytes ${pos}..${pos + len}) lies outside the ${this.size}-byte file`);
  }

  u8(pos: number): number { return this.bb.readUint8(pos); }
  i8(pos: number): number { return this.bb.readInt8(pos); }
  u16(pos: number): number { return this.bb.readUint16(pos); }
  i32(pos: number): number { return this.bb.readInt32(pos); }
  u32(pos: number): number { return this.bb.readUint32(pos); }
  f32(pos: number): number { return this.bb.readFloat32(pos); }
  i64(pos: number): bigint { return this.bb.readInt64(pos); }
  u64(pos: number): bigint { return this.bb.readUint64(pos); }

  /** The table at absolute position `pos`, with its vtable checked. */
  table(pos: number, where: string): Table {
    this.check(pos, 4, where, 'table');
    const vt = pos - this.i32(pos);
    this.check(vt, 4, where, 'vtable');
    const vtSize = this.u16(vt);
    const objSize = this.u16(vt + 2);
    if (vtSize < 4 || vtSize % 2 !== 0) throw new ModelFormatError(where, `vtable size ${vtSize} is malformed`);
    this.check(vt, vtSize, where, 'vtable');
    if (objSize < 4) throw new ModelFormatError(where, `table size ${objSize} is smaller than its vtable offset`);
    this.check(pos, objSize, where, 'table');
    return new Table(this, pos, vt, vtSize, objSize, where);
  }

  /** Follow the uoffset stored at `ref`; the target must leave room for at least `minBytes`. */
  deref(ref: number, minBytes: number, where: string, what: string): number {
    this.check(ref, 4, where, `offset to ${what}`);
    const target = ref + this.u32(ref);
    this.check(target, minBytes, where, what);
    return target;
  }
}

/** A vector's element count and where its first element is. */
export interface VectorRef {
  start: number;
  length: number;
}

/** Largest uint64/int64 accepted: above 2^53 a JS number would silently round. */
function toSafe(v: bigint, where: string, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new ModelFormatError(where, `${what} ${v} does not fit in a JavaScript number`);
  }
  return Number(v);
}

const utf8 = new TextDecoder('utf-8');

/** One table, addressed by field slot (see schema.ts); `where` names it in errors. */
export class Table {
  constructor(
    readonly buf: CheckedBuffer,
    readonly pos: number,
    private readonly vt: number,
    private readonly vtSize: number,
    private readonly objSize: number,
    readonly where: string,
  ) {}

  /** The same table under a more precise name (e.g. once its tensor name is known). */
  named(where: string): Table {
    return new Table(this.buf, this.pos, this.vt, this.vtSize, this.objSize, where);
  }

  fail(detail: string): never {
    throw new ModelFormatError(this.where, detail);
  }

  /** Absolute position of field `slot` (0 when absent); the field must lie inside the table. */
  private field(slot: number, width: number): number {
    const entry = 4 + 2 * slot;
    if (entry + 2 > this.vtSize) return 0;
    const off = this.buf.u16(this.vt + entry);
    if (off === 0) return 0;
    if (off < 4 || off + width > this.objSize) {
      this.fail(`field ${slot} at offset ${off} runs past the end of its ${this.objSize}-byte table`);
    }
    return this.pos + off;
  }

  has(slot: number): boolean { return this.field(slot, 1) !== 0; }

  u8(slot: number, dflt: number): number { const p = this.field(slot, 1); return p ? this.buf.u8(p) : dflt; }
  i8(slot: number, dflt: number): number { const p = this.field(slot, 1); return p ? this.buf.i8(p) : dflt; }
  bool(slot: number, dflt: boolean): boolean { const p = this.field(slot, 1); return p ? this.buf.u8(p) !== 0 : dflt; }
  i32(slot: number, dflt: number): number { const p = this.field(slot, 4); return p ? this.buf.i32(p) : dflt; }
  u32(slot: number, dflt: number): number { const p = this.field(slot, 4); return p ? this.buf.u32(p) : dflt; }
  f32(slot: number, dflt: number): number { const p = this.field(slot, 4); return p ? this.buf.f32(p) : dflt; }
  u64(slot: number, dflt: number, what: string): number {
    const p = this.field(slot, 8);
    return p ? toSafe(this.buf.u64(p), this.where, what) : dflt;
  }

  /** The sub-table at `slot`, or null when absent. */
  table(slot: number, what: string, where = `${this.where} ${what}`): Table | null {
    const p = this.field(slot, 4);
    return p ? this.buf.table(this.buf.deref(p, 4, where, what), where) : null;
  }

  /** A vector of `elemSize`-byte elements, bounds-checked as a whole; null when absent. */
  vector(slot: number, elemSize: number, what: string): VectorRef | null {
    const p = this.field(slot, 4);
    if (!p) return null;
    const at = this.buf.deref(p, 4, this.where, `${what} vector`);
    const length = this.buf.u32(at);
    this.buf.check(at + 4, length * elemSize, this.where, `${what} vector of ${length} elements`);
    return { start: at + 4, length };
  }

  string(slot: number, what: string): string | null {
    const v = this.vector(slot, 1, what);
    if (!v) return null;
    // Flatbuffers strings carry a terminating 0 after their bytes; its absence means a bad offset.
    this.buf.check(v.start + v.length, 1, this.where, `${what} terminator`);
    if (this.buf.u8(v.start + v.length) !== 0) this.fail(`${what} string is not 0-terminated`);
    return utf8.decode(this.buf.bytes.subarray(v.start, v.start + v.length));
  }

  /** A [ubyte] vector as a view into the file (no copy). */
  bytes(slot: number, what: string): Uint8Array | null {
    const v = this.vector(slot, 1, what);
    return v ? this.buf.bytes.subarray(v.start, v.start + v.length) : null;
  }

  int32s(slot: number, what: string): number[] | null {
    const v = this.vector(slot, 4, what);
    if (!v) return null;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.buf.i32(v.start + 4 * i);
    return out;
  }

  float32s(slot: number, what: string): number[] | null {
    const v = this.vector(slot, 4, what);
    if (!v) return null;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.buf.f32(v.start + 4 * i);
    return out;
  }

  int64s(slot: number, what: string): number[] | null {
    const v = this.vector(slot, 8, what);
    if (!v) return null;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = toSafe(this.buf.i64(v.start + 8 * i), this.where, what);
    return out;
  }

  /** A vector of tables: its length, and element i as a checked table named by `whereOf(i)`. */
  tables(slot: number, what: string): TableVector | null {
    const v = this.vector(slot, 4, what);
    return v ? new TableVector(this.buf, v, what) : null;
  }
}

export class TableVector {
  readonly length: number;
  constructor(private readonly buf: CheckedBuffer, private readonly v: VectorRef, private readonly what: string) {
    this.length = v.length;
  }

  get(i: number, where: string): Table {
    return this.buf.table(this.buf.deref(this.v.start + 4 * i, 4, where, this.what), where);
  }
}
