// The informer wrapper against the real API server, behind a proxy that drops, refuses and stalls connections:
// it restarts with backoff, its watchdog notices a silent watch, it relists, and its cache ends equal to the
// server's list.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type KubernetesObject, type V1ConfigMap } from '@kubernetes/client-node';
import { makeKubeApi } from '../../src/controller/kube-http.js';
import { ResilientInformer } from '../../src/controller/resilient-informer.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import type { Clock } from '../../src/runtime/clock.js';
import { sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { FakeClock } from '../support/fake-clock.js';
import { kubeConfigOf } from '../support/kube.js';
import { kubeconfigVia, TcpProxy } from '../support/tcp-proxy.js';
import { until } from '../support/until.js';

const cp = await sharedControlPlane();
const direct = kubeConfigOf(cp.kubeconfig).makeApiClient(CoreV1Api);

describe('ResilientInformer', () => {
  let namespace: string;
  let proxy: TcpProxy;
  let kubeconfigPath: string;
  before(async () => {
    namespace = await testNamespace(cp, 'informer');
    proxy = TcpProxy.forServer(cp.server);
    const server = await proxy.listen();
    kubeconfigPath = join(tmpdir(), `informer-${process.pid}.kubeconfig`);
    writeFileSync(kubeconfigPath, kubeconfigVia(readFileSync(cp.kubeconfig, 'utf8'), server), {
      mode: 0o600,
    });
  });
  after(() => proxy.close());

  function informer(
    options: {
      idleTimeoutMs?: number;
      relistIntervalMs?: number;
      backoffBaseMs?: number;
      random?: () => number;
      clock?: Clock;
      logger?: Logger;
      onRestored?: () => void;
    } = {},
  ) {
    const kc = kubeConfigOf(kubeconfigPath);
    const api = makeKubeApi(kc, CoreV1Api);
    return new ResilientInformer<V1ConfigMap & KubernetesObject>({
      name: 'configmaps',
      kubeConfig: kc,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      list: () => api.listNamespacedConfigMap({ namespace }) as never,
      backoff: {
        baseMs: options.backoffBaseMs ?? 100,
        maxMs: Math.max(1000, options.backoffBaseMs ?? 0),
        random: options.random,
      },
      clock: options.clock,
      logger: options.logger,
      onRestored: options.onRestored,
      relistIntervalMs: options.relistIntervalMs ?? 0,
      transport: { idleTimeoutMs: options.idleTimeoutMs, minHealthyMs: 200 },
    });
  }

  const names = (i: ResilientInformer<V1ConfigMap & KubernetesObject>) =>
    i
      .list(namespace)
      .map((o) => o.metadata!.name!)
      .filter((n) => n.startsWith('cm-'))
      .sort();

  /** Waits for `condition`, moving `clock` on meanwhile so that restarts fall due. */
  async function untilOnClock(clock: FakeClock, condition: () => boolean, what: string): Promise<void> {
    await until(
      async () => {
        await clock.advance(50);
        return condition();
      },
      10_000,
      what,
    );
  }

  async function serverNames(): Promise<string[]> {
    const list = await direct.listNamespacedConfigMap({ namespace });
    return list.items
      .map((o) => o.metadata!.name!)
      .filter((n) => n.startsWith('cm-'))
      .sort();
  }

  it('keeps its cache equal to the server through watches dropped every few hundred milliseconds', async () => {
    const i = informer();
    await i.start();
    await i.waitForSync();
    for (let n = 0; n < 30; n++) {
      await direct.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: `cm-${n}` }, data: { n: String(n) } },
      });
      if (n % 3 === 0) await direct.deleteNamespacedConfigMap({ namespace, name: `cm-${n}` });
      // Each object is in the cache before the next is made, but for those made while the watch is down.
      if (n % 5 === 4) proxy.dropAll();
      else await until(() => names(i).includes(`cm-${n}`) === (n % 3 !== 0), 10_000, `cm-${n} in the cache`);
    }
    const expected = await serverNames();
    await until(() => JSON.stringify(names(i)) === JSON.stringify(expected), 15_000, 'the cache to catch up');
    assert.ok(i.stats.restarts + i.stats.watchesStarted > 3, 'the watch came back after the drops');
    await i.stop();
  });

  it('restarts with backoff while the API server is unreachable, and catches up when it is back', async () => {
    // Restarts wait half their window: 50 ms doubling to 500 ms, on a clock the test moves.
    const clock = new FakeClock();
    const i = informer({ clock, random: () => 0.5 });
    await i.start();
    await i.waitForSync();
    proxy.refuse();
    const listsBefore = i.stats.lists + i.stats.listFailures;
    await direct.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cm-during-outage' } } });
    // Two seconds of outage: each restart is refused and schedules the next before time moves on.
    while (clock.now() < 2000) {
      await until(() => clock.pendingSleeps > 0, 10_000, 'a restart scheduled');
      await clock.advance(10);
    }
    const attempts = i.stats.lists - listsBefore + i.stats.watchesStarted;
    proxy.forward();
    await untilOnClock(
      clock,
      () => names(i).includes('cm-during-outage'),
      'the object created during the outage',
    );
    assert.ok(i.stats.restarts >= 2, `restarted ${i.stats.restarts} times`);
    // Waits of 50, 100, 200, 400, 500, 500 ms: 6 attempts in 2 s, not a storm.
    assert.ok(attempts <= 12, `${attempts} attempts in 2 s of outage`);
    await i.stop();
  });

  it('waiting out a long backoff, tries again at once when told the API server is back (retryNow), and says it was restored', async () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk) => lines.push(...String(chunk).trim().split('\n')));
    let restored = 0;
    // The informer's clock stands still: only retryNow can bring it back.
    const i = informer({
      backoffBaseMs: 20_000,
      clock: new FakeClock(),
      logger: createLogger({ stream, format: 'json', level: 'info' }),
      onRestored: () => restored++,
    });
    await i.start();
    await i.waitForSync();
    proxy.refuse();
    proxy.dropAll();
    await until(
      () => lines.some((l) => l.includes('restarting after a backoff')),
      10_000,
      'a restart scheduled',
    );
    proxy.forward();
    await direct.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cm-after-retry' } } });
    i.retryNow();
    await until(() => names(i).includes('cm-after-retry'), 5000, 'the object created before the retry');
    await until(() => restored === 1, 5000, 'onRestored');
    assert.ok(
      lines.some((l) => JSON.parse(l).message === 'watch restored'),
      'the recovery is logged',
    );
    // The clock stood still: the whole backoff was left, and the line says so.
    const logged = lines.map((l) => JSON.parse(l));
    const scheduled = logged.filter((l) => l.message === 'watch failed; restarting after a backoff').at(-1);
    const retried = logged.find((l) => l.message === 'watch retried at once: the API server is back');
    assert.equal(
      retried?.backoffLeftMs,
      scheduled?.retryInMs,
      'the cut-short backoff is logged with what was left of it',
    );
    await i.stop();
  });

  it('drops a watch that goes silent and starts a new one (watchdog)', async () => {
    const i = informer({ idleTimeoutMs: 1000 });
    await i.start();
    await i.waitForSync();
    proxy.blackhole();
    await until(() => i.stats.stalls >= 1, 10_000, 'the watchdog');
    proxy.forward();
    await direct.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cm-after-stall' } } });
    await until(() => names(i).includes('cm-after-stall'), 10_000, 'the object created after the stall');
    await i.stop();
  });

  it('relists on its interval, and its cache stays equal to the server list', async () => {
    const i = informer({ relistIntervalMs: 300 });
    await i.start();
    await i.waitForSync();
    const lists = i.stats.lists;
    await until(() => i.stats.lists >= lists + 3, 5000, 'three relists');
    assert.deepEqual(names(i), await serverNames());
    await i.stop();
  });
});
