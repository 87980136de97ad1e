// Preloaded into a node or balancer process by crash tests (NODE_OPTIONS=--import):
// on SIGUSR2, throws from a timer, outside any request, as a bug would.
process.on("SIGUSR2", () => {
  setImmediate(() => {
    throw new Error("test: an uncaught exception");
  });
});
