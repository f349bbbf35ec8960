#!/usr/bin/env node
// Runs the TypeScript sources through tsx with the workspace's source condition (as apps/demo does).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
// Ctrl-C reaches the child too (same process group); this wrapper waits for it to save and exit.
process.on('SIGINT', () => {});
const r = spawnSync(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', cli, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
