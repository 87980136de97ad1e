import type { IContainer, IEnvVar, IPodSpec, IPodTemplateSpec, IService } from "kubernetes-models/v1";
import { describe, type K8sObject } from "./k8s-schema.js";

/**
 * What a Ringside deployment needs beyond valid objects, checked on the
 * objects one kustomization builds: node identity that resolves while a node
 * is draining or starting, probes and resources on every container, a
 * numeric non-root user and a locked-down container, images pinned by
 * version, node as the command, the secret keys each process needs (from a
 * Secret, never literal values), a preStop that waits for the drain within
 * the grace period, disruption budgets, scrape annotations, and a way in for
 * players with WebSocket-friendly timeouts.
 */

type Workload = K8sObject & {
  kind: "Deployment" | "StatefulSet";
  spec?: { serviceName?: string; selector?: { matchLabels?: Record<string, string> }; template?: IPodTemplateSpec };
};
type Role = "node" | "balancer";

/** Environment variables each role must get from a Secret (never as literal values). */
export const SECRET_KEYS: Record<Role, string[]> = {
  node: ["DATABASE_URL", "RINGSIDE_TOKEN_SECRET", "RINGSIDE_ADMIN_TOKEN"],
  balancer: ["DATABASE_URL", "RINGSIDE_ADMIN_TOKEN"],
};
const ENTRY: Record<Role, string> = { node: "dist/node/main.js", balancer: "dist/balancer/main.js" };
/** A version (0.1.0, 1.2.3-rc.1) or a digest: never latest, never a moving major. */
const PINNED_IMAGE = /^[^:@\s]+(:\d+\.\d+\.\d+[-.\w]*)?(@sha256:[0-9a-f]{64})?$/;
/** Seconds the idle-looking WebSocket may stay open behind the ingress controller, at least. */
const MIN_WS_TIMEOUT_S = 300;

export function checkRingsideObjects(objects: K8sObject[]): string[] {
  const workloads = objects.filter((o): o is Workload => o.kind === "Deployment" || o.kind === "StatefulSet");
  const services = objects.filter((o) => o.kind === "Service") as (IService & K8sObject)[];
  const problems: string[] = [];
  const roles = new Map<Role, Workload>();
  for (const w of workloads) {
    const role = roleOf(w);
    if (!role) {
      problems.push(`${describe(w)}: runs neither ${ENTRY.node} nor ${ENTRY.balancer}`);
      continue;
    }
    roles.set(role, w);
    problems.push(...checkPod(w, role).map((p) => `${describe(w)}: ${p}`));
  }
  const node = roles.get("node");
  const balancer = roles.get("balancer");
  if (!node) problems.push("no node workload (a StatefulSet running dist/node/main.js)");
  if (!balancer) problems.push("no balancer workload (a Deployment running dist/balancer/main.js)");
  if (node) problems.push(...checkNodeIdentity(node, services).map((p) => `${describe(node)}: ${p}`));
  for (const w of [node, balancer]) if (w) problems.push(...checkDisruptionBudget(w, objects));
  if (balancer) problems.push(...checkPlayersWayIn(balancer, services, objects));
  return problems;
}

function roleOf(w: Workload): Role | null {
  const commands = containers(w).flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])]);
  if (commands.includes(ENTRY.node)) return "node";
  if (commands.includes(ENTRY.balancer)) return "balancer";
  return null;
}

function containers(w: Workload): IContainer[] {
  return w.spec?.template?.spec?.containers ?? [];
}

function checkPod(w: Workload, role: Role): string[] {
  const pod = w.spec?.template?.spec ?? ({} as IPodSpec);
  const problems: string[] = [];
  const podUser = pod.securityContext?.runAsUser;
  const podNonRoot = pod.securityContext?.runAsNonRoot;
  for (const c of pod.containers ?? []) {
    const where = `container ${c.name}`;
    for (const probe of ["livenessProbe", "readinessProbe"] as const) {
      if (!c[probe]) problems.push(`${where} has no ${probe}`);
    }
    if (role === "node" && !c.startupProbe) {
      problems.push(`${where} has no startupProbe (migrations run before the port opens)`);
    }
    const res = c.resources;
    for (const [kind, values] of [
      ["requests", res?.requests],
      ["limits", res?.limits],
    ] as const) {
      for (const r of ["cpu", "memory"]) if (!values?.[r]) problems.push(`${where} has no ${kind}.${r}`);
    }
    const user = c.securityContext?.runAsUser ?? podUser;
    if (typeof user !== "number" || user === 0) problems.push(`${where} runs without a numeric non-root runAsUser`);
    if ((c.securityContext?.runAsNonRoot ?? podNonRoot) !== true) problems.push(`${where} does not set runAsNonRoot`);
    if (c.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${where} has a writable root filesystem`);
    if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${where} allows privilege escalation`);
    if (!c.securityContext?.capabilities?.drop?.includes("ALL"))
      problems.push(`${where} does not drop ALL capabilities`);
    if (!c.image || !PINNED_IMAGE.test(c.image) || !/[:@]/.test(c.image)) {
      problems.push(`${where}: image ${c.image ?? "(none)"} is not pinned by version`);
    }
    if (c.command?.[0] !== "node") problems.push(`${where}: command must start node (PID 1), found ${c.command?.[0]}`);
    problems.push(...checkSecrets(c, role).map((p) => `${where}: ${p}`));
  }
  problems.push(...checkScrapeAnnotations(w));
  if (role === "node") problems.push(...checkPreStopDrain(pod));
  return problems;
}

function checkSecrets(c: IContainer, role: Role): string[] {
  const env = new Map((c.env ?? []).map((e) => [e.name, e]));
  const fromSecretRefs = (c.envFrom ?? []).some((e) => e.secretRef);
  return SECRET_KEYS[role].flatMap((key) => {
    const v = env.get(key);
    if (v?.value !== undefined) return [`${key} is a literal value: it must come from a Secret`];
    if (v?.valueFrom?.secretKeyRef?.key) return [];
    return fromSecretRefs && !v ? [] : [`${key} does not come from a Secret`];
  });
}

function checkScrapeAnnotations(w: Workload): string[] {
  const a = w.spec?.template?.metadata?.annotations ?? {};
  const ports = containers(w).flatMap((c) => (c.ports ?? []).map((p) => String(p.containerPort)));
  if (a["prometheus.io/scrape"] !== "true") return ["pods lack the prometheus.io/scrape annotation"];
  if (!a["prometheus.io/port"] || !ports.includes(a["prometheus.io/port"])) {
    return [`prometheus.io/port ${a["prometheus.io/port"]} is not a container port (${ports.join(", ")})`];
  }
  return [];
}

/** preStop must run `drain --wait --timeout N` and the grace period must outlast N. */
function checkPreStopDrain(pod: IPodSpec): string[] {
  const node = pod.containers?.[0];
  const command = (node?.lifecycle?.preStop?.exec?.command ?? []).join(" ");
  if (!/\bdrain\b/.test(command) || !/--wait\b/.test(command)) {
    return ["the node's preStop does not wait for its drain (ops CLI `drain --wait`)"];
  }
  const timeout = Number(/--timeout[ =](\d+)/.exec(command)?.[1] ?? 120);
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  if (grace <= timeout) {
    return [`terminationGracePeriodSeconds ${grace} does not outlast the preStop drain's --timeout ${timeout}`];
  }
  return [];
}

/**
 * NODE_URL must resolve while the node is starting and draining (not ready):
 * the pod IP from the downward API, or $(POD_NAME).<headless Service> where
 * that Service publishes not-ready addresses and governs the StatefulSet.
 */
function checkNodeIdentity(w: Workload, services: (IService & K8sObject)[]): string[] {
  const c = containers(w)[0];
  const env = new Map((c?.env ?? []).map((e) => [e.name, e]));
  const url = env.get("NODE_URL")?.value;
  const problems: string[] = [];
  const idFrom = env.get("NODE_ID")?.value;
  if (idFrom !== "$(POD_NAME)" || !isField(env.get("POD_NAME"), "metadata.name")) {
    problems.push("NODE_ID must be $(POD_NAME) from metadata.name (stable across restarts)");
  }
  if (!url) return [...problems, "NODE_URL is not set"];
  if (url.includes("$(POD_IP)")) {
    return isField(env.get("POD_IP"), "status.podIP") ? problems : [...problems, "POD_IP is not from status.podIP"];
  }
  const host = /^http:\/\/\$\(POD_NAME\)\.([a-z0-9-]+)[.:]/.exec(url)?.[1];
  if (!isField(env.get("POD_NAME"), "metadata.name") || !host) {
    return [...problems, `NODE_URL ${url} is neither $(POD_IP) nor $(POD_NAME).<headless service>`];
  }
  const svc = services.find((s) => s.metadata?.name === host);
  if (!svc) return [...problems, `NODE_URL names Service ${host}, which is not deployed`];
  if (svc.spec?.clusterIP !== "None") problems.push(`Service ${host} is not headless (clusterIP: None)`);
  if (svc.spec?.publishNotReadyAddresses !== true) {
    problems.push(
      `Service ${host} does not set publishNotReadyAddresses: a draining or starting node does not resolve`,
    );
  }
  if (w.spec?.serviceName !== host) problems.push(`serviceName ${w.spec?.serviceName} is not ${host}`);
  if (!selects(svc.spec?.selector, w.spec?.template?.metadata?.labels)) {
    problems.push(`Service ${host} does not select the node pods`);
  }
  return problems;
}

function isField(e: IEnvVar | undefined, path: string): boolean {
  return e?.valueFrom?.fieldRef?.fieldPath === path;
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

function checkDisruptionBudget(w: Workload, objects: K8sObject[]): string[] {
  const labels = w.spec?.template?.metadata?.labels;
  const budgets = objects.filter((o) => o.kind === "PodDisruptionBudget") as (K8sObject & {
    spec?: { selector?: { matchLabels?: Record<string, string> } };
  })[];
  return budgets.some((b) => selects(b.spec?.selector?.matchLabels, labels))
    ? []
    : [`${describe(w)}: no PodDisruptionBudget selects its pods`];
}

/** An Ingress to the balancer Service with long enough timeouts, or a LoadBalancer Service to the balancers. */
function checkPlayersWayIn(balancer: Workload, services: (IService & K8sObject)[], objects: K8sObject[]): string[] {
  const labels = balancer.spec?.template?.metadata?.labels;
  const balancerServices = services.filter((s) => selects(s.spec?.selector, labels));
  if (balancerServices.some((s) => s.spec?.type === "LoadBalancer")) return [];
  const names = new Set(balancerServices.map((s) => s.metadata?.name));
  type Ingress = K8sObject & {
    metadata?: { annotations?: Record<string, string> };
    spec?: {
      ingressClassName?: string;
      rules?: { http?: { paths?: { path?: string; backend?: { service?: { name?: string } } }[] } }[];
    };
  };
  const ingresses = (objects.filter((o) => o.kind === "Ingress") as Ingress[]).filter((i) =>
    (i.spec?.rules ?? []).some((r) => (r.http?.paths ?? []).some((p) => names.has(p.backend?.service?.name))),
  );
  if (ingresses.length === 0)
    return ["players cannot reach the balancers: no Ingress to them, no LoadBalancer Service"];
  return ingresses.flatMap((i) => {
    const paths = (i.spec?.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.path));
    const problems = ["/", "/api", "/ws"].filter((p) => !paths.includes(p)).map((p) => `${describe(i)}: no path ${p}`);
    if (i.spec?.ingressClassName === "nginx") {
      const a = i.metadata?.annotations ?? {};
      for (const key of ["proxy-read-timeout", "proxy-send-timeout"]) {
        const value = Number(a[`nginx.ingress.kubernetes.io/${key}`] ?? 60);
        if (!(value >= MIN_WS_TIMEOUT_S)) problems.push(`${describe(i)}: ${key} ${value} s cuts WebSockets`);
      }
    }
    return problems;
  });
}

/** The example Secret: every key some process needs, and nothing that looks like a real secret. */
export function checkSecretExample(secret: K8sObject & { stringData?: Record<string, string> }): string[] {
  const data = secret.stringData ?? {};
  const needed = [...new Set(Object.values(SECRET_KEYS).flat())];
  const problems = needed.filter((k) => !data[k]).map((k) => `${describe(secret)}: no ${k}`);
  for (const [key, value] of Object.entries(data)) {
    if (!/change-me|example/.test(value)) problems.push(`${describe(secret)}: ${key} looks like a real value`);
  }
  return problems;
}
