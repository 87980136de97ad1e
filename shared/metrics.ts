import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export { Counter, Gauge, Histogram, type Registry };

/**
 * A registry per process, labelled with the process role, with Node's default
 * metrics. Those start at the first scrape, not at start: their event-loop
 * monitor wakes the process every 10 ms, which is most of what an idle
 * process nobody scrapes would spend. Gauges read their value at scrape time.
 */
export function createRegistry(role: string, id: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role, instance_id: id });
  const metrics = registry.metrics.bind(registry);
  let defaults = false;
  registry.metrics = () => {
    if (!defaults) {
      defaults = true;
      collectDefaultMetrics({ register: registry });
    }
    return metrics();
  };
  return registry;
}
