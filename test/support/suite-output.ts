// What the suite's processes and commands print, kept for the scan of the whole suite's output for secrets
// (scripts/scan-suite-output.ts sets SUITE_OUTPUT_DIR for the run). Without it, nothing is kept.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectl } from './control-plane.js';

export const SUITE_OUTPUT_ENV = 'SUITE_OUTPUT_DIR';
/** Where keepKeys puts the keys, inside the folder. */
export const KEYS_FOLDER = '.keys';

let kept = 0;

/** Keeps `text` (a command's output) under a name saying what printed it. */
export function keepOutput(what: string, text: string): void {
  const dir = process.env[SUITE_OUTPUT_ENV];
  if (!dir || text === '') return;
  const name = `${what.replace(/[^a-z0-9-]+/gi, '-').slice(0, 60)}-${process.pid}-${++kept}.txt`;
  writeFileSync(join(dir, name), text, { mode: 0o600 });
}

/** Keys of an emulator the suite started, for the scan to look for (kept apart from the output it scans). */
export function keepKeys(keys: string[]): void {
  const dir = process.env[SUITE_OUTPUT_ENV];
  if (!dir) return;
  mkdirSync(join(dir, KEYS_FOLDER), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, KEYS_FOLDER, `${process.pid}-${++kept}.json`), JSON.stringify(keys), {
    mode: 0o600,
  });
}

/** A folder for a process's log files: in the kept output when there is one, else a fresh temporary folder. */
export function logFolder(prefix: string): string {
  return mkdtempSync(join(process.env[SUITE_OUTPUT_ENV] || tmpdir(), prefix));
}

/**
 * Keeps what the suite left on the control plane for users to read: every Event, and the status of every IoTHub,
 * SecurityModuleConfig and TwinConfig (not their specs: tests put keys in the wrong places on purpose; nor Secrets).
 */
export async function keepClusterOutput(kubeconfig: string): Promise<void> {
  const events = await kubectl(kubeconfig, ['get', 'events', '--all-namespaces', '-o', 'json']);
  keepOutput('cluster-events', events.stdout);
  for (const kind of ['iothubs', 'securitymoduleconfigs', 'twinconfigs']) {
    const listed = await kubectl(kubeconfig, ['get', kind, '--all-namespaces', '-o', 'json']);
    if (listed.code !== 0) continue;
    // Names and status only: the metadata's annotations hold the whole spec kubectl applied.
    const items = (
      JSON.parse(listed.stdout) as {
        items: { metadata: { namespace: string; name: string }; status?: unknown }[];
      }
    ).items;
    keepOutput(
      `cluster-${kind}-status`,
      JSON.stringify(
        items.map((o) => ({
          kind,
          namespace: o.metadata.namespace,
          name: o.metadata.name,
          status: o.status,
        })),
        null,
        1,
      ),
    );
  }
}
