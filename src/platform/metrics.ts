// A small Prometheus text-format registry: counters with labels, and gauges read
// at scrape time from a callback so they never go stale.
type Labels = Record<string, string>;

interface Family {
  help: string;
  type: "counter" | "gauge";
  values: Map<string, number>;
  read?: () => number | [Labels, number][];
}

export class Metrics {
  readonly #families = new Map<string, Family>();

  counter(name: string, help: string): (labels?: Labels, by?: number) => void {
    const f: Family = { help, type: "counter", values: new Map() };
    this.#families.set(name, f);
    return (labels = {}, by = 1) => {
      const key = labelText(labels);
      f.values.set(key, (f.values.get(key) ?? 0) + by);
    };
  }

  gauge(name: string, help: string, read: () => number | [Labels, number][]): void {
    this.#families.set(name, { help, type: "gauge", values: new Map(), read });
  }

  render(): string {
    const out: string[] = [];
    for (const [name, f] of this.#families) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      const values = f.read ? readGauge(f.read()) : f.values;
      if (f.type === "counter" && values.size === 0) values.set("", 0);
      for (const [labels, v] of values) out.push(`${name}${labels} ${v}`);
    }
    return out.join("\n") + "\n";
  }
}

function readGauge(v: number | [Labels, number][]): Map<string, number> {
  if (typeof v === "number") return new Map([["", v]]);
  return new Map(v.map(([l, n]) => [labelText(l), n]));
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\" + c))}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}
