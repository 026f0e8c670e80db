// Checks that every pending changeset parses the way `changeset version` will read it (with
// @changesets/parse, the release tooling's own parser, reached through @changesets/cli) and names only
// workspace packages with a valid bump. A changeset that does not parse stops the next release.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { listPackages, root } from './workspace.mjs';

const cli = createRequire(createRequire(import.meta.url).resolve('@changesets/cli/package.json'));
const parse = createRequire(cli.resolve('@changesets/read'))('@changesets/parse').default;

const names = new Set(listPackages().map((p) => p.pkg.name));
const dir = join(root, '.changeset');
const files = readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md');
const problems = [];
for (const f of files) {
  let releases;
  try {
    ({ releases } = parse(readFileSync(join(dir, f), 'utf8')));
  } catch (err) {
    problems.push(`.changeset/${f}: ${String(err.message).split('\n')[0]}`);
    continue;
  }
  if (!releases.length) problems.push(`.changeset/${f}: names no package`);
  for (const r of releases) {
    if (!names.has(r.name)) problems.push(`.changeset/${f}: "${r.name}" is not a workspace package`);
    if (!['major', 'minor', 'patch', 'none'].includes(r.type))
      problems.push(`.changeset/${f}: "${r.name}": "${r.type}" is not major, minor, patch or none`);
  }
}
if (problems.length) {
  console.error(
    `changesets that would stop the next release:\n${problems.map((p) => `  ${p}`).join('\n')}\n` +
      'Each must open with front matter: a line "---", one line per package such as "@promax/cli": patch, a line "---".',
  );
  process.exit(1);
}
console.log(`changesets ok (${files.length})`);
