import * as apps from "kubernetes-models/apps/v1";
import * as networking from "kubernetes-models/networking.k8s.io/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as core from "kubernetes-models/v1";

/**
 * Kubernetes objects checked against the API's own schemas (the OpenAPI
 * definitions compiled into `kubernetes-models`), offline. Strict like
 * `kubeconform -strict`: the schemas accept unknown fields, so a field the
 * validator never reads (a typo such as `publishNotReadyAdresses`, or a field
 * at the wrong level) is reported too. It is found by handing the validator
 * a proxy of the object that records every property it reads.
 */

type ModelClass = { apiVersion: string; kind: string; prototype: { validate(): void } };

const KINDS = new Map<string, ModelClass>();
for (const group of [core, apps, networking, policy]) {
  for (const value of Object.values(group) as unknown[]) {
    if (typeof value !== "function") continue;
    const model = value as unknown as Partial<ModelClass>;
    if (model.apiVersion && model.kind) KINDS.set(`${model.apiVersion}/${model.kind}`, model as ModelClass);
  }
}

export type K8sObject = { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } };

export function describe(obj: K8sObject): string {
  return `${obj.kind ?? "?"}/${obj.metadata?.name ?? "?"}`;
}

/** Schema problems of one object, each naming the object and the field. */
export function validateObject(obj: K8sObject): string[] {
  const model = KINDS.get(`${obj.apiVersion}/${obj.kind}`);
  if (!model) return [`${describe(obj)}: unknown apiVersion/kind ${obj.apiVersion}/${obj.kind}`];
  const read = new Set<string>();
  const problems: string[] = [];
  try {
    model.prototype.validate.call(tracked(obj, "", read));
  } catch (err) {
    problems.push(`${describe(obj)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return [...problems, ...unreadFields(obj, "", read).map((path) => `${describe(obj)}: unknown field ${path}`)];
}

/** A read-only view of `value` that adds the path of every property read to `read`. */
function tracked(value: unknown, path: string, read: Set<string>): unknown {
  if (value === null || typeof value !== "object") return value;
  return new Proxy(value as object, {
    get(target, key, receiver) {
      const child = Reflect.get(target, key, receiver);
      if (typeof key !== "string") return child;
      const childPath = `${path}/${key}`;
      read.add(childPath);
      return tracked(child, childPath, read);
    },
  });
}

function unreadFields(value: unknown, path: string, read: Set<string>): string[] {
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, child]) => {
    const childPath = `${path}/${key}`;
    return read.has(childPath) ? unreadFields(child, childPath, read) : [childPath];
  });
}
