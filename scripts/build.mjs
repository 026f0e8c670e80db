#!/usr/bin/env node
// Builds every workspace package with `tsc -b`, the list derived from the workspace folders (a
// package created with `pnpm new:model` / `pnpm new:method` builds with no edit elsewhere).
// Usage: node scripts/build.mjs [DIR ...]   (default: every package; extra tsc flags after --)
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { listPackages, root } from './workspace.mjs';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const dirs = dash < 0 ? args : args.slice(0, dash);
const flags = dash < 0 ? [] : args.slice(dash + 1);
const targets = dirs.length ? dirs : listPackages().map((p) => p.dir);
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
try {
  execFileSync(process.execPath, [tsc, '-b', ...targets, ...flags], { cwd: root, stdio: 'inherit' });
} catch {
  process.exit(1);
}
