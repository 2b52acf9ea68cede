// How GitOps tools read the status the operator writes, by their own code: Argo CD's health check for the
// operator's kinds (manifests/argocd/health.lua) run by gopher-lua as Argo CD runs it (tools/lua-health),
// kstatus, what Flux's `wait` and health checks read (tools/kstatus), and Flux's evaluator of the health check
// expressions of manifests/flux/ (tools/flux-health). Each tool is built on first use (./go-tools.ts).
import { join } from 'node:path';
import { type GoTool, goTool } from './go-tools.js';
import { REPO } from './kube.js';
import { type ProcessResult, runToEnd } from './run-to-end.js';

export const HEALTH_LUA = join(REPO, 'manifests', 'argocd', 'health.lua');

/** The statuses Argo CD accepts from a health check; it reads any other as Unknown. */
export const ARGO_HEALTH_STATUSES = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'];

export interface ArgoHealth {
  status: string;
  message?: string;
}

export interface KStatus {
  status: 'InProgress' | 'Current' | 'Failed' | 'Terminating';
  message: string;
}

export type ToolRun = ProcessResult;

type Tool = Exclude<GoTool, 'helm'>;

/** One entry of a Flux Kustomization's spec.healthCheckExprs. */
export interface FluxHealthCheck {
  apiVersion: string;
  kind: string;
  current: string;
  inProgress?: string;
  failed?: string;
}

/** How Flux reads an object by healthCheckExprs: Unknown, with the error, when an expression fails on it. */
export interface FluxHealth {
  status: 'InProgress' | 'Current' | 'Failed' | 'Unknown';
  error?: string;
}

/** Runs `tool` with `args`, `object` as JSON on its standard input. */
export async function runTool(tool: Tool, args: string[], object: unknown): Promise<ToolRun> {
  return runToEnd(await goTool(tool), args, { input: JSON.stringify(object), timeoutMs: 60_000 });
}

/** The health Argo CD shows for `object`; fails when the script does, or returns a status Argo CD refuses. */
export async function argoHealth(object: unknown): Promise<ArgoHealth> {
  const run = await runTool('lua-health', [HEALTH_LUA], object);
  if (run.code !== 0) throw new Error(`lua-health exited with ${run.code}: ${run.stderr}`);
  const health = JSON.parse(run.stdout) as ArgoHealth;
  if (!ARGO_HEALTH_STATUSES.includes(health.status))
    throw new Error(`the health check returned ${run.stdout.trim()}, which Argo CD reads as Unknown`);
  return health;
}

/** What kstatus (sigs.k8s.io/cli-utils) computes for `object`: what Flux waits on. */
export async function kstatus(object: unknown): Promise<KStatus> {
  const run = await runTool('kstatus', [], object);
  if (run.code !== 0) throw new Error(`kstatus exited with ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as KStatus;
}

/** What Flux's kustomize-controller reads for `object` with the health check expressions `check`. */
export async function fluxHealth(check: FluxHealthCheck, object: unknown): Promise<FluxHealth> {
  const { current, inProgress, failed } = check;
  const run = await runTool('flux-health', [JSON.stringify({ current, inProgress, failed })], object);
  if (run.code !== 0) throw new Error(`flux-health exited with ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as FluxHealth;
}
