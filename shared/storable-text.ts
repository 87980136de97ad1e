/**
 * Strings JSON allows but Postgres `jsonb` and `text` refuse: NUL, and UTF-16
 * surrogates without their pair. One such string in a group commit would fail
 * the whole statement, so they are refused at the edge, wherever a client
 * string enters (names, chat, DMs, action ids, game actions and options), and
 * checked again on what a game's hooks produce.
 */

// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const MAX_DEPTH = 32;
const TOO_DEEP = "(too deep)";
const NOT_JSON = "(not JSON)";

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * The path of the first string (or object key) Postgres cannot store, e.g.
 * `"text"` or `"ships.0.name"`, or null when every one is fine. Walks plain
 * JSON values only (what JSON.parse or a game hook produces). Anything nested
 * deeper than 32 levels is refused as a whole (path ending in "(too deep)"; a
 * cycle ends there too), and so is a value JSON would turn into something else
 * or drop (a BigInt, a function, NaN or Infinity, a Date, a Map: "(not JSON)"),
 * so that what a game applied in memory is what its log replays.
 */
export function findUnstorableText(value: unknown, path = "", depth = 0): string | null {
  if (typeof value === "string") return isStorableText(value) ? null : path || "(value)";
  if (typeof value === "number") return Number.isFinite(value) ? null : join(path, NOT_JSON);
  // undefined is what JSON leaves out (a property) or writes as null (in an array), as a game expects.
  if (value === null || value === undefined || typeof value === "boolean") return null;
  if (typeof value !== "object") return join(path, NOT_JSON); // a BigInt, a function, a symbol
  if (depth > MAX_DEPTH) return join(path, TOO_DEEP);
  // A Date, a Map, a class instance: JSON keeps something else than what was applied in memory.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null && !Array.isArray(value)) return join(path, NOT_JSON);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], join(path, String(i)), depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!isStorableText(key)) return join(path, "(key)");
    const found = findUnstorableText(item, join(path, key), depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** Why a value cannot be stored, for an error message ("ships.0.name: ..."), or null when it can. */
export function unstorableReason(value: unknown): string | null {
  const path = findUnstorableText(value);
  if (path === null) return null;
  if (path.endsWith(TOO_DEEP)) return `${path}: nested deeper than ${MAX_DEPTH} levels`;
  if (path.endsWith(NOT_JSON)) return `${path}: only plain JSON values (no BigInt, function, Date, NaN...)`;
  return `${path}: NUL characters and unpaired surrogates are not allowed`;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
