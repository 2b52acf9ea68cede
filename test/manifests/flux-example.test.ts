// manifests/flux/: the Flux objects parse, refer to one another and to this repository's install, and wait for
// the resources (`wait: true`) within a timeout; their health check expressions read the operator's statuses of
// the three kinds as Flux's own evaluator does (tools/flux-health), on statuses the planner writes and objects
// shaped as the API server returns them. How kstatus reads the operator's statuses, and these expressions the statuses the operator wrote,
// is proven on the real API server in gitops-health.apiserver.test.ts. Flux itself is not run.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { Reason } from '../../src/api/reasons.js';
import { blockedSecurityModuleConfigStatus, iotHubStatus } from '../../src/planner/kubernetes-status.js';
import { readyConditions } from '../../src/planner/ready-conditions.js';
import { type FluxHealthCheck, fluxHealth } from '../support/gitops-health.js';
import { REPO } from '../support/kube.js';
import { heldTwinConfigStatus, plannedTwinConfigStatus } from '../support/planned-statuses.js';

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

const NOW = new Date('2025-06-01T12:00:00Z');
const API_VERSION = 'iotsecurity.io/v1alpha1';

/** managedFields as the API server records a create by kubectl, and a write to the status subresource. */
const CREATED = {
  manager: 'kubectl-create',
  operation: 'Update',
  apiVersion: API_VERSION,
  fieldsType: 'FieldsV1',
};
const STATUS_WRITTEN = { ...CREATED, manager: 'iot-security-operator', subresource: 'status' };

function object(
  kind: string,
  generation: number,
  status?: object,
  managedFields = [CREATED, STATUS_WRITTEN],
) {
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: { name: 'x', namespace: 'iot', generation, managedFields },
    spec: {},
    ...(status ? { status } : {}),
  };
}

/** A SecurityModuleConfig of generation `generation` whose status says `reason`, for generation `observed`. */
function config(
  reason: Reason,
  {
    pending = false,
    generation = 1,
    observed,
  }: { pending?: boolean; generation?: number; observed?: number } = {},
) {
  const conditions = readyConditions(reason, `${reason} in words`, {
    pending,
    reconciling: { on: ['Progressing', 'devices pending'], off: ['Idle', 'nothing to do'] },
    notStalled: ['NoFailures', 'no device failed or stalled'],
  });
  return object(
    'SecurityModuleConfig',
    generation,
    blockedSecurityModuleConfigStatus(conditions, undefined, {
      now: NOW,
      generation: observed ?? generation,
    }),
  );
}

/** A TwinConfig of generation `generation` carrying `status` (computed for generation 1). */
function twin(status: object, generation = 1) {
  return object('TwinConfig', generation, status);
}

function ready(status: { conditions?: { type: string; reason: string }[] }) {
  return status.conditions!.find((c) => c.type === 'Ready')!;
}

function hub(ready: Parameters<typeof iotHubStatus>[0]) {
  return object('IoTHub', 1, iotHubStatus(ready, {}, { now: NOW, generation: 1 }));
}

describe("the Flux example's health check expressions, by Flux's own evaluator", () => {
  const fleetHub = load().find((o) => o.kind === 'Kustomization' && o.spec.path !== './manifests');
  const checks: FluxHealthCheck[] = fleetHub.spec.healthCheckExprs;
  const check = (kind: string) => checks.find((c) => c.apiVersion === API_VERSION && c.kind === kind)!;
  const read = async (o: ReturnType<typeof object>) => (await fluxHealth(check(o.kind), o)).status;

  it('holds current, inProgress and failed for the three kinds, on the Kustomization that applies them', () => {
    assert.deepEqual(checks.map((c) => c.kind).sort(), ['IoTHub', 'SecurityModuleConfig', 'TwinConfig']);
    for (const c of checks)
      for (const field of ['current', 'inProgress', 'failed'] as const) assert.ok(c[field]);
    assert.equal(fleetHub.spec.wait, true);
  });

  for (const kind of ['SecurityModuleConfig', 'TwinConfig', 'IoTHub']) {
    it(`reads ${kind === 'IoTHub' ? 'an' : 'a'} ${kind} the operator has not written a status for as InProgress (kstatus: Current)`, async () => {
      assert.equal(await read(object(kind, 1, undefined, [CREATED])), 'InProgress');
      // Without managedFields to tell, the expressions fail on the absent status: Flux keeps waiting, never Current.
      assert.equal(await read(object(kind, 1, undefined, [])), 'Unknown');
    });
  }

  it('reads a converged SecurityModuleConfig Current, and the same status of an older generation InProgress', async () => {
    assert.equal(await read(config('Converged')), 'Current');
    assert.equal(await read(config('Converged', { generation: 2, observed: 1 })), 'InProgress');
  });

  it('reads a rollout InProgress, and a resource only a change can help Failed', async () => {
    assert.equal(await read(config('Progressing', { pending: true })), 'InProgress');
    for (const reason of ['InvalidSpec', 'RolloutHalted', 'DevicesStalled', 'ConflictingSettings'] as const)
      assert.equal(await read(config(reason)), 'Failed', reason);
  });

  it('reads Reconciling before Stalled, as kstatus does: failed devices while others are pending are InProgress', async () => {
    assert.equal(await read(config('DevicesFailed', { pending: true })), 'InProgress');
    assert.equal(await read(config('DevicesFailed')), 'Failed');
  });

  it('reads a suspended SecurityModuleConfig InProgress (Ready=False): keep it out of a Kustomization that waits', async () => {
    assert.equal(await read(config('Suspended')), 'InProgress');
  });

  it('reads a TwinConfig Current once its devices acknowledged, InProgress while they are pending or its status is old', async () => {
    assert.equal(await read(twin(plannedTwinConfigStatus({ counts: { convergedDevices: 12 } }))), 'Current');
    assert.equal(
      await read(twin(plannedTwinConfigStatus({ counts: { convergedDevices: 12 } }), 2)),
      'InProgress',
    );
    assert.equal(
      await read(twin(plannedTwinConfigStatus({ counts: { convergedDevices: 4, pendingDevices: 8 } }))),
      'InProgress',
    );
  });

  it('reads a TwinConfig whose devices rejected its values Failed once none is pending, and a halted rollout Failed', async () => {
    const rejected = plannedTwinConfigStatus({ counts: { convergedDevices: 9, rejectedDevices: 3 } });
    assert.equal(ready(rejected).reason, 'DevicesRejected');
    assert.equal(await read(twin(rejected)), 'Failed');
    // Reconciling before Stalled, as kstatus reads it: devices still pending keep it InProgress.
    const stillPending = plannedTwinConfigStatus({
      counts: { convergedDevices: 5, pendingDevices: 4, rejectedDevices: 3 },
    });
    assert.equal(ready(stillPending).reason, 'DevicesRejected');
    assert.equal(await read(twin(stillPending)), 'InProgress');
    const halted = plannedTwinConfigStatus({
      counts: { convergedDevices: 9, rejectedDevices: 3 },
      halted: true,
    });
    assert.equal(ready(halted).reason, 'RolloutHalted');
    assert.equal(await read(twin(halted)), 'Failed');
  });

  it('reads a TwinConfig waiting for its ConfigMap, its key or the right to read it InProgress (the operator looks again), an invalid one Failed', async () => {
    for (const reason of ['ConfigMapNotFound', 'ConfigMapKeyMissing', 'ConfigMapUnreadable'] as const)
      assert.equal(await read(twin(heldTwinConfigStatus(reason, 'pnp-models'))), 'InProgress', reason);
    assert.equal(await read(twin(heldTwinConfigStatus('InvalidSpec', 'targetTemperature'))), 'Failed');
  });

  it('reads an IoTHub Current when connected, Failed when the hub refuses the key, InProgress while unreachable', async () => {
    assert.equal(await read(hub({ ok: true, message: 'connected' })), 'Current');
    assert.equal(await read(hub({ ok: false, reason: 'Unauthorized', message: 'refused' })), 'Failed');
    assert.equal(await read(hub({ ok: false, reason: 'HubUnreachable', message: 'retrying' })), 'InProgress');
  });
});
