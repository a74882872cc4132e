// Concatenates DSFR files of node_modules/@gouvfr/dsfr/dist into one file placed at the
// root of dist/'s layout, rewriting each relative url(...) so that it still resolves from
// there (scripts: each in a block of its own). Used by scripts/vendor-dsfr.sh; prints the
// relative paths the bundle references.
//
//   node scripts/dsfr-bundle.mjs <dist dir> <output file> <file relative to dist>...
import { readFileSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';

const [dist, output, ...files] = process.argv.slice(2);
const refs = new Set();
const parts = files.map((file) => {
  const dir = posix.dirname(file);
  return readFileSync(posix.join(dist, file), 'utf8')
    .replace(/\/\*# sourceMappingURL=[^*]*\*\//g, '')
    .replace(/^\/\/# sourceMappingURL=.*$/gm, '')
    .replace(/url\((["']?)([^)"']+)\1\)/g, (whole, quote, ref) => {
      if (/^(data:|https?:|\/|#)/.test(ref)) return whole;
      const rebased = posix.normalize(posix.join(dir, ref));
      refs.add(rebased.replace(/[?#].*$/, ''));
      return `url(${quote}${rebased}${quote})`;
    });
});
// Each script declares its own top-level constants (`const e=window.dsfr`): one block each
// keeps them apart once in one file.
const script = output.endsWith('.js');
writeFileSync(output, parts.map((p) => (script ? `{\n${p.trim()}\n}` : p)).join('\n'));
for (const ref of [...refs].sort()) console.log(ref);
