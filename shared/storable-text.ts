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

export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * The path of the first string (or object key) Postgres cannot store, e.g.
 * `"text"` or `"ships.0.name"`, or null when every one is fine. Walks plain
 * JSON values only (what JSON.parse or a game hook produces). Anything nested
 * deeper than 32 levels is refused as a whole (path ending in "(too deep)").
 */
export function findUnstorableText(value: unknown, path = "", depth = 0): string | null {
  if (typeof value === "string") return isStorableText(value) ? null : path || "(value)";
  if (typeof value !== "object" || value === null) return null;
  if (depth > MAX_DEPTH) return join(path, TOO_DEEP);
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
  return path.endsWith(TOO_DEEP)
    ? `${path}: nested deeper than ${MAX_DEPTH} levels`
    : `${path}: NUL characters and unpaired surrogates are not allowed`;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
