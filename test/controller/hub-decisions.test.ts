// What a reconcile decides, without a server: the decisions are pure functions of what it read and what the step
// did, so every branch is tried here on plain objects (the apiserver tests prove the writes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { departAll, planInputs } from '../../src/controller/config-decisions.js';
import {
  CONFIG_MAP_RECHECK_MS,
  decideAfterStep,
  decideBlocked,
  decideCleanup,
  decideWithoutHub,
  prepare,
} from '../../src/controller/hub-decisions.js';
import { hubProblemOf } from '../../src/controller/hub-problems.js';
import { retryWhileApiServerUnreachable } from '../../src/controller/hub-reconciler.js';
import type { DecisionContext, HubView } from '../../src/controller/hub-view.js';
import type { StatusChange } from '../../src/controller/kube-changes.js';
import { type ConfigObject, FINALIZER, type HubObject } from '../../src/controller/kube-objects.js';
import { isApiServerUnreachable, KubeCallError } from '../../src/controller/kube-writer.js';
import type { StepOutcome } from '../../src/engine/hub-session.js';
import { HubError, type HubErrorKind } from '../../src/hub/errors.js';
import type { HubPlan } from '../../src/planner/index.js';
import { DEFAULT_MANAGER } from '../../src/planner/ownership.js';
import { resourceRevision } from '../../src/planner/revision.js';
import { converge, FakeHub, plan, resource } from '../support/planner-fixtures.js';
import { iotHub, securityModuleConfig, twinConfig } from '../support/resources.js';

const RESYNC_MS = 60_000;

function hubObject(meta: Partial<HubObject['metadata']> = {}): HubObject {
  const hub = iotHub('hub', {}, { namespace: 'iot' }) as unknown as HubObject;
  return {
    ...hub,
    metadata: { ...hub.metadata, uid: 'hub-uid', generation: 1, finalizers: [FINALIZER], ...meta },
  };
}

function config(
  name: string,
  meta: Partial<ConfigObject['metadata']> = {},
  spec: Record<string, unknown> = {},
  status?: Record<string, unknown>,
): ConfigObject {
  const object = securityModuleConfig(
    name,
    {
      target: { condition: "tags.site = 'amsterdam'" },
      agentConfiguration: { highPriorityMessageFrequency: 'PT5M' },
      ...spec,
    },
    { namespace: 'iot' },
  ) as unknown as ConfigObject;
  return {
    ...object,
    metadata: { ...object.metadata, uid: `${name}-uid`, generation: 1, finalizers: [FINALIZER], ...meta },
    ...(status ? { status } : {}),
  };
}

/** A TwinConfig on the amsterdam devices judged by the JSON Schema in a ConfigMap's key. */
function twinConfigObject(name: string, configMapKeyRef: { name: string; key: string }): ConfigObject {
  const object = twinConfig(
    name,
    {
      target: { condition: "tags.site = 'amsterdam'" },
      properties: { targetTemperature: 21 },
      schema: { configMapKeyRef },
    },
    { namespace: 'iot' },
  ) as unknown as ConfigObject;
  return {
    ...object,
    metadata: { ...object.metadata, uid: `${name}-uid`, generation: 1, finalizers: [FINALIZER] },
  };
}

function context(extra: Partial<DecisionContext> = {}): DecisionContext {
  return {
    now: new Date(Date.UTC(2026, 11, 5)),
    manager: DEFAULT_MANAGER,
    resyncMs: RESYNC_MS,
    statuses: new Map(),
    hubNames: new Set(['hub']),
    cleaned: new Map(),
    ...extra,
  };
}

function view(hub: HubObject | undefined, current: ConfigObject[], away: ConfigObject[] = []): HubView {
  return { key: 'iot/hub', namespace: 'iot', name: 'hub', hub, current, away };
}

/** A step's outcome over a fake hub the planner has converged (or only planned, when `converged` is false). */
function stepOutcome(fake: FakeHub, finalPlan: HubPlan): StepOutcome {
  return {
    initialPlan: finalPlan,
    finalPlan,
    snapshot: fake.snapshot(),
    writesSucceeded: 0,
    writtenTwins: [],
    writesFailed: 0,
    conflictsReplanned: 0,
    modulesCreated: 0,
    interrupted: false,
    read: 'full',
    waiting: false,
    nextStepInMs: 12_345,
    devices: fake.devices.length,
  };
}

function amsterdamFleet(): FakeHub {
  const fake = new FakeHub();
  for (let i = 0; i < 3; i++) fake.addDevice(`ams-${i}`, { site: 'amsterdam' });
  return fake;
}

const baselineResource = resource(
  'iot/baseline',
  { highPriorityMessageFrequency: 'PT5M' },
  { target: { condition: "tags.site = 'amsterdam'" } },
);

const statusOf = (changes: StatusChange[], name: string) =>
  changes.find((c) => c.object.metadata.name === name)!;
const ready = (change: StatusChange) => change.status.conditions!.find((c) => c.type === 'Ready')!;
const stalled = (change: StatusChange) => change.status.conditions!.find((c) => c.type === 'Stalled')!;

describe('what a reconcile decides', () => {
  it('puts the finalizer on the IoTHub and its resources before anything is written, and lets Retain go at once', () => {
    const changes = prepare(
      view(hubObject({ finalizers: [] }), [
        config('fresh', { finalizers: [] }),
        config('kept'),
        config('retained', { deletionTimestamp: '2026-12-05T00:00:00Z' }, { deletionPolicy: 'Retain' }),
      ]),
    );
    assert.deepEqual(
      changes.addFinalizers.map((c) => `${c.kind}/${c.object.metadata.name}`),
      ['IoTHub/hub', 'SecurityModuleConfig/fresh'],
    );
    assert.deepEqual(
      changes.removeFinalizers.map((c) => c.object.metadata.name),
      ['retained'],
    );
  });

  it('holds an invalid resource and one without its finalizer; plans the rest; a deleting one departs', () => {
    const inputs = planInputs(
      view(hubObject(), [
        config('baseline'),
        config('broken', {}, { priority: 7, agentConfiguration: { maxMessageSizeInBytes: 1 } }),
        config('unfinalized', { finalizers: [] }),
        config('going', { deletionTimestamp: '2026-12-05T00:00:00Z' }),
      ]),
      (c) => c.metadata.name !== 'unfinalized',
    );
    assert.deepEqual(
      inputs.resources.map((r) => r.key),
      ['iot/baseline'],
    );
    assert.equal(inputs.heldBecause.get('iot/broken')?.reason, 'InvalidSpec');
    assert.equal(
      inputs.held.get('iot/broken'),
      7,
      'held at its priority: lower layers do not take its settings',
    );
    assert.equal(inputs.heldBecause.get('iot/unfinalized')?.reason, 'FinalizerMissing');
    assert.equal(inputs.departing.get('iot/going'), 'Remove');
  });

  it('tells the session which resources their status shows rolling out the revision they ask for now', () => {
    const first = planInputs(view(hubObject(), [config('baseline')]), () => true);
    const revision = resourceRevision(first.resources[0]);
    const withStatus = (name: string, rollout: Record<string, unknown>) => {
      const object = config(name);
      (object as { status?: unknown }).status = { rollout };
      return object;
    };
    const inputs = planInputs(
      view(hubObject(), [
        withStatus('reached', { revision, reachedDevices: 3 }),
        withStatus('halted', { revision, reachedDevices: 0, halted: true }),
        withStatus('older', { revision: 'an-older-revision', reachedDevices: 3 }),
        withStatus('unreached', { revision, reachedDevices: 0 }),
      ]),
      () => true,
    );
    assert.deepEqual([...inputs.rolloutsRecorded].sort(), ['iot/halted', 'iot/reached']);
  });

  it('without an IoTHub: its resources say HubNotFound (Stalled), and a deleting one lets go', () => {
    const decision = decideWithoutHub(
      view(undefined, [config('orphan'), config('going', { deletionTimestamp: '2026-12-05T00:00:00Z' })]),
      context(),
    );
    const orphan = statusOf(decision.changes.statuses, 'orphan');
    assert.deepEqual([ready(orphan).reason, stalled(orphan).status], ['HubNotFound', 'True']);
    assert.deepEqual(
      orphan.events.map((e) => `${e.type}/${e.reason}`),
      ['Warning/HubNotFound'],
    );
    assert.deepEqual(
      decision.changes.removeFinalizers.map((c) => c.object.metadata.name),
      ['going'],
    );
    assert.deepEqual([decision.result, decision.dropHub], [{ kind: 'done' }, true], 'nothing is kept for it');
  });

  it('refused credentials: the hub and its resources say Unauthorized, and only the resync brings it back', () => {
    const decision = decideBlocked(
      { ...view(hubObject(), [config('baseline')]), hub: hubObject() },
      { reason: 'Unauthorized', message: 'the hub refused the key' },
      context(),
      { letGo: false },
    );
    const hub = statusOf(decision.changes.statuses, 'hub');
    assert.deepEqual([ready(hub).reason, stalled(hub).status], ['Unauthorized', 'True']);
    assert.deepEqual(
      hub.events.map((e) => e.type),
      ['Warning'],
    );
    const baseline = statusOf(decision.changes.statuses, 'baseline');
    assert.match(ready(baseline).message, /^hub iot\/hub is not Ready \(Unauthorized\)/);
    assert.equal(decision.result.kind, 'terminal');
    assert.equal(decision.result.kind === 'terminal' && decision.result.requeueAfterMs, RESYNC_MS);
  });

  it('an unreachable hub is retried after its backoff, and a deleted IoTHub waits for it rather than letting go', () => {
    const deleting = hubObject({ deletionTimestamp: '2026-12-05T00:00:00Z' });
    const unreachable = { reason: 'HubUnreachable', message: 'no answer' } as const;
    const failed = decideBlocked({ ...view(deleting, []), hub: deleting }, unreachable, context(), {
      letGo: false,
    });
    assert.equal(failed.result.kind, 'retry');
    assert.deepEqual(failed.changes.removeFinalizers, []);
    // Its spec or Secret makes the hub unusable: nothing can clean its twins, so it lets go.
    const unusable = decideBlocked(
      { ...view(deleting, []), hub: deleting },
      { reason: 'SecretNotFound', message: 'gone' },
      context(),
      { letGo: true },
    );
    assert.deepEqual(
      unusable.changes.removeFinalizers.map((c) => c.kind),
      ['IoTHub'],
    );
  });

  it('after a step: the statuses with their Events, and the next step when the session says', () => {
    const fake = amsterdamFleet();
    const plan = converge(fake, [baselineResource]);
    const baseline = config('baseline');
    const decision = decideAfterStep(
      { ...view(hubObject(), [baseline]), hub: hubObject() },
      planInputs(view(hubObject(), [baseline]), () => true),
      stepOutcome(fake, plan),
      'hub.example',
      context(),
    );
    const hub = statusOf(decision.changes.statuses, 'hub');
    assert.match(ready(hub).message, /connected to hub.example: 3 devices/);
    const status = statusOf(decision.changes.statuses, 'baseline');
    assert.equal(ready(status).reason, 'Converged');
    assert.deepEqual((status.status as { hubs?: string[] }).hubs, ['hub']);
    assert.deepEqual(
      status.events.map((e) => e.reason),
      ['RolloutStarted', 'Converged'],
    );
    assert.deepEqual(decision.result, { kind: 'done', requeueAfterMs: 12_345 });
  });

  it('holds only the TwinConfig whose ConfigMap cannot be read, steps the others, and comes back within 10 s', () => {
    const fake = amsterdamFleet();
    const plan = converge(fake, [baselineResource]);
    const baseline = config('baseline');
    const setpoint = twinConfigObject('setpoint', { name: 'pnp-models', key: 'thermostat-1.json' });
    const refused = new KubeCallError(
      403,
      `not allowed to get ConfigMap iot/pnp-models: configmaps "pnp-models" is forbidden; grant get on configmaps to the operator's ServiceAccount (see manifests/)`,
    );
    const hubView = view(hubObject(), [baseline, setpoint]);
    const inputs = planInputs(
      hubView,
      () => true,
      new Map([['pnp-models', { found: false, unreadable: refused }]]),
    );
    assert.deepEqual(
      inputs.resources.map((r) => r.key),
      ['iot/baseline'],
    );
    assert.deepEqual(inputs.held, new Map([['iot/TwinConfig/setpoint', 0]]), 'held: its settings stay');
    const decision = decideAfterStep(
      { ...hubView, hub: hubObject() },
      inputs,
      stepOutcome(fake, plan),
      'hub.example',
      context(),
    );
    assert.equal(ready(statusOf(decision.changes.statuses, 'baseline')).reason, 'Converged');
    const held = statusOf(decision.changes.statuses, 'setpoint');
    assert.equal(ready(held).reason, 'ConfigMapUnreadable');
    assert.match(
      ready(held).message,
      /^spec\.schema\.configMapKeyRef: not allowed to get ConfigMap iot\/pnp-models: .*grant get on configmaps/,
    );
    assert.equal(held.status.conditions!.find((c) => c.type === 'Reconciling')?.status, 'True');
    assert.equal(stalled(held).status, 'False');
    assert.deepEqual(
      held.events.map((e) => [e.type, e.reason]),
      [['Warning', 'ConfigMapUnreadable']],
    );
    assert.deepEqual(decision.result, { kind: 'done', requeueAfterMs: CONFIG_MAP_RECHECK_MS });
  });

  it('retries the hub as the queue retries an unreachable API server when a ConfigMap read got no answer', () => {
    const unanswered = new KubeCallError(0, 'get ConfigMap iot/pnp-models failed: socket hang up');
    const refused = new KubeCallError(403, 'not allowed to get ConfigMap iot/pnp-models');
    const done = { kind: 'done', requeueAfterMs: CONFIG_MAP_RECHECK_MS } as const;
    const after = (read: KubeCallError) =>
      retryWhileApiServerUnreachable(done, new Map([['pnp-models', { found: false, unreadable: read }]]));
    const retried = after(unanswered);
    assert.equal(retried.kind, 'retry');
    assert.ok(
      isApiServerUnreachable(retried.kind === 'retry' && retried.error),
      'the queue waits for a watch',
    );
    assert.deepEqual(after(refused), done, 'a refusal the API server answered holds the TwinConfig alone');
    assert.deepEqual(after(new KubeCallError(502, 'bad gateway')).kind, 'retry');
  });

  it('hands a resource that moved away to its new hub once these twins hold nothing of it', () => {
    const fake = amsterdamFleet();
    const plan = converge(fake, []);
    const moved = config('moved', {}, { hubRef: { name: 'other' } }, { hubs: ['hub'] });
    const decision = decideAfterStep(
      { ...view(hubObject(), [], [moved]), hub: hubObject() },
      planInputs(view(hubObject(), [], [moved]), () => true),
      stepOutcome(fake, plan),
      'hub.example',
      context(),
    );
    assert.deepEqual(decision.changes.cleaned, ['moved-uid']);
    assert.deepEqual(decision.changes.enqueue, ['iot/other']);
  });

  it('a deleted IoTHub takes its resources off its twins, then lets go and is forgotten', () => {
    const fake = amsterdamFleet();
    converge(fake, [baselineResource]);
    const deleting = hubObject({ deletionTimestamp: '2026-12-05T00:00:00Z' });
    const baseline = config('baseline');
    const inputs = departAll(view(deleting, [baseline]));
    assert.deepEqual([...inputs.departing], [['iot/baseline', 'Remove']], 'every resource departs');
    const removing = plan(fake, [], { departing: inputs.departing });
    assert.ok(removing.writes.length > 0, 'the step removes the baseline from the twins');
    const still = decideCleanup(
      { ...view(deleting, [baseline]), hub: deleting },
      inputs,
      stepOutcome(fake, removing),
      context(),
    );
    assert.equal(still.dropHub, false, 'its twins still hold the baseline: it waits');
    assert.ok(!still.changes.removeFinalizers.some((c) => c.kind === 'IoTHub'));
    assert.equal(ready(statusOf(still.changes.statuses, 'baseline')).reason, 'Deleting');
    assert.match(ready(statusOf(still.changes.statuses, 'hub')).message, /being deleted/);

    fake.apply(removing.writes);
    const done = decideCleanup(
      { ...view(deleting, [baseline]), hub: deleting },
      inputs,
      stepOutcome(fake, plan(fake, [], { departing: inputs.departing })),
      context(),
    );
    assert.deepEqual(
      done.changes.removeFinalizers.map((c) => `${c.kind}/${c.object.metadata.name}`),
      ['IoTHub/hub'],
      'the baseline keeps its finalizer (only its own deletion removes it); the IoTHub lets go',
    );
    assert.deepEqual([done.dropHub, done.result], [true, { kind: 'done' }]);
  });
});

describe('hubProblemOf', () => {
  it('tells a refused key, a used-up daily quota, a throttled hub and an unreachable one apart', () => {
    const problem = (kind: HubErrorKind, statusCode?: number) =>
      hubProblemOf(new HubError({ kind, statusCode, message: 'm', hubName: 'h' }), 'h.example').reason;
    assert.equal(problem('Unauthorized', 401), 'Unauthorized');
    assert.equal(problem('Configuration'), 'InvalidHubConfiguration');
    assert.equal(problem('Throttled', 403), 'QuotaExceeded');
    assert.equal(problem('Throttled', 429), 'HubThrottled');
    assert.equal(problem('Transient', 503), 'HubUnreachable');
    assert.equal(hubProblemOf(new Error('socket hang up'), 'h.example').reason, 'HubUnreachable');
  });
});
