// `make generate`: writes the TypeScript types and CRD manifests generated from schemas/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderGeneratedFiles } from './generated-files.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const [path, content] of await renderGeneratedFiles()) {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), content);
  console.log(`generated ${path}`);
}
