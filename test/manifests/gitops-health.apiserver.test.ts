// How Argo CD (manifests/argocd/health.lua, run by gopher-lua as Argo CD runs it) and Flux (kstatus, and the
// health check expressions of manifests/flux/, by their own code) read the statuses the operator writes on the
// real API server: progressing from creation and through a staged rollout and an edit, healthy once converged,
// failed for an invalid spec and a hub that refuses the credentials, suspended, deleted; an IoTHub's own; a
// TwinConfig's on IoT Plug and Play thermostats (converged, values the devices rejected, a ConfigMap it waits for).
// And manifests/argocd/ adds the check for each kind to an existing argocd-cm.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { kubectlOk } from '../support/control-plane.js';
import {
  type ArgoHealth,
  argoHealth,
  type FluxHealth,
  type FluxHealthCheck,
  fluxHealth,
  HEALTH_LUA,
  type KStatus,
  kstatus,
} from '../support/gitops-health.js';
import { REPO } from '../support/kube.js';
import { condition, fleet, type OperatorFixture, startOperatorFixture } from '../support/operator-fixture.js';
import { configMap, twinConfig } from '../support/resources.js';

const THERMOSTAT = 'dtmi:com:example:Thermostat;1';
const MODEL = readFileSync(join(REPO, 'examples', 'models', 'thermostat-1.json'), 'utf8');
/** The key of the ConfigMap pnp-models that holds the thermostat's model. */
const BY_MODEL = { configMapKeyRef: { name: 'pnp-models', key: 'thermostat-1.json' }, format: 'DTDL' };

const SPEC = {
  target: { condition: "tags.environment = 'production'" },
  agentConfiguration: { highPriorityMessageFrequency: 'PT5M' },
};
const HOLD = 'argocd-health.test/hold';

/** The health check expressions of manifests/flux/, by kind. */
const FLUX_CHECKS = new Map<string, FluxHealthCheck>(
  parseAllDocuments(readFileSync(join(REPO, 'manifests', 'flux', 'iot-security.yaml'), 'utf8'))
    .map((d) => d.toJS())
    .flatMap((o) => (o.spec?.healthCheckExprs ?? []) as FluxHealthCheck[])
    .map((c) => [c.kind, c]),
);

/** What Flux reads for `object` with the example's health check expressions. */
async function flux(object: any): Promise<FluxHealth['status']> {
  return (await fluxHealth(FLUX_CHECKS.get(object.kind)!, object)).status;
}

/** Argo CD's health and kstatus's status of `object`. */
async function readBy(object: unknown): Promise<{ argo: ArgoHealth; kstatus: KStatus['status'] }> {
  const [argo, k] = await Promise.all([argoHealth(object), kstatus(object)]);
  return { argo, kstatus: k.status };
}

/**
 * The object as the API server answered `kubectl ARGS` (a create or an apply: before any reconcile), with the
 * managedFields Flux reads: whether the status was ever written is in them.
 */
async function written(f: OperatorFixture, args: string[], object: object): Promise<any> {
  return JSON.parse(
    await kubectlOk(
      f.cp.kubeconfig,
      [...args, '-n', f.namespace, '-o', 'json', '--show-managed-fields', '-f', '-'],
      JSON.stringify(object),
    ),
  );
}

/** The object as Flux reads it: with the managedFields kubectl leaves out unless asked. */
async function withManagedFields(f: OperatorFixture, kind: string, name: string): Promise<any> {
  return JSON.parse(
    await kubectlOk(f.cp.kubeconfig, [
      'get',
      kind,
      name,
      '-n',
      f.namespace,
      '-o',
      'json',
      '--show-managed-fields',
    ]),
  );
}

describe('Argo CD and Flux read what the operator writes', () => {
  let f: OperatorFixture;
  before(async () => {
    f = await startOperatorFixture({
      prefix: 'gitops-health',
      devices: fleet('dev', 8, { environment: 'production' }),
      // Agents slow enough that a rollout of four batches is in progress for seconds.
      emulator: { agentDelay: { min: 400, max: 800 } },
    });
    await f.apply(f.hubObjects());
  });
  after(() => f.close());

  it('reads an IoTHub progressing from creation, before its first status, then healthy once connected', async () => {
    const [secret, hub] = f.hubObjects({ name: 'second' });
    await f.apply([secret]);
    const createdObject = await written(f, ['create'], hub);
    const created = await readBy(createdObject);
    assert.deepEqual(created.argo, {
      status: 'Progressing',
      message: "Waiting for the operator's first status",
    });
    // The CRD's defaults give a status nobody wrote observedGeneration 0, so kstatus reads InProgress from the
    // first second (without them it read Current until the first status write: a `wait` polling then passed).
    assert.deepEqual(createdObject.status, { observedGeneration: 0 });
    assert.equal(created.kstatus, 'InProgress');
    // The Flux example's health check expressions read it InProgress too, from the API server's managedFields.
    assert.equal(await flux(createdObject), 'InProgress');
    await f.waitFor('hub', 'second', (o) => condition(o, 'Ready').status === 'True');
    const connected = await readBy(await f.get('hub', 'second'));
    assert.equal(connected.argo.status, 'Healthy');
    assert.match(connected.argo.message ?? '', /^Connected/);
    assert.equal(connected.kstatus, 'Current');
    assert.equal(await flux(await withManagedFields(f, 'hub', 'second')), 'Current');
  });

  it('reads a staged rollout as progressing from its first status to the last batch, then healthy', async () => {
    const smc = f.smc('rollout', { ...SPEC, rollout: { batchSize: '25%' } });
    const created = await written(f, ['create'], smc);
    assert.deepEqual(await readBy(created), {
      argo: { status: 'Progressing', message: "Waiting for the operator's first status" },
      kstatus: 'InProgress',
    });
    assert.equal(await flux(created), 'InProgress');
    const rolling = await f.waitFor(
      'smc',
      'rollout',
      (o) => o?.status?.observedGeneration === 1 && condition(o, 'Reconciling').status === 'True',
    );
    assert.equal(condition(rolling, 'Ready').status, 'False');
    assert.deepEqual(await readBy(rolling), {
      argo: { status: 'Progressing', message: `Progressing: ${condition(rolling, 'Ready').message}` },
      kstatus: 'InProgress',
    });
    assert.equal(await flux(rolling), 'InProgress');
    const converged = await f.waitFor(
      'smc',
      'rollout',
      (o) => condition(o, 'Ready').status === 'True',
      30_000,
    );
    assert.deepEqual(await readBy(converged), {
      argo: { status: 'Healthy', message: `Converged: ${condition(converged, 'Ready').message}` },
      kstatus: 'Current',
    });
    assert.equal(await flux(converged), 'Current');
  });

  it('reads an edit as progressing until the operator has observed it and rolled it out', async () => {
    const edit = f.smc('rollout', {
      ...SPEC,
      agentConfiguration: { highPriorityMessageFrequency: 'PT1M' },
      rollout: { batchSize: '25%' },
    });
    // The API server's answer to the edit: generation 2, the status still that of generation 1 (Ready).
    const answer = await written(f, ['apply'], edit);
    assert.equal(answer.metadata.generation, 2);
    assert.equal(answer.status.observedGeneration, 1);
    assert.equal(condition(answer, 'Ready').status, 'True');
    assert.deepEqual(await readBy(answer), {
      argo: {
        status: 'Progressing',
        message: 'Waiting for the operator to observe generation 2 (the status is of generation 1)',
      },
      kstatus: 'InProgress',
    });
    assert.equal(await flux(answer), 'InProgress');
    const rolling = await f.waitFor(
      'smc',
      'rollout',
      (o) => o.status.observedGeneration === 2 && condition(o, 'Reconciling').status === 'True',
    );
    const progressing = await readBy(rolling);
    assert.deepEqual([progressing.argo.status, progressing.kstatus], ['Progressing', 'InProgress']);
    const done = await f.waitFor(
      'smc',
      'rollout',
      (o) => o.status.observedGeneration === 2 && condition(o, 'Ready').status === 'True',
      30_000,
    );
    const read = await readBy(done);
    assert.deepEqual([read.argo.status, read.kstatus], ['Healthy', 'Current']);
  });

  it('reads an invalid spec the API server accepts as failed, with its reason (InvalidSpec)', async () => {
    await f.apply([
      f.smc('too-fast', {
        ...SPEC,
        // A condition that does not parse: the CRDs' CEL does not judge the condition's grammar.
        target: { condition: "tags.environment = 'production' AND" },
        priority: 20,
      }),
    ]);
    const stalled = await f.waitFor('smc', 'too-fast', (o) => condition(o, 'Ready').reason === 'InvalidSpec');
    const read = await readBy(stalled);
    assert.equal(read.argo.status, 'Degraded');
    assert.match(read.argo.message ?? '', /^InvalidSpec: .*condition/);
    assert.equal(read.kstatus, 'Failed');
    assert.equal(await flux(stalled), 'Failed');
  });

  it('reads a hub that refuses the credentials as failed (Unauthorized), and the resources on it', async () => {
    const wrong = f.emulator.connectionString.replace(
      /SharedAccessKey=[^;]+/,
      `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`,
    );
    await f.apply([
      ...f.hubObjects({ name: 'refusing', secret: { connectionString: wrong, 'ca.crt': f.emulator.caCert } }),
      f.smc('on-refusing', { ...SPEC, hubRef: { name: 'refusing' } }),
    ]);
    const hub = await readBy(
      await f.waitFor('hub', 'refusing', (o) => condition(o, 'Ready').reason === 'Unauthorized'),
    );
    assert.equal(hub.argo.status, 'Degraded');
    assert.match(hub.argo.message ?? '', /^Unauthorized: /);
    assert.doesNotMatch(hub.argo.message ?? '', /SharedAccessKey|BwcHBwcH/, 'no key in the message');
    assert.equal(hub.kstatus, 'Failed');
    assert.equal(await flux(await withManagedFields(f, 'hub', 'refusing')), 'Failed');
    const smc = await readBy(
      await f.waitFor('smc', 'on-refusing', (o) => condition(o, 'Ready').reason === 'Unauthorized'),
    );
    assert.deepEqual([smc.argo.status, smc.kstatus], ['Degraded', 'Failed']);
  });

  it('reads a hub that does not answer as progressing: the operator retries it (HubUnreachable)', async () => {
    const closed = f.emulator.connectionString.replace(/HostName=[^;]+/, 'HostName=localhost:1');
    await f.apply(
      f.hubObjects({ name: 'silent', secret: { connectionString: closed, 'ca.crt': f.emulator.caCert } }),
    );
    const silent = await f.waitFor('hub', 'silent', (o) => condition(o, 'Ready').reason === 'HubUnreachable');
    const read = await readBy(silent);
    assert.equal(read.argo.status, 'Progressing');
    assert.match(read.argo.message ?? '', /^HubUnreachable: /);
    // An IoTHub has no Reconciling condition: kstatus gets there from Ready=False.
    assert.equal(read.kstatus, 'InProgress');
    assert.equal(await flux(silent), 'InProgress');
  });

  it('reads a suspended resource Suspended in Argo CD; kstatus reads it InProgress', async () => {
    await f.apply([f.smc('paused', { ...SPEC, priority: 5, suspend: true })]);
    const read = await readBy(
      await f.waitFor('smc', 'paused', (o) => condition(o, 'Ready').reason === 'Suspended'),
    );
    assert.deepEqual(read.argo, {
      status: 'Suspended',
      message: 'spec.suspend is true: the operator writes no twin for it',
    });
    // Ready=False with neither Reconciling nor Stalled: Flux's wait would wait for it until its timeout.
    assert.equal(read.kstatus, 'InProgress');
  });

  it('reads a resource being deleted as progressing (kstatus: Terminating)', async () => {
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
    const read = await readBy(leaving);
    assert.equal(read.argo.status, 'Progressing');
    assert.match(read.argo.message ?? '', /^Being deleted \(/);
    assert.equal(read.kstatus, 'Terminating');
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

  it("is added to an existing argocd-cm by manifests/argocd/, health.lua as it is under each kind's key", async () => {
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
      'resource.customizations.health.iotsecurity.io_TwinConfig': script,
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

describe('Argo CD and Flux read what the operator writes of a TwinConfig', () => {
  let f: OperatorFixture;
  before(async () => {
    f = await startOperatorFixture({
      prefix: 'gitops-health-tc',
      devices: [],
      // Thermostats only, a quarter on the legacy firmware (10..30 °C), none slow: as the controller's own test.
      emulator: { pnpDevices: 12, pnpControllerRatio: 0, pnpLegacyRatio: 0.25, pnpSlowRatio: 0, seed: 5 },
    });
    await f.apply(f.hubObjects());
    await f.apply([configMap('pnp-models', { 'thermostat-1.json': MODEL })]);
  });
  after(() => f.close());

  /** Argo CD's health, kstatus's status and Flux's of the TwinConfig `name` as it is now (with managedFields). */
  async function readNow(name: string) {
    const object = await withManagedFields(f, 'tc', name);
    return { object, ...(await readBy(object)), flux: await flux(object) };
  }

  it('reads a TwinConfig progressing before its first status, then healthy once its thermostats acknowledged it', async () => {
    const created = await written(
      f,
      ['create'],
      twinConfig('setpoint', {
        target: { condition: `modelId = '${THERMOSTAT}'` },
        properties: { targetTemperature: 21.5 },
        schema: BY_MODEL,
      }),
    );
    assert.deepEqual(created.status, { observedGeneration: 0 });
    assert.deepEqual(await readBy(created), {
      argo: { status: 'Progressing', message: "Waiting for the operator's first status" },
      kstatus: 'InProgress',
    });
    assert.equal(await flux(created), 'InProgress');
    await f.waitFor('tc', 'setpoint', (o) => condition(o, 'Ready').reason === 'Converged', 30_000);
    const converged = await readNow('setpoint');
    assert.equal(converged.object.status.convergedDevices, 12);
    assert.deepEqual(converged.argo, {
      status: 'Healthy',
      message: `Converged: ${condition(converged.object, 'Ready').message}`,
    });
    assert.deepEqual([converged.kstatus, converged.flux], ['Current', 'Current']);
  });

  it("reads values devices rejected as failed (DevicesRejected), Argo CD's message in the devices' words", async () => {
    const answer = await written(
      f,
      ['apply'],
      twinConfig('setpoint', {
        target: { condition: `modelId = '${THERMOSTAT}'` },
        properties: { targetTemperature: 33 },
        schema: BY_MODEL,
        rollout: { failureThreshold: '100%' },
      }),
    );
    // The edit's answer: generation 2, the status still generation 1's (Converged).
    assert.equal(answer.metadata.generation, 2);
    assert.equal((await readBy(answer)).argo.status, 'Progressing');
    assert.equal(await flux(answer), 'InProgress');
    await f.waitFor(
      'tc',
      'setpoint',
      (o) =>
        o.status.observedGeneration === 2 &&
        condition(o, 'Ready').reason === 'DevicesRejected' &&
        o.status.pendingDevices === 0,
      30_000,
    );
    const rejected = await readNow('setpoint');
    assert.ok(rejected.object.status.rejectedDevices >= 1, JSON.stringify(rejected.object.status));
    assert.equal(rejected.argo.status, 'Degraded');
    assert.match(
      rejected.argo.message ?? '',
      /^DevicesRejected: \d+ devices? rejected the values \(pnp-\d+: targetTemperature refused \(400\): targetTemperature 33 is outside 10\.\.30 °C/,
    );
    assert.deepEqual([rejected.kstatus, rejected.flux], ['Failed', 'Failed']);
  });

  it('reads a value its model refuses as failed (InvalidSpec)', async () => {
    await f.apply([
      twinConfig('warm', {
        target: { deviceIds: ['pnp-000002'] },
        priority: 5,
        properties: { targetTemperature: 'warm' },
        schema: BY_MODEL,
      }),
    ]);
    await f.waitFor('tc', 'warm', (o) => condition(o, 'Ready').reason === 'InvalidSpec');
    const invalid = await readNow('warm');
    assert.equal(invalid.argo.status, 'Degraded');
    assert.match(invalid.argo.message ?? '', /^InvalidSpec: .*targetTemperature/);
    assert.deepEqual([invalid.kstatus, invalid.flux], ['Failed', 'Failed']);
  });

  it('reads a TwinConfig waiting for its ConfigMap as progressing (ConfigMapNotFound), healthy once it appears', async () => {
    await f.apply([
      twinConfig('later', {
        target: { deviceIds: ['pnp-000001'] },
        priority: 5,
        properties: { targetTemperature: 20 },
        schema: { ...BY_MODEL, configMapKeyRef: { name: 'models-to-come', key: 'thermostat-1.json' } },
      }),
    ]);
    await f.waitFor('tc', 'later', (o) => condition(o, 'Ready').reason === 'ConfigMapNotFound');
    const waiting = await readNow('later');
    assert.equal(waiting.argo.status, 'Progressing');
    assert.match(waiting.argo.message ?? '', /^ConfigMapNotFound: .*models-to-come/);
    // Reconciling=True: the operator looks again by itself; neither tool gives up on it before its timeout.
    assert.deepEqual([waiting.kstatus, waiting.flux], ['InProgress', 'InProgress']);
    await f.apply([configMap('models-to-come', { 'thermostat-1.json': MODEL })]);
    await f.waitFor('tc', 'later', (o) => condition(o, 'Ready').reason === 'Converged', 30_000);
    const converged = await readNow('later');
    assert.deepEqual(
      [converged.argo.status, converged.kstatus, converged.flux],
      ['Healthy', 'Current', 'Current'],
    );
  });
});
