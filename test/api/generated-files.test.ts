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

  it("include the Helm chart's CRDs, RBAC rules, monitoring files and Chart.yaml", async () => {
    const paths = [...(await renderGeneratedFiles()).keys()];
    const crds = paths.filter((p) => p.startsWith('crds/'));
    assert.ok(crds.length >= 3);
    for (const path of [
      ...crds.map((p) => `charts/iot-security-operator/${p}`),
      'charts/iot-security-operator/Chart.yaml',
      'charts/iot-security-operator/templates/_rbac-rules.tpl',
      'charts/iot-security-operator/files/grafana-dashboard.json',
      'charts/iot-security-operator/files/prometheus-rules.yaml',
    ])
      assert.ok(paths.includes(path), `${path} is generated`);
  });
});
