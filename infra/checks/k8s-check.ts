import { execFile } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { checkRingsideObjects, checkSecretExample } from "./k8s-rules.js";
import { type K8sObject, validateObject } from "./k8s-schema.js";

/**
 * Checks infra/k8s as Kubernetes will see it: the base and every overlay are
 * built by the real kustomize (the one inside kubectl, `kubectl kustomize`),
 * and every object they produce is validated against the API schemas and
 * Ringside's rules; so is the example Secret.
 */

export const K8S_DIR = fileURLToPath(new URL("../k8s/", import.meta.url));
const run = promisify(execFile);

export type TargetResult = { target: string; objects: number; problems: string[] };

/** base, then every folder under overlays/ with a kustomization.yaml. */
export async function kustomizations(root: string): Promise<string[]> {
  const overlays = await readdir(join(root, "overlays")).catch(() => [] as string[]);
  const found: string[] = [];
  for (const name of overlays.sort()) {
    if (await exists(join(root, "overlays", name, "kustomization.yaml"))) found.push(`overlays/${name}`);
  }
  return ["base", ...found];
}

export async function kustomizeBuild(dir: string): Promise<K8sObject[]> {
  let stdout: string;
  try {
    ({ stdout } = await run("kubectl", ["kustomize", dir], { maxBuffer: 16 << 20 }));
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") {
      throw new Error("kubectl is not installed: it builds the kustomizations (`kubectl kustomize`); install kubectl");
    }
    throw new Error(`kubectl kustomize ${dir} failed: ${(e.stderr ?? e.message).trim()}`);
  }
  return parseYamlObjects(stdout, dir);
}

export function parseYamlObjects(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value = doc.toJS() as K8sObject | null;
    return value ? [value] : [];
  });
}

export async function checkKubernetes(root = K8S_DIR): Promise<TargetResult[]> {
  const results: TargetResult[] = [];
  for (const target of await kustomizations(root)) {
    const objects = await kustomizeBuild(join(root, target));
    const problems = [...objects.flatMap(validateObject), ...checkRingsideObjects(objects)];
    results.push({ target, objects: objects.length, problems });
  }
  const example = "secret.example.yaml";
  const secrets = parseYamlObjects(await readFile(join(root, example), "utf8"), example);
  const problems = secrets.flatMap((s) => [...validateObject(s), ...checkSecretExample(s)]);
  if (secrets.length !== 1) problems.push(`${example}: expected one Secret, found ${secrets.length} objects`);
  results.push({ target: example, objects: secrets.length, problems });
  return results;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
