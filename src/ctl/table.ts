// Renders rows as an aligned text table (the default) or JSON (`--format json`).
export type Format = "table" | "json" | "toml";

export function printRows(rows: Record<string, unknown>[], columns: [key: string, title: string][], format: Format, raw: unknown = rows): void {
  if (format === "json") return void console.log(JSON.stringify(raw, null, 2));
  const cells = rows.map((r) => columns.map(([k]) => cell(r[k])));
  const titles = columns.map(([, t]) => t);
  const widths = titles.map((t, i) => Math.max(t.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(line(titles));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const c of cells) console.log(line(c));
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (Array.isArray(v)) return v.join(",");
  if (typeof v === "object") return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}=${x}`).join(",");
  return String(v);
}
