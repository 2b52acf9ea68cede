// manifests/flux/: the Flux objects parse, refer to one another and to this repository's install, and wait for
// the resources (`wait: true`) within a timeout. How kstatus reads the operator's statuses, which is what that
// wait rests on, is proven on the real API server in gitops-health.apiserver.test.ts. Flux itself is not run.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { REPO } from '../support/kube.js';

const FILE = join(REPO, 'manifests', 'flux', 'iot-security.yaml');
/** A Go duration, as Flux's interval and timeout fields take it. */
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

function load(): any[] {
  const documents = parseAllDocuments(readFileSync(FILE, 'utf8'));
  for (const document of documents) assert.deepEqual(document.errors, [], 'the YAML parses');
  return documents.map((d) => d.toJS());
}

describe('the Flux example (manifests/flux/)', () => {
  const objects = load();
  const sources = objects.filter((o) => o.kind === 'GitRepository');
  const kustomizations = objects.filter((o) => o.kind === 'Kustomization');

  it('holds GitRepositories and Kustomizations of the v1 APIs, with the fields Flux requires', () => {
    assert.equal(objects.length, sources.length + kustomizations.length);
    for (const source of sources) {
      assert.equal(source.apiVersion, 'source.toolkit.fluxcd.io/v1');
      assert.match(source.spec.url, /^https:\/\//);
      assert.match(source.spec.interval, GO_DURATION);
    }
    for (const kustomization of kustomizations) {
      assert.equal(kustomization.apiVersion, 'kustomize.toolkit.fluxcd.io/v1');
      assert.match(kustomization.spec.interval, GO_DURATION);
      assert.equal(
        typeof kustomization.spec.prune,
        'boolean',
        `${kustomization.metadata.name}: prune is required`,
      );
      assert.ok(
        sources.some((s) => s.metadata.name === kustomization.spec.sourceRef.name),
        `${kustomization.metadata.name}: its source is in the file`,
      );
    }
  });

  it('waits for everything each Kustomization applies, within a timeout', () => {
    for (const kustomization of kustomizations) {
      assert.equal(kustomization.spec.wait, true, kustomization.metadata.name);
      assert.match(kustomization.spec.timeout, GO_DURATION, kustomization.metadata.name);
    }
  });

  it("installs the operator from this repository's manifests/, and applies the resources after it", () => {
    const operator = kustomizations.find((k) => k.spec.path === './manifests');
    assert.ok(operator, 'a Kustomization installs ./manifests');
    assert.ok(existsSync(join(REPO, operator.spec.path, 'kustomization.yaml')), 'a kustomize folder here');
    const resources = kustomizations.filter((k) => k !== operator);
    assert.ok(resources.length > 0);
    for (const kustomization of resources)
      assert.deepEqual(kustomization.spec.dependsOn, [{ name: operator.metadata.name }]);
  });
});
