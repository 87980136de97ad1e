import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startCluster, type TestCluster } from "../helpers/cluster.js";

/**
 * The alert rules (infra/prometheus/alerts.yml) are valid Prometheus rules
 * that fire when they should (promtool, when installed: Debian's
 * `prometheus` package), and every metric they name exists on the /metrics
 * of a real node or balancer (always), so a renamed metric cannot leave an
 * alert silently watching nothing.
 */

const DIR = fileURLToPath(new URL("../../infra/prometheus/", import.meta.url));
const DOCS = fileURLToPath(new URL("../../docs/alerts.md", import.meta.url));
const HAS_PROMTOOL = spawnSync("promtool", ["--version"]).status === 0;
/** Series Prometheus makes itself, not the processes. */
const SCRAPER_SERIES = new Set(["up"]);

type Rule = { alert: string; expr: string };

function rules(): Rule[] {
  const doc = parse(readFileSync(`${DIR}alerts.yml`, "utf8")) as { groups: { rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

/** Metric names in a PromQL expression (label values and strings left out). */
function metricNames(expr: string): string[] {
  const code = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...new Set(code.match(/\b(?:ringside_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g) ?? [])];
}

/** Names a scrape lets a rule use: each metric, and a histogram's _bucket, _sum and _count. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name as string);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(`${name}${s}`);
  }
  return names;
}

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync("promtool", args, { cwd: DIR, encoding: "utf8" });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("alert rules", () => {
  it("finds metric names in expressions, not in label values", () => {
    expect(metricNames('sum(rate(ringside_a_total{result="ringside_b"}[1m])) / up{job="x"} > 0')).toEqual([
      "ringside_a_total",
      "up",
    ]);
    expect(metricNames("histogram_quantile(0.99, sum by (le) (rate(ringside_c_bucket[5m])))")).toEqual([
      "ringside_c_bucket",
    ]);
  });

  it.skipIf(!HAS_PROMTOOL)("pass promtool check rules and their unit tests (alerts.test.yml)", () => {
    const checked = promtool("check", "rules", "alerts.yml");
    expect(checked.output).toContain("SUCCESS");
    expect(checked.status).toBe(0);
    const tested = promtool("test", "rules", "alerts.test.yml");
    expect(tested.output).toContain("SUCCESS");
    expect(tested.status).toBe(0);
  });
  if (!HAS_PROMTOOL) console.warn("promtool is not installed (apt-get install prometheus): rule syntax not checked");

  it("are each explained in docs/alerts.md", () => {
    const docs = readFileSync(DOCS, "utf8");
    for (const rule of rules()) expect(docs, rule.alert).toContain(`### ${rule.alert}`);
  });

  it("are loaded by the example configuration, whose jobs are the ones the rules name", () => {
    const config = parse(readFileSync(`${DIR}prometheus.yml`, "utf8")) as {
      rule_files: string[];
      scrape_configs: { relabel_configs: { target_label?: string; replacement?: string }[] }[];
    };
    expect(config.rule_files).toContain("alerts.yml");
    const job = config.scrape_configs[0]?.relabel_configs.find((r) => r.target_label === "job");
    expect(job?.replacement).toBe("ringside-$1");
    const jobs = rules().flatMap((r) => [...r.expr.matchAll(/job="([^"]+)"/g)].map((m) => m[1]));
    expect(new Set(jobs)).toEqual(new Set(["ringside-node", "ringside-balancer"]));
  });

  describe("against real processes", () => {
    let cluster: TestCluster;

    beforeAll(async () => {
      cluster = await startCluster({ label: "alerts", nodes: 1, balancers: 1 });
    }, 90_000);

    afterAll(async () => {
      await cluster?.stop();
    });

    it("name only metrics that a node's or a balancer's /metrics exports", async () => {
      const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text();
      const [node, balancer] = await Promise.all([
        scrape(cluster.nodes[0]?.url as string),
        scrape(cluster.balancers[0]?.url as string),
      ]);
      const exposed = new Set([...exposedNames(node), ...exposedNames(balancer)]);
      const missing = (list: Rule[]) =>
        list
          .flatMap((r) => metricNames(r.expr).map((name) => ({ alert: r.alert, name })))
          .filter(({ name }) => !SCRAPER_SERIES.has(name) && !exposed.has(name));
      expect(missing(rules())).toEqual([]);
      // The check itself catches a rule watching a metric that does not exist (a rename, a typo).
      const typo = { alert: "Typo", expr: "rate(ringside_commit_second_bucket[5m]) > 0" };
      expect(missing([...rules(), typo])).toEqual([{ alert: "Typo", name: "ringside_commit_second_bucket" }]);
    });
  });
});
