/**
 * The image's HEALTHCHECK (Docker and compose; Kubernetes uses its own
 * probes): GET /healthz on this container's own port, exit 0 when it answers
 * 200, else 1. The port is PORT (as the process was started with), else the
 * node's default. Plain node, no shell or curl needed in the image.
 */

export {}; // a module, so it may await at the top level

const port = Number(process.argv[2] ?? process.env.PORT ?? 4001);
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
  await res.body?.cancel();
  process.exitCode = res.ok ? 0 : 1;
  if (!res.ok) console.error(`/healthz on port ${port}: HTTP ${res.status}`);
} catch (err) {
  console.error(`/healthz on port ${port}: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
