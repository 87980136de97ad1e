#!/usr/bin/env node
// A game node, configured by environment variables (RINGSIDE_GAMES names your games).
import "../dist/node/main.js";
