/**
 * The path of a field inside untrusted JSON, for problem messages: `guests[0].cmdline`, or
 * `guests[0]["a b"]` when the key is not a plain identifier. Keys come from strangers, so
 * an odd one is quoted as JSON (no raw newlines or escapes reach a terminal) and shortened.
 */
const MAX_KEY_CHARS = 40;

export function fieldPath(parent: string, key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key) && key.length <= MAX_KEY_CHARS) return parent ? `${parent}.${key}` : key;
  const shown = key.length > MAX_KEY_CHARS ? `${key.slice(0, MAX_KEY_CHARS)}…` : key;
  return `${parent}[${JSON.stringify(shown)}]`;
}

/** A value as a problem message shows it: strings quoted and shortened, containers by kind. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > MAX_KEY_CHARS ? `${v.slice(0, MAX_KEY_CHARS)}…` : v);
    case 'object': {
      const proto = Object.getPrototypeOf(v);
      return proto === Object.prototype || proto === null ? 'an object' : 'an object that is not plain JSON data';
    }
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(v);
    default:
      return `a ${typeof v}`;
  }
}
