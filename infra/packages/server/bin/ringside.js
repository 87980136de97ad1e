#!/usr/bin/env node
// `ringside`: new-game, node, balancer (see cli.ts in the Ringside repository).
import "../dist/infra/packages/server/cli.js";
