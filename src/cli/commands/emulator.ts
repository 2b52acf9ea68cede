// `iot-security-operator emulator`: runs the IoT Hub emulator until SIGINT or SIGTERM. Prints one JSON line
// on stdout once listening ({endpoint, hostName, connectionString, caFile}); logs go to stderr.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkFaultConfig, isRatio } from '../../emulator/faults.js';
import {
  checkEntraOptions,
  describeQuota,
  type EmulatorLog,
  type EmulatorOptions,
  type EntraOptions,
  type FaultConfig,
  MANAGED_IDENTITY_PATH,
  type QuotaOverrides,
  startEmulator,
} from '../../emulator/index.js';
import { createLogger, type LoggerOptions } from '../../observability/logger.js';
import {
  checkTierUnits,
  HUB_TIERS,
  isHubTier,
  OPERATION_CLASSES,
  type OperationClass,
} from '../../quotas/index.js';
import { type CommandIo, processIo, UsageError } from '../command-io.js';

export const EMULATOR_USAGE = `Usage: iot-security-operator emulator [options]

Runs an Azure IoT Hub emulator (HTTPS, service API 2021-04-12) with simulated security agents and IoT Plug
and Play devices.

Options:
  --host ADDRESS           address to listen on (default 127.0.0.1)
  --port N                 port, 0 for any free one (default 0)
  --devices N              seed N devices, each with an azureiotsecurity module and tags (default 0)
  --tier S1|S2|S3|F1       hub tier whose quotas apply (default S1)
  --units N                hub units (default 1)
  --seed N                 makes the fleet and the policy key reproducible (default random)
  --state FILE             keep devices, twins, keys and certificates in FILE across restarts
  --agent-delay MIN..MAX   ms an agent takes to apply a desired configuration (default 50..500)
  --offline-ratio R        share of devices that start offline, 0..1 (default 0)
  --lowercase-agents R     share of agents writing priorities in lower case, 0..1 (default 0)
  --pnp-devices N          seed N IoT Plug and Play devices (pnp-000001...), thermostats and temperature
                           controllers that acknowledge writable properties after --agent-delay (default 0)
  --pnp-controllers R      share of them that are temperature controllers, the rest thermostats (default 0.5)
  --pnp-legacy-firmware R  share of PnP devices on the legacy firmware, which accepts target temperatures
                           10..30 instead of 5..35 (default 0.25)
  --pnp-slow R             share of PnP devices that are slow (default 0.1)
  --pnp-slow-delay MIN..MAX
                           ms a slow PnP device takes to act on a change (default 2000..5000)
  --query-lag MS           writes reach queries only after MS milliseconds (default 0)
  --no-throttle            turn the tier's quotas off (--quota overrides still apply)
  --quota CLASS=N/s|N/min  replace the quota of one operation class, e.g. twinUpdate=20/s (repeatable);
                           classes: ${OPERATION_CLASSES.join(', ')}
  --faults JSON            fault configuration at start, as PUT /_emulator/faults takes it, e.g.
                           '{"twinUpdate":{"errorRatio":0.1,"errorStatuses":[503]}}'
  --entra FILE             play Microsoft Entra ID too: a token authority on the same port for the tenant,
                           apps, managed identities, trusted issuers and hub role assignments FILE (JSON)
                           describes (docs/entra-id.md); a file, as it holds client secrets
  --no-local-auth          refuse shared access signatures on the hub API (Entra ID tokens only)
  -h, --help               show this help`;

function integer(name: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${text}'`);
  }
  return value;
}

function ratio(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !isRatio(value))
    throw new UsageError(`--${name} must be between 0 and 1, not '${text}'`);
  return value;
}

function delayRange(name: string, text: string): { min: number; max: number } {
  const match = /^(\d+)\.\.(\d+)$/.exec(text.trim());
  if (!match || Number(match[1]) > Number(match[2])) {
    throw new UsageError(
      `--${name} must be MIN..MAX milliseconds with MIN <= MAX, such as 50..500, not '${text}'`,
    );
  }
  return { min: Number(match[1]), max: Number(match[2]) };
}

const QUOTA_WINDOWS: Record<string, number> = { s: 1000, min: 60_000 };

/** `--quota CLASS=N/s` or `CLASS=N/min`, repeatable, one per class. */
function quotaOverrides(texts: string[]): QuotaOverrides {
  const overrides: QuotaOverrides = {};
  for (const text of texts) {
    const match = /^([^=]*)=(.*)$/.exec(text.trim());
    if (!match) {
      throw new UsageError(
        `--quota must be CLASS=N/s or CLASS=N/min, such as twinUpdate=20/s, not '${text}'`,
      );
    }
    const operation = match[1].trim();
    if (!(OPERATION_CLASSES as readonly string[]).includes(operation)) {
      throw new UsageError(
        `--quota: unknown operation class '${operation}'; use one of ${OPERATION_CLASSES.join(', ')}`,
      );
    }
    const rate = /^(\d+)\/(s|min)$/.exec(match[2].trim());
    const limit = rate ? Number(rate[1]) : Number.NaN;
    if (!rate || !(limit >= 1 && Number.isSafeInteger(limit))) {
      throw new UsageError(
        `--quota ${operation} must be a whole number of at least 1 per second or minute, such as ${operation}=20/s or ${operation}=100/min, not '${match[2]}'`,
      );
    }
    if (overrides[operation as OperationClass]) {
      throw new UsageError(`--quota ${operation} is given more than once`);
    }
    overrides[operation as OperationClass] = { limit, windowMs: QUOTA_WINDOWS[rate[2]] };
  }
  return overrides;
}

/** `--faults JSON`, checked as the admin API checks it. */
function faultConfig(text: string): FaultConfig {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--faults must be JSON: ${(error as Error).message}`);
  }
  try {
    return checkFaultConfig(config);
  } catch (error) {
    throw new UsageError(`--faults is not a valid fault configuration: ${(error as Error).message}`);
  }
}

function entraConfig(path: string): EntraOptions {
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--entra ${path} must be a readable JSON file: ${(error as Error).message}`);
  }
  try {
    return checkEntraOptions(config);
  } catch (error) {
    throw new UsageError(`--entra ${path}: ${(error as Error).message}`);
  }
}

/** The IoT Plug and Play options given (those not given are left out, so the emulator's defaults apply). */
function pnpOptions(values: Record<string, string | boolean | string[] | undefined>): EmulatorOptions {
  const text = (name: string) => values[name] as string | undefined;
  const options: EmulatorOptions = {};
  const devices = text('pnp-devices');
  if (devices !== undefined) options.pnpDevices = integer('pnp-devices', devices, 0, 10_000_000);
  const controllers = text('pnp-controllers');
  if (controllers !== undefined) options.pnpControllerRatio = ratio('pnp-controllers', controllers);
  const legacy = text('pnp-legacy-firmware');
  if (legacy !== undefined) options.pnpLegacyRatio = ratio('pnp-legacy-firmware', legacy);
  const slow = text('pnp-slow');
  if (slow !== undefined) options.pnpSlowRatio = ratio('pnp-slow', slow);
  const slowDelay = text('pnp-slow-delay');
  if (slowDelay !== undefined) options.pnpSlowDelay = delayRange('pnp-slow-delay', slowDelay);
  return options;
}

/** The emulator options a command line asks for; throws a UsageError naming the bad option. */
export function parseEmulatorArgs(argv: string[]): EmulatorOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      devices: { type: 'string' },
      tier: { type: 'string' },
      units: { type: 'string' },
      seed: { type: 'string' },
      state: { type: 'string' },
      'agent-delay': { type: 'string' },
      'offline-ratio': { type: 'string' },
      'lowercase-agents': { type: 'string' },
      'pnp-devices': { type: 'string' },
      'pnp-controllers': { type: 'string' },
      'pnp-legacy-firmware': { type: 'string' },
      'pnp-slow': { type: 'string' },
      'pnp-slow-delay': { type: 'string' },
      'query-lag': { type: 'string' },
      'no-throttle': { type: 'boolean' },
      quota: { type: 'string', multiple: true },
      faults: { type: 'string' },
      entra: { type: 'string' },
      'no-local-auth': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const tier = values.tier ?? 'S1';
  if (!isHubTier(tier)) throw new UsageError(`--tier must be one of ${HUB_TIERS.join(', ')}, not '${tier}'`);
  const options: EmulatorOptions = {
    host: values.host ?? '127.0.0.1',
    port: values.port === undefined ? 0 : integer('port', values.port, 0, 65535),
    devices: values.devices === undefined ? 0 : integer('devices', values.devices, 0, 10_000_000),
    tier,
    units: values.units === undefined ? 1 : integer('units', values.units, 1, 200),
    seed: values.seed === undefined ? undefined : integer('seed', values.seed, 0, 2 ** 32 - 1),
    statePath: values.state,
    agentDelay:
      values['agent-delay'] === undefined ? undefined : delayRange('agent-delay', values['agent-delay']),
    offlineRatio: values['offline-ratio'] === undefined ? 0 : ratio('offline-ratio', values['offline-ratio']),
    lowercaseRatio:
      values['lowercase-agents'] === undefined ? 0 : ratio('lowercase-agents', values['lowercase-agents']),
    queryLagMs: values['query-lag'] === undefined ? 0 : integer('query-lag', values['query-lag'], 0),
    throttle: !values['no-throttle'],
  };
  const tierProblem = checkTierUnits(tier, options.units!);
  if (tierProblem) throw new UsageError(`--tier ${tier} --units ${options.units}: ${tierProblem}`);
  if (values.quota?.length) options.quotas = quotaOverrides(values.quota);
  if (values.faults !== undefined) options.faults = faultConfig(values.faults);
  if (values.entra !== undefined) options.entra = entraConfig(values.entra);
  if (values['no-local-auth']) options.localAuthentication = false;
  Object.assign(options, pnpOptions(values));
  return options;
}

/** The emulator's log: the process logger (standard error, JSON unless on a terminal), secrets redacted. */
export function emulatorLog(options: LoggerOptions = {}): EmulatorLog {
  const logger = createLogger(options);
  return (level, message, fields) => logger.log(level, message, { component: 'emulator', ...fields });
}

export async function runEmulatorCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  let options: EmulatorOptions | 'help';
  try {
    options = parseEmulatorArgs(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${EMULATOR_USAGE}`);
    return 2;
  }
  if (options === 'help') {
    io.out(EMULATOR_USAGE);
    return 0;
  }
  const log = emulatorLog();
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  try {
    emulator = await startEmulator({ ...options, log });
  } catch (error) {
    log('error', 'the emulator did not start', { error: (error as Error).message });
    return 1;
  }
  const { endpoint, hostName, connectionString, caFile, entra } = emulator;
  io.out(
    JSON.stringify({
      endpoint,
      hostName,
      connectionString,
      caFile,
      // The authority host is the endpoint; IDENTITY_ENDPOINT and IDENTITY_HEADER for ManagedIdentityCredential.
      ...(entra && {
        authorityHost: endpoint,
        identityEndpoint: `${endpoint}${MANAGED_IDENTITY_PATH}`,
        identityHeader: entra.identityHeader,
      }),
    }),
  );
  log('info', 'emulator listening', {
    endpoint,
    devices: emulator.hub.store.deviceCount,
    ...(emulator.hub.pnp.count > 0 && { pnpDevices: emulator.hub.pnp.count }),
    seed: emulator.seed,
    throttle: options.throttle ?? true,
    ...(entra && { entraTenant: entra.directory.tenantId }),
    ...(options.localAuthentication === false && { localAuthentication: false }),
    ...(options.quotas && {
      quotas: Object.fromEntries(
        Object.entries(options.quotas).map(([operation, quota]) => [operation, describeQuota(quota)]),
      ),
    }),
    ...(options.faults && { faults: options.faults }),
  });

  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      log('info', 'stopping', { signal });
      emulator.close().then(
        () => resolve(0),
        (error) => {
          log('error', 'the emulator did not stop cleanly', { error: String(error) });
          resolve(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
