import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkCompose } from "../../infra/checks/compose-rules.js";
import { checkDockerfile } from "../../infra/checks/dockerfile-rules.js";

/**
 * The Dockerfile and the compose file, linted offline (no Docker engine or
 * hadolint here): the real files pass, and each rule fails on a copy broken
 * in that one way.
 */

const DOCKER = fileURLToPath(new URL("../../infra/docker/", import.meta.url));
const read = (name: string) => readFile(DOCKER + name, "utf8");

describe("the Dockerfile", () => {
  it("passes: pinned Node 24 bases, numeric non-root user, node as PID 1, health check, runtime deps only", async () => {
    expect(checkDockerfile(await read("Dockerfile"), await read("Dockerfile.dockerignore"))).toEqual([]);
  });

  const broken: [string, (text: string) => string, RegExp][] = [
    [
      "a base by :latest",
      (t) => t.replace(/FROM node:[^ \n]+ AS build/, "FROM node:latest AS build"),
      /node:latest is not pinned/,
    ],
    [
      "a base by major only",
      (t) => t.replace(/FROM node:[^ \n]+ AS build/, "FROM node:24 AS build"),
      /node:24 is not pinned/,
    ],
    [
      "Node 20 at run time",
      (t) => t.replace(/FROM node:24[^ \n]+ AS runtime/, "FROM node:20.19.5-bookworm-slim AS runtime"),
      /not node:24/,
    ],
    ["a user by name", (t) => t.replace("USER 1000:1000", "USER node"), /USER must be a numeric uid/],
    ["root", (t) => t.replace("USER 1000:1000", "USER 0"), /runs as root/],
    [
      "npm as PID 1",
      (t) => t.replace('CMD ["node", "dist/node/main.js"]', 'CMD ["npm", "run", "start:node"]'),
      /not node/,
    ],
    [
      "a shell-form command",
      (t) => t.replace('CMD ["node", "dist/node/main.js"]', "CMD node dist/node/main.js"),
      /exec \(JSON\) form/,
    ],
    [
      "a TypeScript loader",
      (t) => t.replace('CMD ["node", "dist/node/main.js"]', 'CMD ["node", "--import", "tsx", "node/main.ts"]'),
      /runs TypeScript/,
    ],
    ["no health check", (t) => t.replace(/^HEALTHCHECK .*$/m, ""), /no HEALTHCHECK/],
    ["dev dependencies", (t) => t.replace("npm ci --omit=dev", "npm ci"), /installs development dependencies/],
    ["an unknown instruction", (t) => t.replace("WORKDIR /app", "WORKDIRR /app"), /Unknown instruction: WORKDIRR/],
  ];
  it.each(broken)("fails on %s", async (_what, breakIt, problem) => {
    const text = await read("Dockerfile");
    const changed = breakIt(text);
    expect(changed).not.toBe(text);
    const problems = checkDockerfile(changed, await read("Dockerfile.dockerignore"));
    expect(problems.join("\n")).toMatch(problem);
  });

  it("fails without an ignore file, or with one that sends node_modules", async () => {
    const dockerfile = await read("Dockerfile");
    expect(checkDockerfile(dockerfile, null).join("\n")).toMatch(/no Dockerfile.dockerignore/);
    const leaky = (await read("Dockerfile.dockerignore")).replace("**/node_modules", "");
    expect(checkDockerfile(dockerfile, leaky).join("\n")).toMatch(/without excluding their node_modules/);
  });
});

describe("the compose file", () => {
  it("passes: every service healthy-checked, every dependency on a condition, compiled code as uid 1000", async () => {
    expect(checkCompose(await read("docker-compose.yml"))).toEqual([]);
  });

  const broken: [string, (text: string) => string, RegExp][] = [
    [
      "no health check on a node",
      (t) => t.replace("    healthcheck: *node-health\n", ""),
      /service node-\d: no healthcheck/,
    ],
    [
      "a dependency without a condition",
      (t) => t.replace("postgres: { condition: service_healthy }", "postgres: {}"),
      /depends_on postgres has condition none/,
    ],
    [
      "npm as the command",
      (t) => t.replace('command: ["node", "dist/balancer/main.js"]', 'command: ["npm", "start"]'),
      /service balancer: command must be/,
    ],
    ["root", (t) => t.replace('user: "1000:1000"', 'user: "0:0"'), /user must be a numeric non-root uid/],
    [
      "an unpinned image",
      (t) => t.replace("postgres:16.10-bookworm", "postgres:latest"),
      /image postgres:latest is not pinned/,
    ],
  ];
  it.each(broken)("fails on %s", async (_what, breakIt, problem) => {
    const text = await read("docker-compose.yml");
    const changed = breakIt(text);
    expect(changed).not.toBe(text);
    expect(checkCompose(changed).join("\n")).toMatch(problem);
  });
});
