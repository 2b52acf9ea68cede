// The controller in this process against the real API server and an emulated hub, in namespaces of its own, with
// kubectl to act as a user would. Engine timings are shortened so that rollouts take moments.
import type { KubernetesObject } from '@kubernetes/client-node';
import { Controller, type ControllerOptions } from '../../src/controller/controller.js';
import type { EmulatorOptions, NewDevice, RunningEmulator } from '../../src/emulator/index.js';
import { createLogger } from '../../src/observability/logger.js';
import {
  applyObjects,
  type ControlPlaneInfo,
  type KubectlResult,
  kubectl,
  sharedControlPlane,
  testNamespace,
} from './control-plane.js';
import { startHubEmulator } from './emulator-support.js';
import { installCrds, kubeConfigOf } from './kube.js';
import { ReconcileCounter, type ReconcileNowOptions, reconcileNow } from './reconciles.js';
import {
  emulatorCredentials,
  hubSecret,
  iotHub,
  securityModuleConfig,
  type TestObject,
} from './resources.js';
import { until } from './until.js';

export type Kind = 'smc' | 'tc' | 'hub' | 'secret';

export interface OperatorFixture {
  cp: ControlPlaneInfo;
  /** The first namespace; `namespaces` holds all of them. */
  namespace: string;
  namespaces: string[];
  emulator: RunningEmulator;
  controller: Controller;
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  apply(objects: object[], namespace?: string): Promise<void>;
  get(kind: Kind, name: string, namespace?: string): Promise<any>;
  /** Waits until the object satisfies `check`; resolves with it. */
  waitFor(
    kind: Kind,
    name: string,
    check: (object: any) => boolean,
    timeoutMs?: number,
    namespace?: string,
  ): Promise<any>;
  /** The Secret and IoTHub of the emulated hub in `namespace` (default: the first). */
  hubObjects(options?: {
    name?: string;
    namespace?: string;
    spec?: Record<string, unknown>;
    secret?: Record<string, string>;
  }): TestObject[];
  smc(name: string, spec: Record<string, unknown>, namespace?: string): TestObject;
  /** Reconciles of the IoTHub `name` (default `hub`) finished so far. */
  reconciles(name?: string, namespace?: string): number;
  /** Asks for reconciles of the IoTHub `name` (default `hub`) and waits for them: see `reconcileNow`. */
  reconcileNow(name?: string, options?: ReconcileNowOptions & { namespace?: string }): Promise<void>;
  close(): Promise<void>;
}

export interface FixtureOptions {
  prefix: string;
  /** Namespaces to create and watch (1). */
  namespaceCount?: number;
  devices: NewDevice[];
  emulator?: EmulatorOptions;
  /** The fixture counts reconciles through metrics of its own. */
  controller?: Partial<Omit<ControllerOptions, 'metrics'>>;
  /** Start the controller (true); a test may start it later with controller.startInformers/startWorkers. */
  start?: boolean;
}

export const logger = createLogger({ level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'error' });

export function condition(object: any, type: string): { status?: string; reason?: string; message?: string } {
  return object?.status?.conditions?.find((c: any) => c.type === type) ?? {};
}

export async function startOperatorFixture(options: FixtureOptions): Promise<OperatorFixture> {
  const cp = await sharedControlPlane();
  await installCrds(cp);
  const namespaces: string[] = [];
  for (let i = 0; i < (options.namespaceCount ?? 1); i++)
    namespaces.push(await testNamespace(cp, options.prefix));
  const emulator = await startHubEmulator({ tier: 'S3', ...options.emulator });
  emulator.addDevices(options.devices);
  // The controller's metrics, which count reconciles by hub; their hub families read the controller's connections.
  const counter: ReconcileCounter = new ReconcileCounter({
    telemetry: () => controller.memory.telemetry(),
    rateLimits: () => controller.memory.rateLimits(),
  });
  const controller: Controller = new Controller({
    kubeConfig: kubeConfigOf(cp.kubeconfig),
    namespaces,
    manager: 'iot-security-operator',
    logger,
    session: { pollMs: 100, fullReadWhileWaitingMs: 1500 },
    client: { retry: { baseMs: 20, maxMs: 200, maxAttempts: 3 } },
    shutdownGraceMs: 2000,
    // A changed Secret is noticed within this (1 minute by default): tests wait for what follows, not a minute.
    secretRecheckMs: 500,
    ...options.controller,
    metrics: counter,
  });
  if (options.start !== false) {
    await controller.startInformers();
    controller.startWorkers();
  }
  const namespace = namespaces[0];
  const fixture: OperatorFixture = {
    cp,
    namespace,
    namespaces,
    emulator,
    controller,
    kubectl: (args, input) => kubectl(cp.kubeconfig, args, { input }),
    async apply(objects, ns = namespace) {
      await applyObjects(cp.kubeconfig, objects, ['-n', ns]);
    },
    async get(kind, name, ns = namespace) {
      const result = await kubectl(cp.kubeconfig, ['get', kind, name, '-n', ns, '-o', 'json']);
      return result.code === 0 ? JSON.parse(result.stdout) : undefined;
    },
    async waitFor(kind, name, check, timeoutMs = 20_000, ns = namespace) {
      let last: any;
      try {
        await until(
          async () => {
            last = await fixture.get(kind, name, ns);
            return check(last);
          },
          timeoutMs,
          `${kind}/${name}`,
          100,
        );
      } catch (error) {
        throw new Error(
          `${(error as Error).message}; last seen: ${JSON.stringify(last?.status ?? last ?? null)}`,
        );
      }
      return last;
    },
    hubObjects({ name = 'hub', namespace: ns = namespace, spec = {}, secret } = {}) {
      return hubResources(emulator, { name, namespace: ns, spec, secret });
    },
    smc(name, spec, ns = namespace) {
      return securityModuleConfig(name, spec, { namespace: ns });
    },
    reconciles(name = 'hub', ns = namespace) {
      return counter.finished(`${ns}/${name}`);
    },
    reconcileNow(name = 'hub', { namespace: ns = namespace, ...options } = {}) {
      const hub = {
        kubeconfig: cp.kubeconfig,
        namespace: ns,
        name,
        finished: () => fixture.reconciles(name, ns),
      };
      return reconcileNow(hub, options);
    },
    async close() {
      await controller.stop();
      await emulator.close();
    },
  };
  return fixture;
}

/** The Secret (connection string and CA of `emulator`) and the IoTHub that names it, in `namespace`. */
export function hubResources(
  emulator: RunningEmulator,
  options: {
    name?: string;
    namespace: string;
    spec?: Record<string, unknown>;
    secret?: Record<string, string>;
  },
): TestObject[] {
  const { name = 'hub', namespace, spec = {}, secret } = options;
  const secretName = `${name}-credentials`;
  return [
    hubSecret(secretName, secret ?? emulatorCredentials(emulator), { namespace }),
    iotHub(name, { caSecretRef: { name: secretName }, tier: 'S3', units: 10, ...spec }, { namespace }),
  ];
}

/**
 * A fleet of three environments, as the reliability tests roll out to: `${prefix}-0000`... tagged production, but
 * every tenth staging and every tenth lab; one device in 25 offline.
 */
export function environmentFleet(prefix: string, count: number): NewDevice[] {
  return Array.from({ length: count }, (_, i) => ({
    deviceId: `${prefix}-${String(i).padStart(4, '0')}`,
    tags: { environment: i % 10 === 9 ? 'staging' : i % 10 === 8 ? 'lab' : 'production' },
    online: i % 25 !== 7,
  }));
}

/** Devices named `${prefix}-${i}` with the given tags, online. */
export function fleet(prefix: string, count: number, tags: NewDevice['tags']): NewDevice[] {
  return Array.from({ length: count }, (_, i) => ({ deviceId: `${prefix}-${i}`, tags, online: true }));
}

export type { KubernetesObject };
