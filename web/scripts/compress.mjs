#!/usr/bin/env node
// Writes NAME.gz and NAME.br next to every compressible file of the build (default: dist),
// so argus can serve precompressed assets. Uses only node's zlib.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = process.argv[2] ?? 'dist';
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|txt|map|webmanifest|xml|ico|wasm)$/i;

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

let files = 0;
let before = 0;
let afterGzip = 0;
let afterBrotli = 0;
try {
  await stat(root);
} catch {
  console.error(`compress: ${root} does not exist; run vite build first`);
  process.exit(1);
}
for await (const path of walk(root)) {
  if (!COMPRESSIBLE.test(path)) continue;
  const data = await readFile(path);
  const gz = gzipSync(data, { level: 9 });
  const br = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_MODE]: /\.(js|mjs|css|html|svg|json|txt|map|xml)$/i.test(path)
        ? constants.BROTLI_MODE_TEXT
        : constants.BROTLI_MODE_GENERIC,
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  await writeFile(`${path}.gz`, gz);
  await writeFile(`${path}.br`, br);
  files++;
  before += data.length;
  afterGzip += gz.length;
  afterBrotli += br.length;
  console.log(`  ${relative(root, path)}  ${data.length} B → gzip ${gz.length} B, brotli ${br.length} B`);
}
console.log(`compress: ${files} files, ${before} B → gzip ${afterGzip} B, brotli ${afterBrotli} B`);
