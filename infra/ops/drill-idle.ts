import type { AdminClient } from "./admin-client.js";

/**
 * Idle lobbies for the drill (`--idle-lobbies N`) and the drain bench: a
 * failover's or a drain's work must follow the active lobbies, not every
 * lobby in the database. The lobbies are made by the real create path,
 * `POST /api/lobbies` through the balancer, many at once: each is created
 * by its ring owner, committed, loaded in that node's memory, and left
 * alone, exactly as a lobby a player opened and abandoned. (Rows written
 * straight into Postgres would be faster but would skip the load and the
 * unload, which is half of what is measured: a node's memory afterwards.)
 */

export type NodeSample = { id: string; loaded: number; rssBytes: number; heapUsedBytes: number };

export type IdleOptions = {
  /** Creates in flight at once (default 64). */
  concurrency?: number;
  onProgress?: (text: string) => void;
};

/** Creates `count` lobbies nobody will be in; returns their codes. */
export async function createIdleLobbies(baseUrl: string, count: number, opts: IdleOptions = {}): Promise<string[]> {
  const codes: string[] = [];
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      codes.push(await createOne(baseUrl));
      if (codes.length % 1000 === 0) opts.onProgress?.(`created ${codes.length}/${count} idle lobbies`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, opts.concurrency ?? 64) }, worker));
  return codes;
}

/**
 * One create. Retried: a 409 (the random code was taken), a 429 or 503 (a
 * limit, a node starting or fenced on a loaded machine), and a connection
 * reset (a keep-alive socket the balancer closed as it was reused).
 */
async function createOne(baseUrl: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const answer = await fetch(`${baseUrl}/api/lobbies`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "idle host" }),
    }).then(
      async (res) => ({ status: res.status, text: await res.text() }),
      (err: Error) => ({ status: 0, text: err.message }),
    );
    if (answer.status === 201) return (JSON.parse(answer.text) as { code: string }).code;
    if (![0, 409, 429, 503].includes(answer.status) || attempt >= 20)
      throw new Error(`creating an idle lobby: ${answer.status || "no answer"} ${answer.text}`);
    await new Promise((r) => setTimeout(r, 100 * attempt));
  }
}

/** Every live node's loaded-lobby gauge and resident memory, from its own /metrics. */
export async function sampleNodes(admin: AdminClient): Promise<NodeSample[]> {
  const nodes = (await admin.nodes()).filter((n) => n.state === "active" && n.leaseValid);
  return Promise.all(
    nodes.map(async (n) => {
      const text = await (await fetch(`${n.url}/metrics`)).text();
      return {
        id: n.id,
        loaded: metric(text, "ringside_loaded_lobbies"),
        rssBytes: metric(text, "process_resident_memory_bytes"),
        heapUsedBytes: metric(text, "nodejs_heap_size_used_bytes"),
      };
    }),
  );
}

/** A metric's value in Prometheus text (the first sample of that name, labels ignored). */
export function metric(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`no ${name} in the node's /metrics`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

/**
 * Waits until every node holds no more lobbies than `allowance` above what it
 * held before the idle lobbies were made (the node's idle-unload window,
 * RINGSIDE_IDLE_UNLOAD_MS, 60 s by default, plus a lifecycle tick).
 */
export async function waitUntilUnloaded(
  admin: AdminClient,
  before: NodeSample[],
  opts: { timeoutMs: number; allowance?: number; onProgress?: (text: string) => void },
): Promise<NodeSample[]> {
  const deadline = Date.now() + opts.timeoutMs;
  const baseline = new Map(before.map((s) => [s.id, s.loaded]));
  for (;;) {
    const now = await sampleNodes(admin);
    const left = now.reduce((n, s) => n + Math.max(0, s.loaded - (baseline.get(s.id) ?? 0) - (opts.allowance ?? 0)), 0);
    if (left === 0) return now;
    if (Date.now() > deadline)
      throw new Error(
        `idle lobbies still loaded after ${opts.timeoutMs} ms (${left} left): is the idle-unload window longer?`,
      );
    opts.onProgress?.(`waiting for the idle lobbies to unload: ${left} still loaded`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function totalRss(samples: NodeSample[]): number {
  return samples.reduce((n, s) => n + s.rssBytes, 0);
}

/** What `--idle-lobbies` did before the drill: how many, and the nodes' memory before and after they unloaded. */
export type IdleSetup = {
  lobbies: number;
  createMs: number;
  unloadWaitMs: number;
  before: NodeSample[];
  after: NodeSample[];
};

/**
 * Makes `count` idle lobbies and waits until the nodes unloaded them, so the
 * drill that follows fails over a node whose database share is mostly
 * lobbies nobody uses (claimed lazily), and the nodes' memory can be
 * compared with before.
 */
export async function prepareIdleLobbies(
  admin: AdminClient,
  count: number,
  opts: { timeoutMs: number; onProgress: (text: string) => void },
): Promise<IdleSetup> {
  const before = await sampleNodes(admin);
  opts.onProgress(`creating ${count} idle lobbies through ${admin.baseUrl} (${formatRss(before)} before)`);
  const started = Date.now();
  await createIdleLobbies(admin.baseUrl, count, { onProgress: opts.onProgress });
  const createMs = Date.now() - started;
  const loaded = await sampleNodes(admin);
  opts.onProgress(`created in ${createMs} ms (${formatRss(loaded)} with them loaded); waiting for them to unload`);
  const after = await waitUntilUnloaded(admin, before, {
    timeoutMs: opts.timeoutMs,
    allowance: 5,
    onProgress: opts.onProgress,
  });
  const unloadWaitMs = Date.now() - started - createMs;
  opts.onProgress(`unloaded after ${unloadWaitMs} ms: ${formatRss(after)}`);
  return { lobbies: count, createMs, unloadWaitMs, before, after };
}

export function formatRss(samples: NodeSample[]): string {
  const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`;
  return `RSS ${samples.map((s) => `${s.id} ${mb(s.rssBytes)} (heap used ${mb(s.heapUsedBytes)})`).join(", ")}`;
}

/** The largest after/before RSS ratio over nodes present in both samples. */
export function worstRssRatio(setup: Pick<IdleSetup, "before" | "after">): number {
  const before = new Map(setup.before.map((s) => [s.id, s.rssBytes]));
  const ratios = setup.after.filter((s) => before.has(s.id)).map((s) => s.rssBytes / (before.get(s.id) as number));
  return Math.max(...ratios);
}
