// What the suite's processes and commands print, kept for the scan of the whole suite's output for secrets
// (scripts/scan-suite-output.ts sets SUITE_OUTPUT_DIR for the run). Without it, nothing is kept.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubectl } from './control-plane.js';

export const SUITE_OUTPUT_ENV = 'SUITE_OUTPUT_DIR';

let kept = 0;

/** Keeps `text` (a command's output) under a name saying what printed it. */
export function keepOutput(what: string, text: string): void {
  const dir = process.env[SUITE_OUTPUT_ENV];
  if (!dir || text === '') return;
  const name = `${what.replace(/[^a-z0-9-]+/gi, '-').slice(0, 60)}-${process.pid}-${++kept}.txt`;
  writeFileSync(join(dir, name), text, { mode: 0o600 });
}

/** A folder for a process's log files: in the kept output when there is one, else a fresh temporary folder. */
export function logFolder(prefix: string): string {
  return mkdtempSync(join(process.env[SUITE_OUTPUT_ENV] ?? tmpdir(), prefix));
}

/**
 * Keeps what the suite left on the control plane for users to read: every Event, and the status of every IoTHub
 * and SecurityModuleConfig (not their specs: tests put keys in the wrong places on purpose; nor Secrets).
 */
export async function keepClusterOutput(kubeconfig: string): Promise<void> {
  const events = await kubectl(kubeconfig, ['get', 'events', '--all-namespaces', '-o', 'json']);
  keepOutput('cluster-events', events.stdout);
  for (const kind of ['iothubs', 'securitymoduleconfigs']) {
    const listed = await kubectl(kubeconfig, ['get', kind, '--all-namespaces', '-o', 'json']);
    if (listed.code !== 0) continue;
    const items = (JSON.parse(listed.stdout) as { items: { metadata: unknown; status?: unknown }[] }).items;
    keepOutput(
      `cluster-${kind}-status`,
      JSON.stringify(
        items.map((o) => ({ metadata: o.metadata, status: o.status })),
        null,
        1,
      ),
    );
  }
}
