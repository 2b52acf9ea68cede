#!/usr/bin/env node
// The command line: one verb per job, each in src/cli/commands/.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { redactSecrets } from '../observability/redact.js';
import { type CommandIo, processIo, UsageError } from './command-io.js';
import { packageVersion } from './package-version.js';

const USAGE = `Usage: iot-security-operator <command> [options]

Commands:
  run                run the Kubernetes controller (watches the resources, reconciles the hubs)
  validate PATH...   check IoTHub, SecurityModuleConfig and TwinConfig resources in YAML files
  sync -f PATH...    apply SecurityModuleConfigs and TwinConfigs to a hub (GitOps without a cluster)
  export             write the SecurityModuleConfigs or TwinConfigs that reproduce a live hub's twins
  emulator           run the IoT Hub emulator with simulated security agents and Plug and Play devices
  demo               the operator on an emulated fleet of 2,000 devices: a Kubernetes API server (the local
                     control plane, or the cluster KUBECONFIG names), the examples applied with kubectl, one
                     edit rolled out and one the devices refuse; --gitops: the same with sync, no cluster
  help [COMMAND]     show this text, or a command's options

Run 'iot-security-operator help <command>' (or '<command> --help') for a command's options;
'iot-security-operator --version' prints the version.
Environment: LOG_LEVEL (error|warn|info|debug), LOG_FORMAT (json|text).`;

type Command = (argv: string[], io: CommandIo) => number | Promise<number>;

// Each command's modules are loaded when it runs: `validate` and `sync` do not pay for the Kubernetes client,
// the metrics registry or the emulator (a third of a second of every start).
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runOperatorCommand,
  validate: async () => (await import('./commands/validate.js')).runValidateCommand,
  sync: async () => (await import('./commands/sync.js')).runSyncCommand,
  export: async () => (await import('./commands/export.js')).runExportCommand,
  emulator: async () => (await import('./commands/emulator.js')).runEmulatorCommand,
  demo: async () => (await import('./commands/demo.js')).runDemoCommand,
};

export async function runCli(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === '--version') {
    io.out(packageVersion());
    return 0;
  }
  if (verb === 'help' && rest.length > 0) return runCli([rest[0], '--help'], io);
  if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
    io.out(USAGE);
    return verb === undefined ? 2 : 0;
  }
  const load = Object.hasOwn(COMMANDS, verb) ? COMMANDS[verb] : undefined;
  if (!load) {
    io.err(`iot-security-operator: unknown command '${verb}'\n\n${USAGE}`);
    return 2;
  }
  try {
    const command = await load();
    return await command(rest, io);
  } catch (error) {
    const message = redactSecrets((error as Error).message ?? String(error));
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(
        `iot-security-operator ${verb}: ${message}\nRun 'iot-security-operator ${verb} --help' for usage.`,
      );
      return 2;
    }
    io.err(`iot-security-operator ${verb}: ${message}`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await runCli(process.argv.slice(2));
}
