import { parse } from "yaml";

/**
 * Lint of the compose file (no compose engine here): every service has a
 * health check, every dependency waits on a condition (a node starts after
 * Postgres is healthy, not merely started), images are pinned by version,
 * and the Ringside services run the compiled code with node as PID 1, as a
 * numeric non-root user.
 */

type Service = {
  image?: string;
  build?: unknown;
  command?: unknown;
  user?: string;
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: unknown;
};

export function checkCompose(content: string): string[] {
  const doc = parse(content, { merge: true }) as { services?: Record<string, Service> } | null;
  const services = Object.entries(doc?.services ?? {});
  if (services.length === 0) return ["no services"];
  return services.flatMap(([name, service]) => checkService(name, service).map((p) => `service ${name}: ${p}`));
}

function checkService(name: string, s: Service): string[] {
  const problems: string[] = [];
  if (!s.healthcheck?.test || s.healthcheck.disable) problems.push("no healthcheck");
  problems.push(...checkDependsOn(s.depends_on));
  const tag = s.image ? /:([^/:]+)$/.exec(s.image)?.[1] : undefined;
  if (s.image && (!tag || tag === "latest")) problems.push(`image ${s.image} is not pinned by version`);
  if (!s.build) return problems;
  const command = s.command;
  if (!Array.isArray(command) || command[0] !== "node" || !String(command[1] ?? "").startsWith("dist/")) {
    problems.push(
      `command must be ["node", "dist/..."] (compiled code, node as PID 1), found ${JSON.stringify(command)}`,
    );
  }
  const uid = /^(\d+)(:\d+)?$/.exec(s.user ?? "")?.[1];
  if (!uid || uid === "0") problems.push(`user must be a numeric non-root uid (found ${s.user ?? "none"})`);
  if (name.startsWith("node") && !s.depends_on) problems.push("a node needs Postgres: no depends_on");
  return problems;
}

function checkDependsOn(dependsOn: unknown): string[] {
  if (dependsOn === undefined) return [];
  if (Array.isArray(dependsOn)) return ["depends_on without conditions: use {service: {condition: service_healthy}}"];
  return Object.entries(dependsOn as Record<string, { condition?: string }>)
    .filter(([, d]) => d?.condition !== "service_healthy" && d?.condition !== "service_completed_successfully")
    .map(([dep, d]) => `depends_on ${dep} has condition ${d?.condition ?? "none"}: wait until it is healthy`);
}
