#!/usr/bin/env bun
// The aria-agent command. From a checkout it runs the TypeScript sources; from the installed
// package (which ships the bundle, not the sources) it runs dist/aria-agent.js.
import { existsSync } from "node:fs";

const source = new URL("../src/cli/main.ts", import.meta.url);
await import(existsSync(source) ? source.href : new URL("../dist/aria-agent.js", import.meta.url).href);
