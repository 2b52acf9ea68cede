// Builders of valid resources for tests, and a temporary folder of YAML files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function securityModuleConfig(
  spec: Record<string, unknown> = {},
  name = 'baseline',
): Record<string, unknown> {
  return {
    apiVersion: 'iotsecurity.io/v1alpha1',
    kind: 'SecurityModuleConfig',
    metadata: { name, namespace: 'iot' },
    spec: {
      hubRef: { name: 'hub' },
      target: { condition: "tags.site = 'amsterdam'" },
      agentConfiguration: { highPriorityMessageFrequency: 'PT5M' },
      ...spec,
    },
  };
}

export function iotHub(spec: Record<string, unknown> = {}, name = 'hub'): Record<string, unknown> {
  return {
    apiVersion: 'iotsecurity.io/v1alpha1',
    kind: 'IoTHub',
    metadata: { name, namespace: 'iot' },
    spec: { connectionStringSecretRef: { name: 'hub-credentials' }, ...spec },
  };
}

/** Writes `files` (relative path -> content) under a new temporary folder and returns the folder. */
export function writeTempFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'iso-test-'));
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  return dir;
}
