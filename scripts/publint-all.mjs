// Runs publint on every publishable workspace package (packs each one, checks exports/types/files).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { listPackages, root } from './workspace.mjs';

let failed = 0;
for (const p of listPackages()) {
  if (p.pkg.private) continue;
  try {
    const out = execFileSync(join(root, 'node_modules/.bin/publint'), [p.dir, '--strict'], {
      cwd: root,
      encoding: 'utf8',
    });
    const last = out.trim().split('\n').pop();
    console.log(`${p.pkg.name}: ${last}`);
  } catch (e) {
    failed++;
    console.error(`${p.pkg.name}: publint failed\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}
if (failed) process.exit(1);
