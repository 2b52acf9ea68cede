// Reconciles as tests count and ask for them. A test that asserts that something did not happen (no write, no
// crash) waits until the controller has reconciled again, not for a while: after a sleep, nothing may have run.
import { RECONCILE_REQUESTED_ANNOTATION } from '../../src/controller/kube-objects.js';
import { OperatorMetrics } from '../../src/observability/metrics.js';
import { kubectl, kubectlOk } from './control-plane.js';
import { until } from './until.js';

/**
 * The controller's metrics, which also count the reconciles each hub (`namespace/name`) has finished: at the work
 * queue's observer, where controller_runtime_reconcile_total is counted for all hubs together.
 */
export class ReconcileCounter extends OperatorMetrics {
  private readonly byHub = new Map<string, number>();

  override queueObserver(): ReturnType<OperatorMetrics['queueObserver']> {
    const observer = super.queueObserver();
    return {
      ...observer,
      finished: (key, tookMs, result) => {
        observer.finished(key, tookMs, result);
        this.byHub.set(key, (this.byHub.get(key) ?? 0) + 1);
      },
    };
  }

  /** Reconciles of the hub `namespace/name` finished so far, whatever their result. */
  finished(hubKey: string): number {
    return this.byHub.get(hubKey) ?? 0;
  }
}

export interface ReconciledHub {
  /** A kubeconfig that may annotate the IoTHub and read it. */
  kubeconfig: string;
  namespace: string;
  name: string;
  /** Reconciles of it finished so far, as the controller's metrics count them. */
  finished(): number | Promise<number>;
}

export interface ReconcileNowOptions {
  /** Reconciles asked for, one after the other (2). */
  times?: number;
  /** The annotation's values are `${request}-1`, `${request}-2`...: the same on two sides makes equal statuses. */
  request?: string;
  /** Wait until the status acknowledges each request too (true); not for an operator that cannot write status. */
  acknowledged?: boolean;
  timeoutMs?: number;
}

let requests = 0;

/**
 * Asks for a reconcile of an IoTHub `times` times in turn, with the "reconcile now" annotation as a user would, and
 * each time waits until one more reconcile of it has finished (and the status acknowledges the request). A hub is
 * reconciled by one worker at a time, so of two such reconciles the second started after this call did: whatever
 * the controller would do from what it holds now, it has done.
 */
export async function reconcileNow(hub: ReconciledHub, options: ReconcileNowOptions = {}): Promise<void> {
  const { times = 2, request = `requested-${process.pid}-${++requests}`, acknowledged = true } = options;
  const { timeoutMs = 30_000 } = options;
  const where = ['-n', hub.namespace];
  const handled = async (value: string) =>
    (
      await kubectl(hub.kubeconfig, [
        'get',
        'iothub',
        hub.name,
        ...where,
        '-o',
        'jsonpath={.status.lastHandledReconcileAt}',
      ])
    ).stdout.trim() === value;
  for (let round = 1; round <= times; round++) {
    const before = await hub.finished();
    const value = `${request}-${round}`;
    await kubectlOk(hub.kubeconfig, [
      'annotate',
      '--overwrite',
      'iothub',
      hub.name,
      ...where,
      `${RECONCILE_REQUESTED_ANNOTATION}=${value}`,
    ]);
    await until(
      async () => (await hub.finished()) > before && (!acknowledged || (await handled(value))),
      timeoutMs,
      `a reconcile of IoTHub ${hub.namespace}/${hub.name} after the request ${value}`,
      100,
    );
  }
}
