#!/usr/bin/env node
// A balancer, configured by environment variables.
import "../dist/balancer/main.js";
