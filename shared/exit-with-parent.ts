/**
 * For processes started by a launcher or a test (RINGSIDE_EXIT_WITH_PARENT=1):
 * exit when the parent is gone. A SIGKILLed `npm start` or a test runner
 * killed mid-run would otherwise leave nodes and balancers running, holding
 * ports and renewing leases for nobody. Production processes do not set it.
 */
export function exitWithParent(env: NodeJS.ProcessEnv = process.env, log?: (message: string) => void): void {
  if (env.RINGSIDE_EXIT_WITH_PARENT !== "1") return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    log?.("the process that started this one is gone: exiting");
    process.exit(1);
  }, 1000);
  timer.unref();
}
