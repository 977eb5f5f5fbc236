/**
 * Reads a parsed JSON value field by field, each checked for its type and range; the first
 * wrong one throws StateError('state-malformed') naming its path and value
 * (`state DEVS: devices[1].transport.queues[0].num is 70000, expected 0..4294967295`), or
 * the error `refuse` makes of that message (another format's reader, the backup manifest's).
 */
import { StateError } from './StateError.ts';

const stateMalformed = (message: string): Error => new StateError('state-malformed', message);

const MAX_SHOWN = 60;

export class FieldReader {
  constructor(
    private readonly path: string,
    private readonly value: unknown,
    private readonly refuse: (message: string) => Error = stateMalformed,
  ) {}

  private at(key: string | undefined): string {
    return key === undefined ? this.path : `${this.path}.${key}`;
  }

  private get(key: string | undefined): unknown {
    if (key === undefined) return this.value;
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) this.fail(undefined, this.value, 'an object');
    return Object.hasOwn(this.value, key) ? (this.value as Record<string, unknown>)[key] : undefined;
  }

  /** Throws the error for field `key` (undefined: this value itself). */
  fail(key: string | undefined, value: unknown, expected: string): never {
    let shown: string;
    try {
      shown = JSON.stringify(value) ?? String(value);
    } catch {
      shown = String(value);
    }
    if (shown.length > MAX_SHOWN) shown = `${shown.slice(0, MAX_SHOWN)}…`;
    throw this.refuse(`${this.at(key)} is ${value === undefined ? 'missing' : shown}, expected ${expected}`);
  }

  /** The value as it is (any JSON), which must be present. */
  raw(key: string | undefined): unknown {
    const v = this.get(key);
    if (v === undefined) this.fail(key, v, 'a value');
    return v;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  int(key: string | undefined, min: number, max: number): number {
    const v = this.get(key);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(key, v, `a whole number ${min}..${max}`);
    return v;
  }

  bool(key: string | undefined): boolean {
    const v = this.get(key);
    if (typeof v !== 'boolean') this.fail(key, v, 'true or false');
    return v;
  }

  str(key: string | undefined, maxLength: number): string {
    const v = this.get(key);
    if (typeof v !== 'string' || v.length > maxLength) this.fail(key, v, `a string of at most ${maxLength} characters`);
    return v;
  }

  /** Lowercase hex digits, exactly `digits` of them. */
  hex(key: string | undefined, digits: number): string {
    const v = this.get(key);
    if (typeof v !== 'string' || v.length !== digits || !/^[0-9a-f]*$/.test(v)) this.fail(key, v, `${digits} lowercase hex digits`);
    return v;
  }

  oneOf<T extends string>(key: string | undefined, options: readonly T[]): T {
    const v = this.get(key);
    if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) this.fail(key, v, `one of ${options.join(', ')}`);
    return v as T;
  }

  /** An unsigned 64-bit value written as a decimal string. */
  big(key: string | undefined): bigint {
    const v = this.get(key);
    if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(v) || BigInt(v) > 0xffff_ffff_ffff_ffffn) this.fail(key, v, 'an unsigned 64-bit decimal string');
    return BigInt(v);
  }

  /** Bytes written as base64, at most `maxBytes` of them. */
  bytes(key: string | undefined, maxBytes: number): Uint8Array {
    const v = this.get(key);
    if (typeof v !== 'string' || v.length > Math.ceil(maxBytes / 3) * 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
      this.fail(key, v, `base64 of at most ${maxBytes} bytes`);
    }
    const s = atob(v);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    if (out.length > maxBytes) this.fail(key, `${out.length} bytes`, `at most ${maxBytes} bytes`);
    return out;
  }

  obj<T>(key: string | undefined, read: (r: FieldReader) => T): T {
    const v = this.get(key);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, v, 'an object');
    return read(new FieldReader(this.at(key), v, this.refuse));
  }

  arr<T>(key: string | undefined, maxLength: number, read: (r: FieldReader) => T): T[] {
    const v = this.get(key);
    if (!Array.isArray(v) || v.length > maxLength) this.fail(key, Array.isArray(v) ? `${v.length} items` : v, `an array of at most ${maxLength} items`);
    const base = this.at(key);
    return v.map((item, i) => read(new FieldReader(`${base}[${i}]`, item, this.refuse)));
  }
}
