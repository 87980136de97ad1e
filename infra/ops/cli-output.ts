/**
 * What a command prints: with --json, its result as one JSON document on
 * stdout (for scripts and `jq`); otherwise the text for people. Progress and
 * errors always go to stderr, so stdout stays parseable either way.
 */

export type OutputMode = { json?: boolean };

/** JSON has no Infinity or NaN: they are written as null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2);
}

export function emit(mode: OutputMode, value: unknown, text: () => string): void {
  process.stdout.write(`${mode.json ? toJson(value) : text()}\n`);
}

/** An error as the CLI reports it: `error: ...` for people, `{"error": {...}}` with --json; both on stderr. */
export function reportError(mode: OutputMode, message: string, status?: number): void {
  if (mode.json) process.stderr.write(`${toJson({ error: { message, ...(status ? { status } : {}) } })}\n`);
  else process.stderr.write(`error: ${message}\n`);
}
