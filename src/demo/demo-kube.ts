// kubectl as the operator demo shows it: each command echoed with the time since the demo started and its output
// indented under it; `kubectl get KIND` printed again whenever the table changes until a condition holds.
import type { CommandIo } from '../observability/command-output.js';
import { pause, systemClock } from '../runtime/clock.js';
import type { Stop } from '../runtime/stop.js';
import { type KubectlResult, runKubectl } from './local-control-plane.js';

export interface DemoKube {
  /** undefined: the user's cluster, as KUBECONFIG (one path or several) says. */
  kubeconfig: string | undefined;
  namespace: string;
  io: CommandIo;
  /** When the demo gives up waiting (ms since the epoch). */
  deadline: number;
  stop: Stop;
  /** `  8s`: the time since the demo started, right-aligned. */
  elapsed(): string;
  /** The `kubectl get KIND` table last printed, by kind: a watch does not print it again unchanged. */
  shown: Map<string, string>;
}

/** Runs kubectl; a failure is an error naming the command. */
export async function kubectlOk(kube: DemoKube, args: string[], input?: string): Promise<KubectlResult> {
  const result = await runKubectl(kube.kubeconfig, args, { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr.trim()}`);
  return result;
}

/** Prints `$ COMMAND` at the current time and the output (its last `lastLines` lines) indented under it. */
export function show(kube: DemoKube, command: string, output: string, lastLines?: number): void {
  kube.io.out(`${kube.elapsed()} $ ${command}`);
  const lines = output.trimEnd().split('\n');
  for (const line of lastLines ? lines.slice(-lastLines) : lines) kube.io.out(`       ${line}`);
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
}

/** A SecurityModuleConfig or TwinConfig as far as the demo reads it. */
export interface ListedResource {
  metadata: { name: string; generation?: number };
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    targetedDevices?: number;
    convergedDevices?: number;
    rejectedDevices?: number;
    rollout?: { reachedDevices?: number; halted?: boolean };
  };
}

export function conditionOf(item: ListedResource, type: string): Condition | undefined {
  return item.status?.conditions?.find((c) => c.type === type);
}

/** Its status is for its current spec. */
export function isCurrent(item: ListedResource): boolean {
  return item.status?.observedGeneration === item.metadata.generation;
}

export function isReady(item: ListedResource): boolean {
  return isCurrent(item) && conditionOf(item, 'Ready')?.status === 'True';
}

export interface Listing {
  /** `kubectl get KIND` as printed, without AGE: a column that changes every second would reprint it for nothing. */
  table: string;
  items: ListedResource[];
}

export async function listResources(kube: DemoKube, kind: string): Promise<Listing> {
  const [json, table] = await Promise.all([
    runKubectl(kube.kubeconfig, ['get', kind, '-n', kube.namespace, '-o', 'json']),
    runKubectl(kube.kubeconfig, ['get', kind, '-n', kube.namespace]),
  ]);
  const lines = table.stdout
    .trimEnd()
    .split('\n')
    .map((l) => l.replace(/\s+\S+\s*$/, ''));
  const items = json.code === 0 ? (JSON.parse(json.stdout) as { items: ListedResource[] }).items : [];
  return { table: table.code === 0 ? `${lines.join('\n')}\n` : table.stderr, items };
}

/**
 * Prints `kubectl get KIND` whenever it changes until `done` holds for its items (true), the deadline passes or the
 * demo is stopped (false).
 */
export async function watchResources(
  kube: DemoKube,
  kind: string,
  done: (items: ListedResource[]) => boolean | Promise<boolean>,
): Promise<boolean> {
  for (;;) {
    const listing = await listResources(kube, kind);
    if (listing.table !== kube.shown.get(kind)) showListing(kube, kind, listing);
    if (await done(listing.items)) return true;
    if (Date.now() > kube.deadline || kube.stop.drain.aborted) return false;
    await pause(systemClock, 1500, kube.stop.drain);
  }
}

/** Prints `kubectl get KIND` as listed, and remembers it as the last shown. */
export function showListing(kube: DemoKube, kind: string, listing: Listing): void {
  kube.shown.set(kind, listing.table);
  show(kube, `kubectl get ${kind} -n ${kube.namespace}`, listing.table);
}

/** Every resource listed is Ready for its current spec (and there is one). */
export function allReady(items: ListedResource[]): boolean {
  return items.length > 0 && items.every(isReady);
}
