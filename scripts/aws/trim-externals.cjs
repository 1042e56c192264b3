// Run by serverless-esbuild in its build directory after installing the externals
// (serverless.yml custom.esbuild.packagerOptions.scripts): swagger-ui-dist ships source maps
// and bundles the API reference page never loads (lib/api/reference.ts serves swagger-ui.css,
// swagger-ui-bundle.js and the icons); about 11 MB of the artifact.
const fs = require('node:fs');
const path = require('node:path');

const dir = path.join(process.cwd(), 'node_modules', 'swagger-ui-dist');
const UNUSED = /\.map$|^swagger-ui-es-bundle|^swagger-ui\.js$|^swagger-ui-standalone-preset\.js$/;
let removed = 0;
for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
  if (UNUSED.test(f)) {
    removed += fs.statSync(path.join(dir, f)).size;
    fs.rmSync(path.join(dir, f));
  }
}
process.stdout.write(`[trim-externals] removed ${(removed / 2 ** 20).toFixed(1)} MiB of swagger-ui-dist the reference page does not load\n`);
