// The Argo CD health check, branch by branch, on objects shaped as the operator's, and on TwinConfig statuses the
// planner computes (the statuses it writes on the real API server are in gitops-health.apiserver.test.ts), run by
// gopher-lua as Argo CD runs it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { argoHealth, HEALTH_LUA, runTool } from '../support/gitops-health.js';
import { heldTwinConfigStatus, plannedTwinConfigStatus } from '../support/planned-statuses.js';
import { writeTempFiles } from '../support/resources.js';

type Status = 'True' | 'False' | 'Unknown';

function smc(
  status: { generation?: number; observed?: number; ready?: Status; reconciling?: Status; stalled?: Status },
  extra: { spec?: object; metadata?: object; reason?: string } = {},
): object {
  const conditions = [
    ['Ready', status.ready],
    ['Reconciling', status.reconciling],
    ['Stalled', status.stalled],
  ]
    .filter(([, value]) => value !== undefined)
    .map(([type, value]) => ({
      type,
      status: value,
      reason: type === 'Ready' ? (extra.reason ?? 'Progressing') : 'Idle',
      message: type === 'Ready' ? '3 of 8 devices converged' : '',
    }));
  return {
    apiVersion: 'iotsecurity.io/v1alpha1',
    kind: 'SecurityModuleConfig',
    metadata: { name: 'baseline', namespace: 'iot', generation: status.generation ?? 2, ...extra.metadata },
    spec: { hubRef: { name: 'hub' }, ...extra.spec },
    status: { observedGeneration: status.observed ?? status.generation ?? 2, conditions },
  };
}

describe('the Argo CD health check', () => {
  it('is Healthy when Ready is True for the current generation', async () => {
    const health = await argoHealth(
      smc({ ready: 'True', reconciling: 'False', stalled: 'False' }, { reason: 'Converged' }),
    );
    assert.deepEqual(health, { status: 'Healthy', message: 'Converged: 3 of 8 devices converged' });
  });

  it('is Progressing while the status is of an older generation, whatever it says', async () => {
    const health = await argoHealth(
      smc({ generation: 3, observed: 2, ready: 'True', reconciling: 'False', stalled: 'False' }),
    );
    assert.deepEqual(health, {
      status: 'Progressing',
      message: 'Waiting for the operator to observe generation 3 (the status is of generation 2)',
    });
    const stalled = await argoHealth(smc({ generation: 3, observed: 2, ready: 'False', stalled: 'True' }));
    assert.equal(stalled.status, 'Progressing', 'an old failure may be fixed by the new spec');
  });

  it('is Progressing with no status, or a status without observedGeneration or conditions', async () => {
    const bare = { metadata: { name: 'x', generation: 1 }, spec: {} };
    assert.deepEqual(await argoHealth(bare), {
      status: 'Progressing',
      message: "Waiting for the operator's first status",
    });
    assert.equal((await argoHealth({ ...bare, status: { conditions: [] } })).status, 'Progressing');
    // What the CRDs' defaults give a resource the operator has not written a status for yet.
    assert.deepEqual(await argoHealth({ ...bare, status: { observedGeneration: 0 } }), {
      status: 'Progressing',
      message: "Waiting for the operator's first status",
    });
    assert.deepEqual(await argoHealth({ ...bare, status: { observedGeneration: 1 } }), {
      status: 'Progressing',
      message: 'Waiting for the Ready condition',
    });
  });

  it('is Degraded when Stalled is True, with the Ready reason and message', async () => {
    const health = await argoHealth(
      smc({ ready: 'False', reconciling: 'False', stalled: 'True' }, { reason: 'InvalidSpec' }),
    );
    assert.deepEqual(health, { status: 'Degraded', message: 'InvalidSpec: 3 of 8 devices converged' });
    // Stalled while devices are still pending (DevicesStalled with Reconciling True) is Degraded too.
    const pending = await argoHealth(smc({ ready: 'False', reconciling: 'True', stalled: 'True' }));
    assert.equal(pending.status, 'Degraded');
  });

  it("says Stalled's reason and message when Ready is True as well: Ready's would read as healthy", async () => {
    const object = smc({ ready: 'True', reconciling: 'False' }, { reason: 'Converged' }) as any;
    object.status.conditions.push({
      type: 'Stalled',
      status: 'True',
      reason: 'RolloutHalted',
      message: 'rollout halted: 3 of 8 devices reached are stalled',
    });
    assert.deepEqual(await argoHealth(object), {
      status: 'Degraded',
      message: 'RolloutHalted: rollout halted: 3 of 8 devices reached are stalled',
    });
  });

  it('is Progressing while Ready is False or Unknown and nothing is stalled', async () => {
    for (const ready of ['False', 'Unknown'] as const) {
      const health = await argoHealth(smc({ ready, reconciling: 'True', stalled: 'False' }));
      assert.deepEqual(health, { status: 'Progressing', message: 'Progressing: 3 of 8 devices converged' });
    }
    // An IoTHub has no Reconciling condition: a hub retried after HubUnreachable.
    const hub = await argoHealth(smc({ ready: 'False', stalled: 'False' }, { reason: 'HubUnreachable' }));
    assert.equal(hub.status, 'Progressing');
  });

  it('is Suspended when spec.suspend is true, and Progressing while the object is being deleted', async () => {
    const suspended = await argoHealth(
      smc({ ready: 'False', reconciling: 'False', stalled: 'False' }, { spec: { suspend: true } }),
    );
    assert.equal(suspended.status, 'Suspended');
    assert.equal((await argoHealth(smc({ ready: 'True' }, { spec: { suspend: false } }))).status, 'Healthy');
    const deleting = await argoHealth(
      smc(
        { ready: 'False', reconciling: 'True', stalled: 'False' },
        {
          reason: 'Deleting',
          metadata: { deletionTimestamp: '2026-12-05T10:00:00Z' },
          spec: { suspend: true },
        },
      ),
    );
    assert.deepEqual(deleting, {
      status: 'Progressing',
      message: 'Being deleted (Deleting: 3 of 8 devices converged)',
    });
  });

  it('judges a TwinConfig by the same conditions: devices that rejected its values are Degraded, even while others are pending', async () => {
    const twin = (status: object) => ({
      apiVersion: 'iotsecurity.io/v1alpha1',
      kind: 'TwinConfig',
      metadata: { name: 'setpoint', namespace: 'iot', generation: 1 },
      spec: { hubRef: { name: 'hub' }, properties: { targetTemperature: 33 } },
      status,
    });
    const rejected = await argoHealth(
      twin(plannedTwinConfigStatus({ counts: { convergedDevices: 9, rejectedDevices: 3 } })),
    );
    assert.equal(rejected.status, 'Degraded');
    assert.match(
      rejected.message ?? '',
      /^DevicesRejected: 3 devices rejected the values \(pnp-000001: targetTemperature refused \(400\)/,
    );
    // Stalled and Reconciling both True: Argo CD says Degraded at once (kstatus and Flux: InProgress until none is pending).
    const pending = plannedTwinConfigStatus({
      counts: { convergedDevices: 5, pendingDevices: 4, rejectedDevices: 3 },
    });
    assert.equal((await argoHealth(twin(pending))).status, 'Degraded');
    const halted = plannedTwinConfigStatus({
      counts: { convergedDevices: 9, rejectedDevices: 3 },
      halted: true,
    });
    assert.match(
      (await argoHealth(twin(halted))).message ?? '',
      /^RolloutHalted: rollout halted: 3 of 12 devices/,
    );
    const converged = await argoHealth(twin(plannedTwinConfigStatus({ counts: { convergedDevices: 12 } })));
    assert.deepEqual(converged, {
      status: 'Healthy',
      message: 'Converged: all 12 online targeted devices report the configuration',
    });
  });

  it('judges a TwinConfig waiting for its ConfigMap, a key of it, or the right to read it, Progressing: the operator looks again by itself', async () => {
    for (const reason of ['ConfigMapNotFound', 'ConfigMapKeyMissing', 'ConfigMapUnreadable'] as const) {
      const health = await argoHealth({
        kind: 'TwinConfig',
        metadata: { name: 'setpoint', generation: 1 },
        spec: {},
        status: heldTwinConfigStatus(reason, 'ConfigMap pnp-models: ...'),
      });
      assert.deepEqual(health, { status: 'Progressing', message: `${reason}: ConfigMap pnp-models: ...` });
    }
  });

  it('uses no Lua library Argo CD withholds from health checks (string, math, os, io)', () => {
    const code = readFileSync(HEALTH_LUA, 'utf8')
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('--'))
      .join('\n');
    assert.doesNotMatch(code, /\b(string|math|os|io|debug)\s*\.|:\s*(format|sub|len|gsub|find|match)\s*\(/);
  });
});

describe('lua-health, the interpreter the tests run it with', () => {
  it('refuses a script that returns no table, and fails on a script error, as Argo CD does', async () => {
    const dir = writeTempFiles({
      'string.lua': 'return "Healthy"',
      'broken.lua': 'return obj.status.conditions[1].type',
      'strings.lua': 'hs = {}\nhs.status = string.upper("healthy")\nreturn hs',
    });
    const returnsString = await runTool('lua-health', [`${dir}/string.lua`], {});
    assert.equal(returnsString.code, 1);
    assert.match(returnsString.stderr, /returned a string, not a table/);
    const broken = await runTool('lua-health', [`${dir}/broken.lua`], { metadata: {} });
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /attempt to index/);
    const withheld = await runTool('lua-health', [`${dir}/strings.lua`], {});
    assert.equal(withheld.code, 1, 'the string library is not opened, as in Argo CD');
  });
});
