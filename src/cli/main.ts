#!/usr/bin/env node
// The command line: one verb per job, each in src/cli/commands/.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { redactSecrets } from '../observability/redact.js';
import { type CommandIo, processIo, UsageError } from './command-io.js';
import { runDemoCommand } from './commands/demo.js';
import { runEmulatorCommand } from './commands/emulator.js';
import { runOperatorCommand } from './commands/run.js';
import { runSyncCommand } from './commands/sync.js';
import { runValidateCommand } from './commands/validate.js';

const USAGE = `Usage: iot-security-operator <command> [options]

Commands:
  run                run the Kubernetes controller (watches the resources, reconciles the hubs)
  validate PATH...   check IoTHub and SecurityModuleConfig resources in YAML files
  sync -f PATH...    apply SecurityModuleConfigs to a hub (GitOps without a cluster)
  emulator           run the IoT Hub emulator with simulated security agents
  demo               sync the examples to an emulated fleet of 2,000 devices
  help               show this text

Run 'iot-security-operator <command> --help' for a command's options.
Environment: LOG_LEVEL (error|warn|info|debug), LOG_FORMAT (json|text).`;

type Command = (argv: string[], io: CommandIo) => number | Promise<number>;

const COMMANDS: Record<string, Command> = {
  run: runOperatorCommand,
  validate: runValidateCommand,
  sync: runSyncCommand,
  emulator: (argv) => runEmulatorCommand(argv),
  demo: runDemoCommand,
};

export async function runCli(argv: string[], io: CommandIo = processIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
    io.out(USAGE);
    return verb === undefined ? 2 : 0;
  }
  const command = COMMANDS[verb];
  if (!command) {
    io.err(`iot-security-operator: unknown command '${verb}'\n\n${USAGE}`);
    return 2;
  }
  try {
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
