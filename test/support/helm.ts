// Helm, built from its Go modules (tools/helm), run against a kubeconfig with a home of its own: nothing read from
// or written to the user's Helm configuration, cache or repositories.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { goTool } from './go-tools.js';
import { REPO } from './kube.js';
import { type ProcessResult, runToEnd } from './run-to-end.js';

export const CHART = join(REPO, 'charts', 'iot-security-operator');

export type HelmResult = ProcessResult;

let home: string | undefined;

/** Runs helm with `args`; KUBECONFIG is `kubeconfig` when given. */
export async function helm(args: string[], kubeconfig?: string): Promise<HelmResult> {
  const binary = await goTool('helm');
  home ??= mkdtempSync(join(tmpdir(), 'helm-home-'));
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}),
  };
  return runToEnd(binary, args, { env, timeoutMs: 120_000 });
}

/** helm that must succeed: resolves with its standard output, or rejects with its standard error. */
export async function helmOk(args: string[], kubeconfig?: string): Promise<string> {
  const result = await helm(args, kubeconfig);
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** The objects `helm template` renders from the chart with `args` (e.g. `--set`, `-n`) for `release`, parsed. */
export async function helmTemplate(args: string[] = [], release = 'iot-security-operator'): Promise<any[]> {
  const yaml = await helmOk(['template', release, CHART, ...args]);
  return parseAllDocuments(yaml)
    .map((d) => d.toJS())
    .filter((o) => o);
}
