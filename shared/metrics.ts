import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export { Counter, Gauge, Histogram, type Registry };

/** A registry per process, with Node's default metrics, labelled with the process role. */
export function createRegistry(role: string, id: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role, instance_id: id });
  collectDefaultMetrics({ register: registry });
  return registry;
}
