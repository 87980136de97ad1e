import { DockerfileParser, type From, type Instruction } from "dockerfile-ast";
import { validate } from "dockerfile-utils";

/**
 * Lint of the image's Dockerfile (hadolint is not installable here): syntax
 * and instruction checks by dockerfile-utils (the engine of the VS Code
 * Docker extension's diagnostics), then what the production image must be:
 * every base image pinned by version, Node 24 LTS at run time, a numeric
 * non-root user, `node` as PID 1's command in exec form, a health check, no
 * development dependencies, and an ignore file beside it. Each finding is one
 * line naming what is wrong.
 */

/** A version-pinned tag: 24.22.3, 24.22.3-bookworm-slim, 16.10-bookworm; or a digest. */
const PINNED_TAG = /^\d+\.\d+(\.\d+)?([-.][a-z0-9.-]+)?$/;
const RUNTIME_NODE_MAJOR = "24";

export function checkDockerfile(content: string, ignoreFile: string | null): string[] {
  const problems = validate(content).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
  const dockerfile = DockerfileParser.parse(content);
  const froms = dockerfile.getFROMs();
  if (froms.length === 0) return [...problems, "no FROM"];
  const stages = new Set<string>();
  for (const from of froms) {
    problems.push(...checkFrom(from, stages));
    const stage = from.getBuildStage();
    if (stage) stages.add(stage);
  }
  const last = froms[froms.length - 1] as From;
  const final = dockerfile.getInstructions().filter((i) => i.getRange().start.line > last.getRange().start.line);
  problems.push(...checkRuntimeStage(last, final));
  problems.push(...checkIgnoreFile(ignoreFile));
  return problems;
}

function checkFrom(from: From, stages: Set<string>): string[] {
  const name = from.getImageName() ?? "";
  if (stages.has(name)) return [];
  const line = `line ${from.getRange().start.line + 1}`;
  if (from.getImageDigest()) return [];
  const tag = from.getImageTag();
  if (!tag) return [`${line}: FROM ${name} has no tag: pin the base image by version`];
  if (!PINNED_TAG.test(tag))
    return [`${line}: FROM ${name}:${tag} is not pinned by version (e.g. 24.22.3-bookworm-slim)`];
  return [];
}

function checkRuntimeStage(from: From, final: Instruction[]): string[] {
  const problems: string[] = [];
  const of = (keyword: string) => final.filter((i) => i.getKeyword() === keyword);
  const base = `${from.getImageName()}:${from.getImageTag() ?? ""}`;
  if (!base.startsWith(`node:${RUNTIME_NODE_MAJOR}.`)) {
    problems.push(
      `the runtime stage runs on ${base}, not node:${RUNTIME_NODE_MAJOR}.x (Node ${RUNTIME_NODE_MAJOR} LTS)`,
    );
  }
  const user = of("USER").at(-1)?.getArgumentsContent() ?? "";
  const uid = /^(\d+)(:\d+)?$/.exec(user.trim())?.[1];
  if (!uid) problems.push(`the runtime stage's USER must be a numeric uid[:gid] (found "${user || "none"}")`);
  else if (Number(uid) === 0) problems.push("the runtime stage runs as root (USER 0)");
  problems.push(...checkCommand(of("CMD").at(-1), of("ENTRYPOINT").at(-1)));
  const health = of("HEALTHCHECK").at(-1)?.getArgumentsContent() ?? "";
  if (!health || /^NONE\b/i.test(health.trim())) problems.push("the runtime stage has no HEALTHCHECK");
  for (const run of of("RUN")) {
    const args = run.getArgumentsContent() ?? "";
    if (/\bnpm\s+(ci|install|i)\b/.test(args) && !/--omit[= ]dev\b/.test(args)) {
      problems.push(`line ${run.getRange().start.line + 1}: the runtime stage installs development dependencies`);
    }
  }
  for (const copy of of("COPY")) {
    if (/(^|\s|\/)node_modules\b/.test(copy.getArgumentsContent() ?? "")) {
      problems.push(`line ${copy.getRange().start.line + 1}: node_modules copied into the runtime stage`);
    }
  }
  if (!of("ENV").some((e) => /\bNODE_ENV[= ]production\b/.test(e.getArgumentsContent() ?? ""))) {
    problems.push("the runtime stage does not set NODE_ENV=production");
  }
  return problems;
}

/** PID 1 must be node (or tini in front of it), started directly: exec form, no npm, no shell, no TypeScript loader. */
function checkCommand(cmd: Instruction | undefined, entrypoint: Instruction | undefined): string[] {
  const first = entrypoint ?? cmd;
  if (!first) return ["the runtime stage has no CMD or ENTRYPOINT"];
  const words = jsonWords(first);
  if (!words) return [`line ${first.getRange().start.line + 1}: ${first.getKeyword()} must use the exec (JSON) form`];
  const program = words[0]?.split("/").at(-1);
  if (program !== "node" && program !== "tini") {
    return [
      `${first.getKeyword()} starts ${words[0] ?? "nothing"}, not node (PID 1 must be node, or tini in front of it)`,
    ];
  }
  const all = [...words, ...(entrypoint && cmd ? (jsonWords(cmd) ?? []) : [])];
  if (all.some((w) => /tsx|ts-node|\.ts$/.test(w)))
    return ["the command runs TypeScript: the image runs compiled JavaScript"];
  return [];
}

function jsonWords(instruction: Instruction): string[] | null {
  const raw = (instruction.getArgumentsContent() ?? "").trim();
  if (!raw.startsWith("[")) return null;
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) && parsed.every((w) => typeof w === "string") ? parsed : null;
  } catch {
    return null;
  }
}

function checkIgnoreFile(content: string | null): string[] {
  if (content === null)
    return ["no Dockerfile.dockerignore beside the Dockerfile: the whole repository is sent to the builder"];
  const lines = content.split("\n").map((l) => l.trim());
  const excludesAll = lines.includes("**") || lines.includes("*");
  const problems: string[] = [];
  for (const path of ["node_modules", ".data"]) {
    if (!excludesAll && !lines.some((l) => l.replace(/^\*\*\//, "").replace(/\/$/, "") === path)) {
      problems.push(`Dockerfile.dockerignore does not exclude ${path}`);
    }
    if (lines.some((l) => l.startsWith("!") && l.includes(path)))
      problems.push(`Dockerfile.dockerignore re-includes ${path}`);
  }
  if (excludesAll && !lines.some((l) => /^(\*\*\/)?node_modules\/?$/.test(l))) {
    problems.push("Dockerfile.dockerignore re-includes folders without excluding their node_modules");
  }
  return problems;
}
