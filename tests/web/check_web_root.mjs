// SPDX-License-Identifier: Apache-2.0
// Checks an assembled web root (build/web): our pages are there, and every module import and every absolute
// page reference (/static/…, /novnc/…) resolves to a file in it, so a changed noVNC package layout fails here
// rather than in a browser. No npm packages needed.
//   node check_web_root.mjs BUILD/web
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] || '');
const required = ['index.html', 'console.html', 'static/console.js', 'static/dashboard.js', 'static/style.css',
  'novnc/core/rfb.js', 'novnc/vendor/pako/lib/zlib/inflate.js'];
const problems = [];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

// Static imports/exports with a string specifier, and HTML src/href attributes.
const patterns = {
  '.js': [/\bimport\s+(?:[^'"`;]*?\sfrom\s+)?['"]([^'"]+)['"]/g, /\bexport\s+[^'"`;]*?\sfrom\s+['"]([^'"]+)['"]/g],
  '.html': [/\b(?:src|href)\s*=\s*["']([^"']+)["']/g],
};

if (!existsSync(root)) {
  console.error(`web root ${root} does not exist (build the vncgate_web target)`);
  process.exit(1);
}
for (const name of required) {
  if (!existsSync(join(root, name))) problems.push(`missing ${name}`);
}
let checked = 0;
for (const file of files(root)) {
  const ext = file.slice(file.lastIndexOf('.'));
  for (const pattern of patterns[ext] || []) {
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(pattern)) {
      if (/^(data:|https?:|mailto:|#)/.test(spec) || (ext === '.html' && !spec.startsWith('/'))) continue;
      if (spec.startsWith('/api/')) continue; // served by the API, not the web root
      if (!spec.startsWith('/') && !spec.startsWith('.')) {
        problems.push(`${relative(root, file)}: bare import '${spec}' (browsers cannot resolve it)`);
        continue;
      }
      const target = spec.startsWith('/') ? join(root, spec) : resolve(dirname(file), spec);
      checked += 1;
      if (!target.startsWith(root + '/') || !existsSync(target)) {
        problems.push(`${relative(root, file)}: '${spec}' does not resolve inside the web root`);
      }
    }
  }
}
for (const p of problems) console.log('web root:', p);
console.log(`${checked} references checked, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
