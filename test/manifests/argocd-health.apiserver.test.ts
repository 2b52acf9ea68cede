// The Argo CD health check (manifests/argocd/health.lua, run by gopher-lua as Argo CD runs it) on the statuses
// the operator writes on the real API server: Progressing from creation and through a staged rollout and an
// edit, Healthy once converged, Degraded for an invalid spec and a hub that refuses the credentials, Suspended,
// Progressing while deleted; an IoTHub's own. And manifests/argocd/ adds it to an existing argocd-cm.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { type ArgoHealth, argoHealth, HEALTH_LUA } from '../support/argo-health.js';
import { kubectlOk } from '../support/control-plane.js';
import { REPO } from '../support/kube.js';
import { condition, fleet, type OperatorFixture, startOperatorFixture } from '../support/operator-fixture.js';

const SPEC = {
  target: { condition: "tags.environment = 'production'" },
  agentConfiguration: { highPriorityMessageFrequency: 'PT5M' },
};
const HOLD = 'argocd-health.test/hold';

describe('Argo CD health of what the operator writes', () => {
  let f: OperatorFixture;
  /** The object as it was returned by `kubectl ARGS -o json` (a create or an apply: before any reconcile). */
  let written: (args: string[], object: object) => Promise<any>;
  before(async () => {
    f = await startOperatorFixture({
      prefix: 'argocd-health',
      devices: fleet('dev', 8, { environment: 'production' }),
      // Agents slow enough that a rollout of four batches is in progress for seconds.
      emulator: { agentDelay: { min: 400, max: 800 } },
    });
    written = async (args, object) =>
      JSON.parse(
        await kubectlOk(
          f.cp.kubeconfig,
          [...args, '-n', f.namespace, '-o', 'json', '-f', '-'],
          JSON.stringify(object),
        ),
      );
    await f.apply(f.hubObjects());
  });
  after(() => f.close());

  async function healthOf(kind: 'smc' | 'hub', name: string): Promise<ArgoHealth> {
    return argoHealth(await f.get(kind, name));
  }

  it('reads an IoTHub Progressing before its first status, then Healthy once connected', async () => {
    const [, hub] = f.hubObjects({ name: 'second' });
    const [secret] = f.hubObjects({ name: 'second' });
    await f.apply([secret]);
    const created = await written(['create'], hub);
    assert.deepEqual(await argoHealth(created), {
      status: 'Progressing',
      message: "Waiting for the operator's first status",
    });
    await f.waitFor('hub', 'second', (o) => condition(o, 'Ready').status === 'True');
    const health = await healthOf('hub', 'second');
    assert.equal(health.status, 'Healthy');
    assert.match(health.message ?? '', /^Connected/);
  });

  it('reads a staged rollout Progressing from creation to the last batch, then Healthy', async () => {
    const smc = f.smc('rollout', { ...SPEC, rollout: { batchSize: '25%' } });
    assert.equal((await argoHealth(await written(['create'], smc))).status, 'Progressing');
    const rolling = await f.waitFor(
      'smc',
      'rollout',
      (o) => o?.status?.observedGeneration === 1 && condition(o, 'Reconciling').status === 'True',
    );
    assert.equal(condition(rolling, 'Ready').status, 'False');
    assert.deepEqual(await argoHealth(rolling), {
      status: 'Progressing',
      message: `Progressing: ${condition(rolling, 'Ready').message}`,
    });
    const converged = await f.waitFor(
      'smc',
      'rollout',
      (o) => condition(o, 'Ready').status === 'True',
      30_000,
    );
    assert.deepEqual(await argoHealth(converged), {
      status: 'Healthy',
      message: `Converged: ${condition(converged, 'Ready').message}`,
    });
  });

  it('reads an edit Progressing until the operator has observed it and rolled it out', async () => {
    const edit = f.smc('rollout', {
      ...SPEC,
      agentConfiguration: { highPriorityMessageFrequency: 'PT1M' },
      rollout: { batchSize: '25%' },
    });
    // The API server's answer to the edit: generation 2, the status still that of generation 1 (Ready).
    const answer = await written(['apply'], edit);
    assert.equal(answer.metadata.generation, 2);
    assert.equal(answer.status.observedGeneration, 1);
    assert.equal(condition(answer, 'Ready').status, 'True');
    assert.deepEqual(await argoHealth(answer), {
      status: 'Progressing',
      message: 'Waiting for the operator to observe generation 2 (the status is of generation 1)',
    });
    const rolling = await f.waitFor(
      'smc',
      'rollout',
      (o) => o.status.observedGeneration === 2 && condition(o, 'Reconciling').status === 'True',
    );
    assert.equal((await argoHealth(rolling)).status, 'Progressing');
    await f.waitFor(
      'smc',
      'rollout',
      (o) => o.status.observedGeneration === 2 && condition(o, 'Ready').status === 'True',
      30_000,
    );
    assert.equal((await healthOf('smc', 'rollout')).status, 'Healthy');
  });

  it('reads a spec the agent would reject Degraded, with its reason (InvalidSpec)', async () => {
    await f.apply([
      f.smc('too-fast', {
        ...SPEC,
        priority: 20,
        agentConfiguration: { highPriorityMessageFrequency: 'PT10H', lowPriorityMessageFrequency: 'PT1H' },
      }),
    ]);
    await f.waitFor('smc', 'too-fast', (o) => condition(o, 'Ready').reason === 'InvalidSpec');
    const health = await healthOf('smc', 'too-fast');
    assert.equal(health.status, 'Degraded');
    assert.match(health.message ?? '', /^InvalidSpec: .*highPriorityMessageFrequency/);
  });

  it('reads a hub that refuses the credentials Degraded (Unauthorized), and the resources on it', async () => {
    const wrong = f.emulator.connectionString.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`,
    );
    await f.apply([
      ...f.hubObjects({ name: 'refusing', secret: { connectionString: wrong, 'ca.crt': f.emulator.caCert } }),
      f.smc('on-refusing', { ...SPEC, hubRef: { name: 'refusing' } }),
    ]);
    await f.waitFor('hub', 'refusing', (o) => condition(o, 'Ready').reason === 'Unauthorized');
    const hub = await healthOf('hub', 'refusing');
    assert.equal(hub.status, 'Degraded');
    assert.match(hub.message ?? '', /^Unauthorized: /);
    assert.doesNotMatch(hub.message ?? '', /SharedAccessKey|BwcHBwcH/, 'no key in the message');
    await f.waitFor('smc', 'on-refusing', (o) => condition(o, 'Ready').reason === 'Unauthorized');
    assert.equal((await healthOf('smc', 'on-refusing')).status, 'Degraded');
  });

  it('reads a hub that does not answer Progressing: the operator retries it (HubUnreachable)', async () => {
    const closed = f.emulator.connectionString.replace(/HostName=[^;]+/, 'HostName=localhost:1');
    await f.apply(
      f.hubObjects({ name: 'silent', secret: { connectionString: closed, 'ca.crt': f.emulator.caCert } }),
    );
    await f.waitFor('hub', 'silent', (o) => condition(o, 'Ready').reason === 'HubUnreachable');
    const health = await healthOf('hub', 'silent');
    assert.equal(health.status, 'Progressing');
    assert.match(health.message ?? '', /^HubUnreachable: /);
  });

  it('reads a suspended resource Suspended', async () => {
    await f.apply([f.smc('paused', { ...SPEC, priority: 5, suspend: true })]);
    await f.waitFor('smc', 'paused', (o) => condition(o, 'Ready').reason === 'Suspended');
    assert.deepEqual(await healthOf('smc', 'paused'), {
      status: 'Suspended',
      message: 'spec.suspend is true: the operator writes no twin for it',
    });
  });

  it('reads a resource being deleted Progressing', async () => {
    const held = f.smc('leaving', { ...SPEC, priority: 7 });
    // A finalizer of the test's own keeps the object, with its deletionTimestamp, once the operator let go.
    held.metadata.finalizers = [HOLD];
    await f.apply([held]);
    await f.waitFor('smc', 'leaving', (o) => condition(o, 'Ready').status === 'True', 30_000);
    await kubectlOk(f.cp.kubeconfig, ['delete', 'smc', 'leaving', '-n', f.namespace, '--wait=false']);
    const leaving = await f.waitFor(
      'smc',
      'leaving',
      (o) => o.metadata.deletionTimestamp !== undefined && o.metadata.finalizers?.join() === HOLD,
    );
    const health = await argoHealth(leaving);
    assert.equal(health.status, 'Progressing');
    assert.match(health.message ?? '', /^Being deleted \(/);
    await kubectlOk(f.cp.kubeconfig, [
      'patch',
      'smc',
      'leaving',
      '-n',
      f.namespace,
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
  });

  it('is added to an existing argocd-cm by manifests/argocd/, health.lua as it is under both keys', async () => {
    const rendered = parseAllDocuments(
      await kubectlOk(f.cp.kubeconfig, ['kustomize', join(REPO, 'manifests', 'argocd')]),
    ).map((d) => d.toJS());
    assert.equal(rendered.length, 1);
    const [patch] = rendered;
    assert.deepEqual(
      [patch.kind, patch.metadata.name, patch.metadata.namespace],
      ['ConfigMap', 'argocd-cm', 'argocd'],
    );
    const script = readFileSync(HEALTH_LUA, 'utf8');
    const keys = {
      'resource.customizations.health.iotsecurity.io_SecurityModuleConfig': script,
      'resource.customizations.health.iotsecurity.io_IoTHub': script,
    };
    assert.deepEqual(patch.data, keys);

    // An Argo CD's argocd-cm with settings of its own, in this test's namespace instead of argocd.
    await kubectlOk(f.cp.kubeconfig, [
      'create',
      'configmap',
      'argocd-cm',
      '-n',
      f.namespace,
      '--from-literal=url=https://argocd.example.com',
    ]);
    patch.metadata.namespace = f.namespace;
    await kubectlOk(f.cp.kubeconfig, ['apply', '-f', '-'], JSON.stringify(patch));
    const merged = JSON.parse(
      await kubectlOk(f.cp.kubeconfig, ['get', 'configmap', 'argocd-cm', '-n', f.namespace, '-o', 'json']),
    );
    assert.deepEqual(merged.data, { url: 'https://argocd.example.com', ...keys });
    assert.equal(merged.metadata.labels['app.kubernetes.io/part-of'], 'argocd');
  });
});
