// One builder per kind of object the tests send to the API server or write to files (SecurityModuleConfig,
// TwinConfig, IoTHub, the Secret an IoTHub names, the ConfigMap a TwinConfig names, a role granted to a
// ServiceAccount), and a temporary folder of files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const API_VERSION = 'iotsecurity.io/v1alpha1';

/** A Kubernetes object as tests build, send and change it. */
export type TestObject = Record<string, any>;

export interface ObjectOptions {
  /** metadata.namespace; none leaves it to the namespace kubectl or the client is given. */
  namespace?: string;
}

function metadata(name: string, { namespace }: ObjectOptions): { name: string; namespace?: string } {
  return namespace === undefined ? { name } : { name, namespace };
}

/** A SecurityModuleConfig of the IoTHub `hub`, unless `spec.hubRef` names another. */
export function securityModuleConfig(
  name: string,
  spec: Record<string, unknown> = {},
  options: ObjectOptions = {},
): TestObject {
  return {
    apiVersion: API_VERSION,
    kind: 'SecurityModuleConfig',
    metadata: metadata(name, options),
    spec: { hubRef: { name: 'hub' }, ...spec },
  };
}

/** A TwinConfig of the IoTHub `hub`, unless `spec.hubRef` names another. */
export function twinConfig(
  name: string,
  spec: Record<string, unknown> = {},
  options: ObjectOptions = {},
): TestObject {
  return {
    apiVersion: API_VERSION,
    kind: 'TwinConfig',
    metadata: metadata(name, options),
    spec: { hubRef: { name: 'hub' }, ...spec },
  };
}

/** A ConfigMap of `data`. */
export function configMap(
  name: string,
  data: Record<string, string>,
  options: ObjectOptions = {},
): TestObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(name, options), data };
}

/** An IoTHub whose connection string is in the Secret `${name}-credentials`, unless `spec` names another. */
export function iotHub(
  name: string,
  spec: Record<string, unknown> = {},
  options: ObjectOptions = {},
): TestObject {
  return {
    apiVersion: API_VERSION,
    kind: 'IoTHub',
    metadata: metadata(name, options),
    spec: { connectionStringSecretRef: { name: `${name}-credentials` }, ...spec },
  };
}

/** A Secret of string data: what an IoTHub names (see `emulatorCredentials`), or anything else. */
export function hubSecret(
  name: string,
  stringData?: Record<string, string>,
  options: ObjectOptions = {},
): TestObject {
  const secret: TestObject = { apiVersion: 'v1', kind: 'Secret', metadata: metadata(name, options) };
  if (stringData !== undefined) secret.stringData = stringData;
  return secret;
}

/** The Secret data that reaches a hub: its connection string and the CA that signed its certificate. */
export function emulatorCredentials(hub: {
  connectionString: string;
  caCert: string;
}): Record<string, string> {
  return { connectionString: hub.connectionString, 'ca.crt': hub.caCert };
}

/**
 * The valid SecurityModuleConfig `name` in namespace iot (a target and one setting), with `spec` laid over it:
 * what validation tests vary.
 */
export function validSecurityModuleConfig(spec: Record<string, unknown> = {}, name = 'baseline'): TestObject {
  return securityModuleConfig(
    name,
    {
      target: { condition: "tags.site = 'amsterdam'" },
      agentConfiguration: { highPriorityMessageFrequency: 'PT5M' },
      ...spec,
    },
    { namespace: 'iot' },
  );
}

/**
 * The valid TwinConfig `name` in namespace iot (thermostats, a target temperature, an inline JSON Schema), with
 * `spec` laid over it.
 */
export function validTwinConfig(spec: Record<string, unknown> = {}, name = 'thermostats'): TestObject {
  return twinConfig(
    name,
    {
      target: { condition: "modelId = 'dtmi:com:example:Thermostat;1'" },
      properties: { targetTemperature: 21.5 },
      schema: {
        jsonSchema: {
          type: 'object',
          properties: { targetTemperature: { type: 'number', minimum: 5, maximum: 35 } },
        },
      },
      ...spec,
    },
    { namespace: 'iot' },
  );
}

/** The valid IoTHub `hub` in namespace iot, with `spec` laid over it. */
export function validIotHub(spec: Record<string, unknown> = {}): TestObject {
  return iotHub('hub', spec, { namespace: 'iot' });
}

/** Writes `files` (relative path -> content) under a new temporary folder and returns the folder. */
export function writeTempFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'iso-test-'));
  for (const [path, content] of Object.entries(files)) writeFileSync(join(dir, path), content);
  return dir;
}

/**
 * A Role of `account`'s namespace, or a ClusterRole, named `name` with `rules`, and its binding to ServiceAccount
 * `account`: what a test grants the operator (or a scraper) to run with exactly those rights.
 */
export function grant(
  kind: 'Role' | 'ClusterRole',
  name: string,
  rules: readonly object[],
  account: { name: string; namespace: string },
): TestObject[] {
  const metadata = kind === 'Role' ? { name, namespace: account.namespace } : { name };
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: `${kind}Binding`,
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name },
      subjects: [{ kind: 'ServiceAccount', ...account }],
    },
  ];
}
