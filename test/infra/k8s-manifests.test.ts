import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Document, parseAllDocuments } from "yaml";
import { checkKubernetes, K8S_DIR, type TargetResult } from "../../infra/checks/k8s-check.js";

/**
 * The Kubernetes manifests, offline: the base and every overlay built by the
 * real kustomize (kubectl's), every object validated against the Kubernetes
 * schemas (strictly: unknown fields fail) and Ringside's rules. Then a broken
 * copy, one mistake per rule, must fail with each mistake named.
 */

describe("the Kubernetes manifests", () => {
  it("build with kustomize and pass the schemas and Ringside's checks, base and every overlay", async () => {
    const results = await checkKubernetes();
    expect(results.map((r) => r.target)).toEqual([
      "base",
      "overlays/load-balancer",
      "overlays/production",
      "secret.example.yaml",
    ]);
    for (const r of results)
      expect({ target: r.target, problems: r.problems }).toEqual({ target: r.target, problems: [] });
    expect(results.find((r) => r.target === "overlays/production")?.objects).toBeGreaterThanOrEqual(8);
  });

  describe("a broken copy", () => {
    let dir: string;
    let results: TargetResult[];
    const problemsOf = (target: string) => results.find((r) => r.target === target)?.problems.join("\n") ?? "";

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "ringside-k8s-"));
      await cp(K8S_DIR, dir, { recursive: true });
      await breakCopy(dir);
      results = await checkKubernetes(dir);
    });

    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it.each([
      ["a node that is not ready does not resolve", /Service ringside-node does not set publishNotReadyAddresses/],
      ["no startupProbe on the node", /container node has no startupProbe/],
      ["no liveness probe on the balancer", /container balancer has no livenessProbe/],
      ["an image by :latest", /image ringside:latest is not pinned by version/],
      ["root", /container node runs without a numeric non-root runAsUser/],
      ["a secret as a literal value", /RINGSIDE_TOKEN_SECRET is a literal value/],
      ["no memory limit", /container balancer has no limits.memory/],
      ["a typo (unknown field)", /unknown field \/spec\/template\/spec\/terminationGracePeriodSecond\b/],
      ["a grace period shorter than the drain", /terminationGracePeriodSeconds 30 does not outlast/],
      ["a schema type error", /Service\/ringside-balancer: .*port must be integer/],
      ["an ingress timeout that cuts WebSockets", /proxy-read-timeout 60 s cuts WebSockets/],
      ["no disruption budget for the balancers", /Deployment\/ringside-balancer: no PodDisruptionBudget/],
    ])("fails the base on %s", (_what, pattern) => {
      expect(problemsOf("base")).toMatch(pattern);
    });

    it("fails each overlay on the base's mistakes and on its own patch", () => {
      expect(problemsOf("overlays/production")).toMatch(/does not set publishNotReadyAddresses/);
      const own = /Service\/ringside-public: data\/spec\/type must be equal to one of the allowed values/;
      expect(problemsOf("overlays/load-balancer")).toMatch(own);
      expect(problemsOf("overlays/load-balancer")).toMatch(/players cannot reach the balancers/);
      expect(problemsOf("overlays/production")).not.toMatch(own);
      // The overlays pin their own image tag: the base's :latest does not reach them.
      expect(problemsOf("overlays/production")).not.toMatch(/not pinned/);
    });

    it("fails the example Secret without a key a process needs", () => {
      expect(problemsOf("secret.example.yaml")).toMatch(/Secret\/ringside: no RINGSIDE_ADMIN_TOKEN/);
    });
  });
});

/** One mistake per rule, made with the YAML document API so the rest of each file stays as it was. */
async function breakCopy(dir: string): Promise<void> {
  await edit(join(dir, "base/node-service.yaml"), ([svc]) => svc?.setIn(["spec", "publishNotReadyAddresses"], false));
  await edit(join(dir, "base/node-statefulset.yaml"), ([sts]) => {
    const c = ["spec", "template", "spec", "containers", 0];
    sts?.deleteIn([...c, "startupProbe"]);
    sts?.setIn(["spec", "template", "spec", "securityContext", "runAsUser"], 0);
    const env = sts?.getIn([...c, "env"]) as {
      items: { get(k: string): unknown; set(k: string, v: unknown): void; delete(k: string): void }[];
    };
    const secret = env.items.find((e) => e.get("name") === "RINGSIDE_TOKEN_SECRET");
    secret?.delete("valueFrom");
    secret?.set("value", "s3cret-in-git");
    sts?.deleteIn(["spec", "template", "spec", "terminationGracePeriodSeconds"]);
    sts?.setIn(["spec", "template", "spec", "terminationGracePeriodSecond"], 130);
  });
  await edit(join(dir, "base/balancer-deployment.yaml"), ([dep]) => {
    dep?.deleteIn(["spec", "template", "spec", "containers", 0, "livenessProbe"]);
    dep?.deleteIn(["spec", "template", "spec", "containers", 0, "resources", "limits", "memory"]);
  });
  await edit(join(dir, "base/balancer-service.yaml"), ([svc]) => svc?.setIn(["spec", "ports", 0, "port"], "http"));
  await edit(join(dir, "base/ingress.yaml"), ([ing]) =>
    ing?.setIn(["metadata", "annotations", "nginx.ingress.kubernetes.io/proxy-read-timeout"], "60"),
  );
  await edit(join(dir, "base/kustomization.yaml"), ([k]) => {
    const resources = k?.get("resources") as { items: { value: string }[] };
    resources.items = resources.items.filter((r) => r.value !== "balancer-pdb.yaml");
    k?.setIn(["images", 0, "newTag"], "latest");
  });
  await edit(join(dir, "overlays/load-balancer/public-service.yaml"), ([svc]) =>
    svc?.setIn(["spec", "type"], "LoadBalancr"),
  );
  await edit(join(dir, "secret.example.yaml"), ([secret]) => secret?.deleteIn(["stringData", "RINGSIDE_ADMIN_TOKEN"]));
}

async function edit(path: string, change: (docs: Document[]) => void): Promise<void> {
  const docs = parseAllDocuments(await readFile(path, "utf8")) as Document[];
  change(docs);
  await writeFile(path, docs.map((d) => d.toString()).join("---\n"));
}
