/** Plain left-aligned text tables for the terminal (numbers right-aligned). */

export type Cell = string | number;

export function textTable(header: string[], rows: Cell[][], indent = "  "): string {
  const widths = header.map((h, i) =>
    Math.max(visibleLength(h), ...rows.map((r) => visibleLength(String(r[i] ?? "")))),
  );
  const line = (cells: Cell[]) =>
    indent +
    cells
      .map((c, i) => {
        const text = String(c);
        const pad = " ".repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(text)));
        return typeof c === "number" ? pad + text : text + pad;
      })
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** Length without ANSI colour codes, so coloured cells still line up. */
function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the ESC of colour codes is the point
  return text.replace(/\x1b\[[0-9;]*m/g, "").length;
}

const useColour = process.stdout.isTTY === true && !process.env.NO_COLOR;

export const colour = {
  green: (s: string) => (useColour ? `\x1b[32m${s}\x1b[0m` : s),
  red: (s: string) => (useColour ? `\x1b[31m${s}\x1b[0m` : s),
  yellow: (s: string) => (useColour ? `\x1b[33m${s}\x1b[0m` : s),
  dim: (s: string) => (useColour ? `\x1b[2m${s}\x1b[0m` : s),
  bold: (s: string) => (useColour ? `\x1b[1m${s}\x1b[0m` : s),
};
