import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderGeneratedFiles } from '../../scripts/generated-files.js';

describe('generated files', () => {
  it('match what the schemas generate (run `make generate` after editing schemas/)', async () => {
    const files = await renderGeneratedFiles();
    assert.ok(files.size >= 3);
    for (const [path, content] of files) {
      const committed = readFileSync(join(import.meta.dirname, '..', '..', path), 'utf8');
      assert.equal(committed, content, `${path} is stale: run make generate`);
    }
  });
});
