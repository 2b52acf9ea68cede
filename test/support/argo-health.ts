// Argo CD's health check for the operator's kinds (manifests/argocd/health.lua) run as Argo CD runs it: by
// gopher-lua, through tools/lua-health, built on first use by scripts/build-lua-health.sh (nothing to do when
// it is current, so `make test` and a test file run alone agree).
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './kube.js';

export const HEALTH_LUA = join(REPO, 'manifests', 'argocd', 'health.lua');
const LUA_HEALTH = join(REPO, '.tools', 'bin', 'lua-health');

/** The statuses Argo CD accepts from a health check; it reads any other as Unknown. */
export const ARGO_HEALTH_STATUSES = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'];

export interface ArgoHealth {
  status: string;
  message?: string;
}

let built: Promise<unknown> | undefined;

function buildLuaHealth(): Promise<unknown> {
  built ??= promisify(execFile)('bash', [join(REPO, 'scripts', 'build-lua-health.sh')]);
  return built;
}

export interface LuaRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `script` on `object` (given as JSON) with lua-health. */
export async function runHealthScript(script: string, object: unknown): Promise<LuaRun> {
  await buildLuaHealth();
  const child = spawn(LUA_HEALTH, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  child.stdin.end(JSON.stringify(object));
  return { code: await exited, stdout, stderr };
}

/** The health Argo CD shows for `object`; fails when the script does, or returns a status Argo CD refuses. */
export async function argoHealth(object: unknown): Promise<ArgoHealth> {
  const run = await runHealthScript(HEALTH_LUA, object);
  if (run.code !== 0) throw new Error(`lua-health exited with ${run.code}: ${run.stderr}`);
  const health = JSON.parse(run.stdout) as ArgoHealth;
  if (!ARGO_HEALTH_STATUSES.includes(health.status))
    throw new Error(`the health check returned ${run.stdout.trim()}, which Argo CD reads as Unknown`);
  return health;
}
