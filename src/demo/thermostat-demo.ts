// The operator demo's second part: a TwinConfig on the emulator's IoT Plug and Play thermostats. A value the model
// takes but the legacy firmware refuses is rolled out: the devices' rejections show in `kubectl get tc` (REJECTED),
// in the Events and in status.failures in the devices' own words, and the staged rollout halts after its first
// batch; the corrected value then converges.
import type { RunningEmulator } from '../emulator/index.js';
import { CURRENT_FIRMWARE, LEGACY_FIRMWARE } from '../emulator/index.js';
import {
  conditionOf,
  type DemoKube,
  isCurrent,
  isReady,
  kubectlOk,
  type ListedResource,
  listResources,
  show,
  showListing,
  watchResources,
} from './demo-kube.js';

/** The TwinConfig of examples/thermostats.yaml the demo edits. */
export const THERMOSTAT_CONFIG = 'thermostat-target';

const legacy = LEGACY_FIRMWARE.targetTemperature;
const current = CURRENT_FIRMWARE.targetTemperature;
/** Taken by the model (a double) and the current firmware, refused by the legacy one. */
const REFUSED_BY_LEGACY = current.min + 3;
/** The lowest value every firmware in the field accepts. */
const ACCEPTED_BY_ALL = Math.max(legacy.min, current.min);

/** How long the demo waits for the operator to read the last acknowledgements once the devices are idle. */
const SETTLE_MS = 15_000;

function setTargetTemperature(value: number): string[] {
  return ['--type', 'merge', '-p', JSON.stringify({ spec: { properties: { targetTemperature: value } } })];
}

async function patch(kube: DemoKube, value: number): Promise<void> {
  const args = ['patch', 'tc', THERMOSTAT_CONFIG, ...setTargetTemperature(value)];
  kube.io.out(`       $ kubectl ${args.map((a) => (a.startsWith('{') ? `'${a}'` : a)).join(' ')}`);
  await kubectlOk(kube, [...args, '-n', kube.namespace]);
}

const edited = (items: ListedResource[]) => items.find((i) => i.metadata.name === THERMOSTAT_CONFIG);

/** Stuck on the devices' refusals: a halted rollout, or rejections with nothing else to wait for. */
function refused(item: ListedResource | undefined): boolean {
  if (!item || !isCurrent(item)) return false;
  const reason = conditionOf(item, 'Ready')?.reason;
  return reason === 'RolloutHalted' || reason === 'DevicesRejected';
}

/** Runs the part; false when the deadline passed or the demo was stopped first. */
export async function runThermostatDemo(kube: DemoKube, emulator: RunningEmulator): Promise<boolean> {
  const { io, namespace } = kube;
  io.out(
    `\n${kube.elapsed()} IoT Plug and Play thermostats: the TwinConfigs of examples/thermostats.yaml set targetTemperature, judged by the`,
  );
  io.out(
    '       DTDL models of ConfigMap pnp-models before any write; a device counts as converged when it acknowledges the value',
  );
  showListing(kube, 'tc', await listResources(kube, 'tc'));

  io.out(
    `\n${kube.elapsed()} A value the legacy firmware refuses: a setback to ${REFUSED_BY_LEGACY} °C. The model takes it (a double), firmware ${CURRENT_FIRMWARE.version}`,
  );
  io.out(
    `       accepts ${current.min}..${current.max} °C, firmware ${LEGACY_FIRMWARE.version} only ${legacy.min}..${legacy.max}; the rollout goes a quarter of the thermostats at a time`,
  );
  const stats = emulator.hub.stats;
  const acceptedBefore = stats.pnpAcknowledgements(200);
  const refusedBefore = stats.pnpAcknowledgements(400);
  await patch(kube, REFUSED_BY_LEGACY);
  if (!(await watchResources(kube, 'tc', (items) => refused(edited(items))))) return false;
  // The counts are final once every device written has answered and the operator has read the answers.
  await emulator.pnpIdle();
  const settleBy = Date.now() + SETTLE_MS;
  await watchResources(kube, 'tc', (items) => {
    const status = edited(items)?.status;
    return (
      Date.now() > settleBy ||
      (status?.rejectedDevices === stats.pnpAcknowledgements(400) - refusedBefore &&
        status?.convergedDevices === stats.pnpAcknowledgements(200) - acceptedBefore)
    );
  });

  const events = await kubectlOk(kube, [
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    `involvedObject.kind=TwinConfig,involvedObject.name=${THERMOSTAT_CONFIG}`,
    // Event times have whole seconds, and a rejection often comes in the second its rollout started: the
    // resourceVersion (compared as a number by kubectl's natural sort) keeps the order they were recorded in.
    '--sort-by=.metadata.resourceVersion',
    '-o',
    'custom-columns=REASON:.reason,MESSAGE:.message',
  ]);
  io.out('');
  show(
    kube,
    `kubectl get events -n ${namespace} --field-selector involvedObject.kind=TwinConfig,involvedObject.name=${THERMOSTAT_CONFIG} --sort-by=.metadata.resourceVersion`,
    events.stdout,
  );
  const failuresPath = '{range .status.failures[*]}{.deviceId}{"  "}{.reason}{"  "}{.message}{"\\n"}{end}';
  const failures = await kubectlOk(kube, [
    'get',
    'tc',
    THERMOSTAT_CONFIG,
    '-n',
    namespace,
    '-o',
    `jsonpath=${failuresPath}`,
  ]);
  io.out('');
  show(
    kube,
    `kubectl get tc ${THERMOSTAT_CONFIG} -n ${namespace} -o jsonpath='${failuresPath}'`,
    failures.stdout,
  );
  const status = edited((await listResources(kube, 'tc')).items)?.status;
  const reached = status?.rollout?.reachedDevices ?? 0;
  const targeted = status?.targetedDevices ?? 0;
  if (status?.rollout?.halted)
    io.out(
      `       The rollout halted past its failureThreshold: ${reached} of ${targeted} thermostats were written, ${targeted - reached} never got ${REFUSED_BY_LEGACY} °C`,
    );

  io.out(
    `\n${kube.elapsed()} The correction: ${ACCEPTED_BY_ALL} °C, which every firmware in the field accepts; a changed spec starts a new rollout`,
  );
  await patch(kube, ACCEPTED_BY_ALL);
  return watchResources(kube, 'tc', (items) => items.length > 0 && items.every(isReady));
}
