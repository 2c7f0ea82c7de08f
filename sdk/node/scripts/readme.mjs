// readme.mjs: holds README.md to the files and commands it shows: each code block names the file it is, or is a command run here.
//
//   node scripts/readme.mjs check README.md
//
// A block preceded by `<!-- file: PATH -->` must equal that file (PATH is
// relative to the README's folder). A block preceded by `<!-- run: DIR -->`
// is run with /bin/sh in DIR (relative to the README's folder) and must
// succeed. Any other code block is an error: every snippet is a file a test
// runs or a command that is run.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const [, , verb, readme] = process.argv;
if (verb !== 'check' || !readme) {
  console.error('usage: readme.mjs check README.md');
  process.exit(2);
}
const base = dirname(resolve(readme));
const lines = readFileSync(readme, 'utf8').split('\n');
let failures = 0, checked = 0;
for (let i = 0; i < lines.length; i++) {
  const open = /^```(\w*)$/.exec(lines[i]);
  if (!open || open[1] === '') continue;
  let end = i + 1;
  while (end < lines.length && lines[end] !== '```') end++;
  const body = lines.slice(i + 1, end).join('\n') + '\n';
  const marker = /^<!-- (file|run): (\S+) -->$/.exec(lines[i - 1] ?? '');
  if (!marker) {
    console.error(`README line ${i + 1}: a code block with neither a file nor a run marker`);
    failures++;
  } else if (marker[1] === 'file') {
    const path = resolve(base, marker[2]);
    if (readFileSync(path, 'utf8') !== body) {
      console.error(`README line ${i + 1}: the block differs from ${marker[2]}`);
      failures++;
    }
  } else {
    const r = spawnSync('/bin/sh', ['-ec', body], { cwd: resolve(base, marker[2]), stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`README line ${i + 1}: the command failed with status ${r.status}`);
      failures++;
    }
  }
  checked++;
  i = end;
}
console.log(`${checked - failures} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
