// What a reconcile decides for each resource of a hub (SecurityModuleConfigs and TwinConfigs): which are planned,
// held or departing before the step, and after it (or when the hub cannot be used) the status each gets or the
// finalizer it loses. Pure: the ConfigMaps TwinConfigs name were read before.
import type { SecurityModuleConfig, TwinConfig } from '../api/generated/types.js';
import type { StepOutcome } from '../engine/hub-session.js';
import {
  blockedConditions,
  blockedSecurityModuleConfigStatus,
  securityModuleConfigStatus,
  twinConfigStatus,
} from '../planner/kubernetes-status.js';
import { toPlannedResource } from '../planner/resource-input.js';
import type { PlannedCondition, ResourceReport } from '../planner/resource-report.js';
import { resourceRevision } from '../planner/revision.js';
import type { PlannedResource } from '../planner/types.js';
import type { TwinSlot } from '../twins/types.js';
import type { ConfigMapRead } from './config-maps.js';
import { type HubProblem, issuesText } from './hub-problems.js';
import {
  type DecisionContext,
  type ExistingHubView,
  type HubView,
  isDeleting,
  otherHubs,
  ownedTwins,
  statusContext,
  statusOf,
} from './hub-view.js';
import { configStatusChange, type KubeChanges, noChanges } from './kube-changes.js';
import {
  asWritten,
  type ConfigObject,
  configKindOf,
  FINALIZER,
  type HubObject,
  objectKey,
  resourceKeyOf,
  slotOf,
  type TwinConfigObject,
} from './kube-objects.js';
import { type ValidateConfig, validateConfig } from './validation-memo.js';

export interface PlanInputs {
  resources: PlannedResource[];
  held: Map<string, number>;
  departing: Map<string, 'Remove' | 'Retain'>;
  /** Why a resource of this hub is held, by key: an invalid spec, no finalizer yet, its ConfigMap missing or unreadable. */
  heldBecause: Map<string, { reason: HeldReason; message: string }>;
  /** The twin slots of every resource of the hub, planned or not: their twins are read. */
  slots: Set<TwinSlot>;
  /**
   * Planned resources whose status records a rollout of the revision they ask for now (devices reached, or halted):
   * a process that has not read the hub yet (the operator restarted) writes none of their twins before the whole
   * read is planned, as a rollout under way must be judged on all its devices (see early writes in reconcile-hub.ts).
   */
  rolloutsRecorded: Set<string>;
}

export type HeldReason =
  | 'InvalidSpec'
  | 'FinalizerMissing'
  | 'ConfigMapNotFound'
  | 'ConfigMapKeyMissing'
  | 'ConfigMapUnreadable';

/** The ConfigMaps of a namespace that resources name, as read for this reconcile, by name. */
export type ReadConfigMaps = ReadonlyMap<string, ConfigMapRead>;

/** Why a TwinConfig's ConfigMap (or its key) is not there to judge it by, or nothing when it is. */
function missingConfigMap(
  config: ConfigObject,
  configMaps: ReadConfigMaps,
): { reason: HeldReason; message: string } | undefined {
  const ref =
    configKindOf(config) === 'TwinConfig'
      ? (config as TwinConfigObject).spec?.schema?.configMapKeyRef
      : undefined;
  if (!ref) return undefined;
  const where = `ConfigMap ${config.metadata.namespace}/${ref.name}`;
  const read = configMaps.get(ref.name);
  if (read && !read.found && read.unreadable)
    return {
      reason: 'ConfigMapUnreadable',
      message: `spec.schema.configMapKeyRef: ${read.unreadable.message}; nothing is written for this resource until it can be read (the hub's other resources go on)`,
    };
  if (!read?.found)
    return {
      reason: 'ConfigMapNotFound',
      message: `${where} (spec.schema.configMapKeyRef) does not exist: nothing is written for this resource until it does`,
    };
  if (read.data[ref.key] === undefined) {
    const keys = Object.keys(read.data).sort();
    return {
      reason: 'ConfigMapKeyMissing',
      message: `${where} has no key '${ref.key}' (spec.schema.configMapKeyRef.key); it has ${keys.length ? keys.slice(0, 10).join(', ') : 'no keys'}`,
    };
  }
  return undefined;
}

const policy = (c: ConfigObject) => (c.spec?.deletionPolicy === 'Retain' ? 'Retain' : 'Remove');
const retainedOnDelete = (c: ConfigObject) => isDeleting(c) && c.spec?.deletionPolicy === 'Retain';

/** Resources that point elsewhere now, and those being deleted, depart: their deletionPolicy applies. */
function departures(view: HubView, inputs: PlanInputs): void {
  for (const config of view.away) inputs.departing.set(resourceKeyOf(config), policy(config));
  for (const config of view.current)
    if (isDeleting(config)) inputs.departing.set(resourceKeyOf(config), policy(config));
}

const emptyInputs = (view: HubView): PlanInputs => ({
  resources: [],
  held: new Map(),
  departing: new Map(),
  heldBecause: new Map(),
  slots: new Set([...view.current, ...view.away].map(slotOf)),
  rolloutsRecorded: new Set(),
});

/** Whether a resource's status records a rollout of `revision` under way: devices reached at it, or halted. */
function rolloutRecorded(config: ConfigObject, revision: string): boolean {
  const rollout = config.status?.rollout;
  return rollout?.revision === revision && ((rollout.reachedDevices ?? 0) > 0 || rollout.halted === true);
}

/**
 * The IoTHub is in use: valid resources are planned; invalid ones (or without the finalizer yet) held as they are.
 * `validate` is the shared validator, or the controller's memory of its verdicts (validation-memo.ts).
 */
export function planInputs(
  view: HubView,
  finalized: (config: ConfigObject) => boolean,
  configMaps: ReadConfigMaps = new Map(),
  validate: ValidateConfig = validateConfig,
): PlanInputs {
  const inputs = emptyInputs(view);
  departures(view, inputs);
  for (const config of view.current) {
    if (isDeleting(config)) continue;
    const key = resourceKeyOf(config);
    const priority = Number.isInteger(config.spec?.priority) ? (config.spec.priority as number) : 0;
    const missing = missingConfigMap(config, configMaps);
    if (missing) {
      inputs.held.set(key, priority);
      inputs.heldBecause.set(key, missing);
      continue;
    }
    const validation = validate(config, asWritten(config), configMaps);
    const errors = validation.issues.filter((i) => i.severity === 'error');
    if (errors.length || !validation.resource) {
      inputs.held.set(key, priority);
      inputs.heldBecause.set(key, {
        reason: 'InvalidSpec',
        message: `the spec is invalid, nothing is written for it and the settings it set stay as they are: ${issuesText(errors)}`,
      });
    } else if (!finalized(config)) {
      inputs.held.set(key, priority);
      inputs.heldBecause.set(key, {
        reason: 'FinalizerMissing',
        message: `nothing is written before the finalizer ${FINALIZER} is on the resource (it could not be added; see the operator's log)`,
      });
    } else {
      const resource = toPlannedResource(validation.resource as SecurityModuleConfig | TwinConfig);
      inputs.resources.push(resource);
      if (rolloutRecorded(config, resourceRevision(resource))) inputs.rolloutsRecorded.add(key);
    }
  }
  return inputs;
}

/** The IoTHub is being deleted: every resource departs by its deletionPolicy. */
export function departAll(view: HubView): PlanInputs {
  const inputs = emptyInputs(view);
  departures(view, inputs);
  for (const config of view.current) inputs.departing.set(resourceKeyOf(config), policy(config));
  return inputs;
}

/** deletionPolicy Retain lets go at once, whether or not the hub can be reached. */
export function releaseRetained(view: HubView): KubeChanges['removeFinalizers'] {
  return view.current
    .filter(retainedOnDelete)
    .map((config) => ({ kind: configKindOf(config), object: config }));
}

/** A resource's status from the planner's report of it, by its kind. */
function reportStatus(
  config: ConfigObject,
  report: ResourceReport,
  context: DecisionContext,
  hubs: string[],
) {
  const status = statusContext(config, context, { hubs });
  return configKindOf(config) === 'TwinConfig'
    ? twinConfigStatus(report, status)
    : securityModuleConfigStatus(report, status);
}

/** A status that keeps the counts the resource carried, with new conditions. */
function blockedStatus(
  config: ConfigObject,
  conditions: PlannedCondition[],
  context: DecisionContext,
  hubs?: string[],
) {
  const before = statusOf(config, context);
  const status = blockedSecurityModuleConfigStatus(
    conditions,
    before,
    statusContext(config, context, hubs === undefined ? {} : { hubs }),
  );
  return configStatusChange(config, status, before);
}

/**
 * After a step: the status of every resource of the hub; a deleting one lets go once no twin of any hub it may have
 * written holds its settings. `remaining`: how many resources still hold settings on this hub's twins.
 */
export function configsAfterStep(
  view: ExistingHubView,
  inputs: PlanInputs,
  outcome: StepOutcome,
  context: DecisionContext,
): { changes: KubeChanges; remaining: number } {
  const changes = noChanges();
  let remaining = 0;
  for (const config of view.current) {
    const key = resourceKeyOf(config);
    const owned = ownedTwins(config, outcome.snapshot, context.manager);
    if (owned > 0) remaining++;
    const others = otherHubs(config, view.name, context);
    const hubs = owned > 0 || !inputs.departing.has(key) ? [view.name, ...others].sort() : others;
    if (inputs.departing.has(key)) {
      if (retainedOnDelete(config)) continue;
      if (isDeleting(config) && owned === 0 && others.length === 0) {
        changes.removeFinalizers.push({ kind: configKindOf(config), object: config });
        continue;
      }
      const conditions = departingConditions(view.hub, config, owned, others, outcome);
      changes.statuses.push(blockedStatus(config, conditions, context, hubs));
      continue;
    }
    const held = inputs.heldBecause.get(key);
    const report = outcome.finalPlan.reports.get(key);
    if (held) {
      changes.statuses.push(
        blockedStatus(config, blockedConditions(held.reason, held.message), context, hubs),
      );
    } else if (report) {
      const before = statusOf(config, context);
      changes.statuses.push(configStatusChange(config, reportStatus(config, report, context, hubs), before));
    }
  }
  return { changes, remaining };
}

function departingConditions(
  hub: HubObject,
  config: ConfigObject,
  owned: number,
  others: string[],
  outcome: StepOutcome,
): PlannedCondition[] {
  const key = resourceKeyOf(config);
  const why = isDeleting(config)
    ? 'before the finalizer goes'
    : `the IoTHub ${hub.metadata.name} is being deleted`;
  if (owned === 0)
    return blockedConditions(
      'Deleting',
      `waiting for the twins of ${others.join(', ')} to let go of its settings ${why}`,
    );
  // Still owned, and nothing planned to remove it: the hub refuses the writes, or the result would be invalid.
  const removing = outcome.finalPlan.foreignOwners.some((o) => o.owner === key && o.fate !== 'kept');
  if (removing || outcome.interrupted)
    return blockedConditions(
      'Deleting',
      `removing the settings it manages from ${owned} device twin${owned === 1 ? '' : 's'} ${why} (set spec.deletionPolicy: Retain to leave them and let go now)`,
    );
  return blockedConditions(
    'DeletionBlocked',
    `${owned} device twin${owned === 1 ? '' : 's'} still hold its settings and cannot be written (the hub refuses the write, or the configuration left would be invalid: see the other resources' failures); set spec.deletionPolicy: Retain to leave them and let go`,
  );
}

/**
 * The status of the hub's resources when the hub cannot be used (`hub` undefined: there is no IoTHub); deleting
 * ones wait, or go (Retain, or nothing left that they could have written).
 */
export function configsWithoutHub(view: HubView, problem: HubProblem, context: DecisionContext): KubeChanges {
  const changes = noChanges();
  const hub = view.hub;
  for (const config of view.current) {
    if (retainedOnDelete(config)) continue;
    const others = otherHubs(config, config.spec?.hubRef?.name ?? '', context);
    // No IoTHub: nothing of its twins can be reached or remains ours to clean (a deleted IoTHub cleaned them).
    if (!hub && isDeleting(config) && others.length === 0) {
      changes.removeFinalizers.push({ kind: configKindOf(config), object: config });
      continue;
    }
    const conditions = isDeleting(config)
      ? blockedConditions(
          'DeletionBlocked',
          `waiting to remove the settings it manages: ${problem.message}; set spec.deletionPolicy: Retain to leave them on the twins and let go now`,
          problem.reason,
        )
      : blockedConditions(
          problem.reason,
          hub
            ? `hub ${objectKey(hub.metadata)} is not Ready (${problem.reason}): ${problem.message}`
            : problem.message,
        );
    changes.statuses.push(blockedStatus(config, conditions, context, hub ? undefined : others));
  }
  return changes;
}
