/** Turns a child's JSON log line into one readable line: time, process, level, message, fields. */

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO ", 40: "WARN ", 50: "ERROR", 60: "FATAL" };
const HIDDEN = new Set(["level", "time", "msg", "component", "pid", "hostname"]);

export function formatLogLine(source: string, line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${source.padEnd(9)} ${line}`;
  }
  const time = typeof entry.time === "string" ? entry.time.slice(11, 23) : "";
  const level = LEVELS[Number(entry.level)] ?? "INFO ";
  const fields = Object.entries(entry)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${time} ${source.padEnd(9)} ${level} ${String(entry.msg ?? "")}${fields ? `  ${fields}` : ""}`;
}
