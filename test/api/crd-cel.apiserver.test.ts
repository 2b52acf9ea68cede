// The CRDs' CEL rules on a real API server: `kubectl apply` refuses what one resource alone breaks, naming the
// field, in the words `validate` prints for the same resource.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  CONNECTION_STRING_REQUIRED,
  notUsedWithKind,
  requiredWithKind,
} from '../../src/validation/hub-auth-rules.js';
import { invalidSecretKeyMessage } from '../../src/validation/resource-rules.js';
import { validateResource } from '../../src/validation/validate-resource.js';
import { kubectl, sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { installCrds } from '../support/kube.js';
import { validIotHub, validSecurityModuleConfig, validTwinConfig } from '../support/resources.js';

const cp = await sharedControlPlane();

describe('kubectl apply refuses what the CRDs CEL rules refuse', () => {
  let namespace: string;
  before(async () => {
    await installCrds(cp);
    namespace = await testNamespace(cp, 'cel');
  });

  /** Applies `document`, which must be refused, and returns kubectl's error output. */
  async function refusal(document: Record<string, any>): Promise<string> {
    const placed = { ...document, metadata: { ...document.metadata, namespace } };
    const applied = await kubectl(cp.kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(placed) });
    assert.notEqual(applied.code, 0, `kubectl apply took ${document.metadata.name}`);
    return applied.stderr;
  }

  /** Each field's message, as kubectl prints it, and validate says the same of the same field. */
  function assertSaid(stderr: string, document: Record<string, any>, said: Record<string, string>): void {
    const ours = validateResource(structuredClone(document)).issues;
    for (const [field, message] of Object.entries(said)) {
      // One cause is printed on the error's line, several each on a line of its own after '* '.
      assert.ok(
        stderr.includes(`${field}: Invalid value: `) && stderr.includes(message),
        `${field}: ${stderr}`,
      );
      assert.ok(
        ours.some((issue) => issue.path.join('.') === field && issue.message === message),
        `validate does not say of ${field}: ${message}`,
      );
    }
  }

  it('refuses the agent rules on one SecurityModuleConfig: durations, cache and message size, high and low frequency', async () => {
    const document = validSecurityModuleConfig(
      {
        agentConfiguration: {
          highPriorityMessageFrequency: 'PT2H',
          lowPriorityMessageFrequency: 'PT60M',
          snapshotFrequency: 'PT0S',
          maxMessageSizeInBytes: 65536,
          maxLocalCacheSizeInBytes: 9000,
          aggregation: { ProcessCreate: { interval: 'PT' } },
        },
      },
      'agent-rules',
    );
    assertSaid(await refusal(document), document, {
      'spec.agentConfiguration.highPriorityMessageFrequency':
        'highPriorityMessageFrequency PT2H is longer than lowPriorityMessageFrequency PT60M; high-priority messages must be sent at least as often [agent: Conflict]',
      'spec.agentConfiguration.maxLocalCacheSizeInBytes':
        'maxLocalCacheSizeInBytes 9000 is below maxMessageSizeInBytes 65536; the cache must hold at least one message [agent: Conflict]',
      'spec.agentConfiguration.snapshotFrequency':
        "snapshotFrequency 'PT0S' must be longer than zero [agent: TypeMismatch]",
      'spec.agentConfiguration.aggregation.ProcessCreate.interval':
        "aggregationIntervalProcessCreate 'PT' is not an ISO 8601 duration (e.g. PT7M, PT1H, P1D) [agent: TypeMismatch]",
    });
  });

  it('compares ISO 8601 durations exactly, in any units: equal frequencies and a fraction of a second', async () => {
    const equal = validSecurityModuleConfig(
      {
        agentConfiguration: { highPriorityMessageFrequency: 'PT3600S', lowPriorityMessageFrequency: 'PT1H' },
      },
      'equal-frequencies',
    );
    const placed = { ...equal, metadata: { ...equal.metadata, namespace } };
    const applied = await kubectl(cp.kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(placed) });
    assert.equal(applied.code, 0, applied.stderr);
    const longer = validSecurityModuleConfig(
      {
        agentConfiguration: { highPriorityMessageFrequency: 'PT1.001S', lowPriorityMessageFrequency: 'PT1S' },
      },
      'fraction-longer',
    );
    assertSaid(await refusal(longer), longer, {
      'spec.agentConfiguration.highPriorityMessageFrequency':
        'highPriorityMessageFrequency PT1.001S is longer than lowPriorityMessageFrequency PT1S; high-priority messages must be sent at least as often [agent: Conflict]',
    });
  });

  it('refuses a bad reference name, an empty batch and a zero timeout on any kind that has them', async () => {
    const document = validTwinConfig({
      hubRef: { name: 'Fleet_Hub' },
      rollout: { batchSize: '0%' },
      convergenceTimeout: '0m',
    });
    document.metadata.name = 'bad-references';
    assertSaid(await refusal(document), document, {
      'spec.hubRef.name':
        "'Fleet_Hub' is not a valid name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
      'spec.rollout.batchSize': '"0%" would never roll out: use at least 1 device or 1%',
      'spec.convergenceTimeout': "'0m' must be longer than zero",
    });
  });

  it('refuses an IoTHub on a Basic tier, with a zero resync interval', async () => {
    const document = validIotHub({ tier: 'B2', resyncInterval: '0s' });
    document.metadata.name = 'basic-hub';
    assertSaid(await refusal(document), document, {
      'spec.tier':
        "B2 is a Basic tier, which has no device or module twins: the security agents' configuration cannot be managed there (use F1, S1, S2 or S3)",
      'spec.resyncInterval': "'0s' must be longer than zero",
    });
  });

  it('refuses an IoTHub without a credential, or whose auth.kind lacks or does not use a field', async () => {
    const none = validIotHub() as Record<string, any>;
    delete none.spec.connectionStringSecretRef;
    none.metadata.name = 'no-credential';
    assertSaid(await refusal(none), none, { 'spec.connectionStringSecretRef': CONNECTION_STRING_REQUIRED });
    const workload = validIotHub({
      hostName: 'fleet.azure-devices.net',
      auth: { kind: 'WorkloadIdentity', clientId: 'app', clientSecretRef: { name: 'app-secret' } },
    }) as Record<string, any>;
    delete workload.spec.connectionStringSecretRef;
    workload.metadata.name = 'half-workload';
    assertSaid(await refusal(workload), workload, {
      'spec.auth.tenantId': requiredWithKind('WorkloadIdentity'),
      'spec.auth.clientSecretRef': notUsedWithKind('WorkloadIdentity'),
    });
  });

  it("refuses a Secret key no Secret could hold, in any of an IoTHub's Secret references", async () => {
    const hub = validIotHub({
      connectionStringSecretRef: { name: 'fleet-hub', key: 'connection string' },
      caSecretRef: { name: 'fleet-ca', key: 'ca/crt' },
    });
    hub.metadata.name = 'bad-keys';
    assertSaid(await refusal(hub), hub, {
      'spec.connectionStringSecretRef.key': invalidSecretKeyMessage("'connection string'"),
      'spec.caSecretRef.key': invalidSecretKeyMessage("'ca/crt'"),
    });
    const certificate = validIotHub({
      hostName: 'fleet.azure-devices.net',
      auth: {
        kind: 'ClientCertificate',
        tenantId: 'tenant',
        clientId: 'app',
        clientCertificateRef: { name: 'app-cert', certificateKey: 'tls crt', privateKeyKey: 'tls:key' },
      },
    }) as Record<string, any>;
    delete certificate.spec.connectionStringSecretRef;
    certificate.metadata.name = 'bad-certificate-keys';
    assertSaid(await refusal(certificate), certificate, {
      'spec.auth.clientCertificateRef.certificateKey': invalidSecretKeyMessage("'tls crt'"),
      'spec.auth.clientCertificateRef.privateKeyKey': invalidSecretKeyMessage("'tls:key'"),
    });
  });

  it('leaves to the status what depends on other resources: a high frequency over the agent default low one', async () => {
    const document = validSecurityModuleConfig(
      { agentConfiguration: { highPriorityMessageFrequency: 'PT6H' } },
      'layered',
    );
    const placed = { ...document, metadata: { ...document.metadata, namespace } };
    const applied = await kubectl(cp.kubeconfig, ['apply', '-f', '-'], { input: JSON.stringify(placed) });
    assert.equal(applied.code, 0, applied.stderr);
  });
});
