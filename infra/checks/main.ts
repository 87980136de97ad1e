import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { checkCompose } from "./compose-rules.js";
import { checkDockerfile } from "./dockerfile-rules.js";
import { checkKubernetes } from "./k8s-check.js";

/**
 * `npm run check:infra`: the same checks `npm test` runs on the deployment
 * files (Kubernetes manifests built with kustomize, Dockerfile, compose), for
 * an operator editing an overlay. Exit 1 on any problem.
 */

const DOCKER = fileURLToPath(new URL("../docker/", import.meta.url));
const readOrNull = (path: string) => readFile(path, "utf8").catch(() => null);

let failed = false;
function print(target: string, problems: string[], detail = ""): void {
  failed ||= problems.length > 0;
  console.log(`${problems.length ? "FAIL" : "ok  "} ${target}${detail}`);
  for (const p of problems) console.log(`     ${p}`);
}

for (const r of await checkKubernetes()) print(`infra/k8s/${r.target}`, r.problems, ` (${r.objects} objects)`);
const dockerfile = await readFile(`${DOCKER}Dockerfile`, "utf8");
print("infra/docker/Dockerfile", checkDockerfile(dockerfile, await readOrNull(`${DOCKER}Dockerfile.dockerignore`)));
print("infra/docker/docker-compose.yml", checkCompose(await readFile(`${DOCKER}docker-compose.yml`, "utf8")));
process.exitCode = failed ? 1 : 0;
