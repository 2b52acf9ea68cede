// The operator as users run it (`run`, its own process) reaching hubs with Microsoft Entra ID, against the real
// API server and the emulator playing Entra and the hub's RBAC: a hub with local authentication disabled reached
// through workload identity (a TokenRequest-made ServiceAccount token in a file) and converging a
// SecurityModuleConfig; a role removed and given back; a ServiceAccount token expired or for another audience, a missing
// token file (each an operator of its own: the token file and the authority are the operator's, never an IoTHub's);
// the client secret, certificate and managed identity paths; a connection string refused; a hub host outside
// --entra-hub-hosts and the operator's identity outside --entra-namespaces refused before any token is asked for.
// Then the secrets and tokens are looked for in everything the operator wrote.
import assert from 'node:assert/strict';
import { subscribe } from 'node:diagnostics_channel';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MANAGED_IDENTITY_PATH, type RunningEmulator } from '../../src/emulator/index.js';
import { applyObjects, kubectlOk, sharedControlPlane, testNamespace } from '../support/control-plane.js';
import { startHubEmulator } from '../support/emulator-support.js';
import {
  clientCertificate,
  clientSecret,
  clusterIssuer,
  entraIotHub,
  federatedToken,
  TENANT,
} from '../support/entra.js';
import { installCrds } from '../support/kube.js';
import { fleet } from '../support/operator-fixture.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { hubSecret, iotHub, securityModuleConfig } from '../support/resources.js';
import { until } from '../support/until.js';

const cp = await sharedControlPlane();
const WORKLOAD_APP = '3f1e2d4c-0000-4000-8000-00000000a001';
const SECRET_APP = '3f1e2d4c-0000-4000-8000-00000000a002';
const CERTIFICATE_APP = '3f1e2d4c-0000-4000-8000-00000000a003';
const MANAGED_IDENTITY = '3f1e2d4c-0000-4000-8000-00000000a004';
const READER_APP = '3f1e2d4c-0000-4000-8000-00000000a005';
/** Federated with the operator's ServiceAccount like WORKLOAD_APP: only the operator's flags keep IoTHubs from it. */
const ELSEWHERE_APP = '3f1e2d4c-0000-4000-8000-00000000a006';
const BORROWER_APP = '3f1e2d4c-0000-4000-8000-00000000a007';

// Every bearer token the emulator received, to look for in what the operator wrote.
const bearerTokens = new Set<string>();
subscribe('http.server.request.start', (message) => {
  const header = (message as { request: { headers: Record<string, string | undefined> } }).request.headers
    .authorization;
  if (header?.startsWith('Bearer ')) bearerTokens.add(header.slice(7));
});

describe('the operator reaching hubs with Microsoft Entra ID', () => {
  let emulator: RunningEmulator;
  /** An Entra ID two hours ahead, for which a ServiceAccount token valid for one hour has expired. */
  let later: RunningEmulator;
  let namespace: string;
  /** A namespace not in --entra-namespaces: its IoTHubs may not use the operator's own identity. */
  let other: string;
  let operator: OperatorProcess;
  const operators: OperatorProcess[] = [];
  const secret = clientSecret();
  let certificate: { certificate: string; privateKey: string };
  const folder = mkdtempSync(join(tmpdir(), 'entra-operator-'));
  const serviceAccountTokens: string[] = [];
  const k = (args: string[], ns = namespace) => kubectlOk(cp.kubeconfig, [...args, '-n', ns]);
  const ready = async (kind: string, name: string, ns = namespace) =>
    JSON.parse(await k(['get', kind, name, '-o', 'json'], ns)).status?.conditions?.find(
      (c: { type: string }) => c.type === 'Ready',
    ) as { status: string; reason: string; message: string } | undefined;
  const waitFor = (
    kind: string,
    name: string,
    test: (c: { status: string; reason: string; message: string }) => boolean,
    what: string,
    ns = namespace,
  ) =>
    until(
      async () => {
        const condition = await ready(kind, name, ns);
        return condition !== undefined && test(condition);
      },
      60_000,
      `${kind}/${name}: ${what}`,
    ).catch(async (error) => {
      throw new Error(`${error.message}; Ready is ${JSON.stringify(await ready(kind, name, ns))}`);
    });
  const tokenFile = async (name: string, serviceAccount: string, audience?: string) => {
    const token = await federatedToken(cp, namespace, serviceAccount, { audience });
    serviceAccountTokens.push(token);
    const path = join(folder, name);
    writeFileSync(path, token, { mode: 0o600 });
    return path;
  };
  const entraHub = (name: string, auth: Record<string, unknown>, hostName = emulator.hostName) =>
    entraIotHub(name, hostName, auth, { caSecretRef: { name: 'hub-ca' } });

  before(async () => {
    await installCrds(cp);
    namespace = await testNamespace(cp, 'entra-operator');
    other = await testNamespace(cp, 'entra-other');
    const issuer = await clusterIssuer(cp);
    // An app that trusts the operator's ServiceAccount of this cluster.
    const federated = (clientId: string) => ({
      clientId,
      federatedCredentials: [
        { issuer: issuer.issuer, subject: `system:serviceaccount:${namespace}:operator` },
      ],
    });
    certificate = await clientCertificate();
    emulator = await startHubEmulator({
      localAuthentication: false,
      entra: {
        tenantId: TENANT,
        trustedIssuers: [issuer],
        applications: [
          federated(WORKLOAD_APP),
          { clientId: SECRET_APP, secrets: [secret] },
          { clientId: CERTIFICATE_APP, certificates: [certificate.certificate] },
          { clientId: READER_APP, secrets: [secret] },
          federated(ELSEWHERE_APP),
          federated(BORROWER_APP),
        ],
        managedIdentities: [{ clientId: MANAGED_IDENTITY }],
        roleAssignments: {
          [WORKLOAD_APP]: ['IoT Hub Data Contributor'],
          [SECRET_APP]: ['IoT Hub Twin Contributor'],
          [CERTIFICATE_APP]: ['IoT Hub Twin Contributor'],
          [MANAGED_IDENTITY]: ['IoT Hub Twin Contributor'],
          [READER_APP]: ['IoT Hub Data Reader'],
          [ELSEWHERE_APP]: ['IoT Hub Data Contributor'],
          [BORROWER_APP]: ['IoT Hub Data Contributor'],
        },
      },
    });
    emulator.addDevices(fleet('entra', 4, { site: 'entra' }));
    emulator.addDevices(fleet('readonly', 2, { site: 'readonly' }));
    later = await startHubEmulator({
      localAuthentication: false,
      clock: { now: () => Date.now() + 2 * 3600_000 },
      entra: {
        tenantId: TENANT,
        trustedIssuers: [issuer],
        applications: [federated(WORKLOAD_APP)],
        roleAssignments: { [WORKLOAD_APP]: ['IoT Hub Data Contributor'] },
      },
    });
    const objects: object[] = [
      hubSecret('hub-ca', { 'ca.crt': emulator.caCert }),
      hubSecret('app-secret', { clientSecret: secret }),
      hubSecret('app-certificate', { 'tls.crt': certificate.certificate, 'tls.key': certificate.privateKey }),
      hubSecret('sas', { connectionString: emulator.connectionString, 'ca.crt': emulator.caCert }),
      entraHub('hub', { kind: 'WorkloadIdentity', clientId: WORKLOAD_APP }),
      securityModuleConfig('baseline', {
        hubRef: { name: 'hub' },
        target: { condition: "tags.site = 'entra'" },
        agentConfiguration: { snapshotFrequency: 'PT6H' },
      }),
      entraHub('by-secret', {
        kind: 'ClientSecret',
        clientId: SECRET_APP,
        clientSecretRef: { name: 'app-secret' },
      }),
      entraHub('by-certificate', {
        kind: 'ClientCertificate',
        clientId: CERTIFICATE_APP,
        clientCertificateRef: { name: 'app-certificate' },
      }),
      entraHub('read-only', {
        kind: 'ClientSecret',
        clientId: READER_APP,
        clientSecretRef: { name: 'app-secret' },
      }),
      securityModuleConfig('readonly', {
        hubRef: { name: 'read-only' },
        target: { condition: "tags.site = 'readonly'" },
        agentConfiguration: { snapshotFrequency: 'PT6H' },
      }),
      iotHub('by-managed-identity', {
        connectionStringSecretRef: undefined,
        hostName: emulator.hostName,
        auth: { kind: 'ManagedIdentity', clientId: MANAGED_IDENTITY },
        caSecretRef: { name: 'hub-ca' },
        tier: 'S3',
        units: 10,
      }),
      iotHub('by-key', {
        connectionStringSecretRef: { name: 'sas' },
        caSecretRef: { name: 'sas' },
        tier: 'S3',
        units: 10,
      }),
    ];
    // A workload identity hub for a host of its author's choosing: the operator's token would go there.
    objects.push(
      entraHub('elsewhere', { kind: 'WorkloadIdentity', clientId: ELSEWHERE_APP }, 'attacker.example'),
    );
    await applyObjects(cp.kubeconfig, objects, ['-n', namespace]);
    await applyObjects(
      cp.kubeconfig,
      [
        hubSecret('hub-ca', { 'ca.crt': emulator.caCert }),
        hubSecret('app-secret', { clientSecret: secret }),
        // The operator's identity, which this namespace was not given.
        entraHub('borrowed', { kind: 'WorkloadIdentity', clientId: BORROWER_APP }),
        // Its own app registration's secret: not the operator's identity, so not restricted by --entra-namespaces.
        entraHub('own-secret', {
          kind: 'ClientSecret',
          clientId: SECRET_APP,
          clientSecretRef: { name: 'app-secret' },
        }),
      ],
      ['-n', other],
    );
    // The managed identity endpoint as App Service sets it in a process's environment.
    operator = startOperatorProcess(
      [
        '--kubeconfig',
        cp.kubeconfig,
        '--namespace',
        namespace,
        '--namespace',
        other,
        ...entraFlags(emulator, namespace),
      ],
      {
        LOG_LEVEL: 'debug',
        AZURE_FEDERATED_TOKEN_FILE: await tokenFile('operator', 'operator'),
        IDENTITY_ENDPOINT: `${emulator.endpoint}${MANAGED_IDENTITY_PATH}`,
        IDENTITY_HEADER: emulator.entra!.identityHeader,
      },
    );
  });
  /** The flags an administrator gives the operator for one authority and hub (the emulator playing both). */
  const entraFlags = (target: RunningEmulator, identityNamespace: string) => {
    const caFile = join(folder, `authority-ca-${target.port}.pem`);
    writeFileSync(caFile, target.caCert);
    return [
      '--entra-hub-hosts',
      target.hostName,
      '--entra-namespaces',
      identityNamespace,
      '--entra-authority-host',
      target.endpoint,
      '--entra-authority-ca-file',
      caFile,
    ];
  };
  /** An operator of its own on a namespace of its own, for one workload identity hub and one token file. */
  const workloadIdentityOperator = async (
    name: string,
    target: RunningEmulator,
    tokenFilePath: string,
  ): Promise<string> => {
    const ns = await testNamespace(cp, `entra-${name}`);
    await applyObjects(
      cp.kubeconfig,
      [
        hubSecret('hub-ca', { 'ca.crt': target.caCert }),
        iotHub(name, {
          connectionStringSecretRef: undefined,
          hostName: target.hostName,
          auth: { kind: 'WorkloadIdentity', tenantId: TENANT, clientId: WORKLOAD_APP },
          caSecretRef: { name: 'hub-ca' },
          tier: 'S3',
          units: 10,
        }),
      ],
      ['-n', ns],
    );
    operators.push(
      startOperatorProcess(['--kubeconfig', cp.kubeconfig, '--namespace', ns, ...entraFlags(target, ns)], {
        AZURE_FEDERATED_TOKEN_FILE: tokenFilePath,
      }),
    );
    return ns;
  };
  after(async () => {
    await operator?.stop();
    for (const o of operators) await o.stop();
    await emulator?.close();
    await later?.close();
  });

  it('converges a SecurityModuleConfig on a hub without local authentication through workload identity', async () => {
    await waitFor('smc', 'baseline', (c) => c.status === 'True', 'converged');
    assert.equal((await ready('iothub', 'hub'))?.status, 'True');
    assert.ok(emulator.hub.stats.count('twinUpdate', 200) >= 4);
  });

  it('names the role to assign when the identity loses it, and recovers once it is given back', async () => {
    await waitFor('iothub', 'hub', (c) => c.status === 'True', 'Ready');
    emulator.entra!.directory.assignRoles(WORKLOAD_APP, []);
    // A new resource on the hub makes the operator call it, with an identity that may no longer read or write: the
    // hub answers 401 "no assigned permissions", and the IoTHub says which role to assign (the one the first call
    // refused needs: a twin read or query, or a twin write, whichever the step made first).
    await applyObjects(
      cp.kubeconfig,
      [
        securityModuleConfig('after-role-loss', {
          hubRef: { name: 'hub' },
          target: { condition: "tags.site = 'entra'" },
          priority: 30,
          agentConfiguration: { snapshotFrequency: 'PT7H' },
        }),
      ],
      ['-n', namespace],
    );
    const missing = (c: { status: string; reason: string }) =>
      c.status === 'False' && c.reason === 'HubRoleMissing';
    await waitFor('iothub', 'hub', missing, 'HubRoleMissing on the IoTHub');
    assert.match((await ready('iothub', 'hub'))!.message, /assign it the role 'IoT Hub [A-Za-z ]+'/);
    await waitFor('smc', 'after-role-loss', missing, 'HubRoleMissing on the resource waiting for its hub');
    // The role back: the retries (with backoff) find it, and the resource converges without anyone touching it.
    emulator.entra!.directory.assignRoles(WORKLOAD_APP, ['IoT Hub Data Contributor']);
    await waitFor('smc', 'after-role-loss', (c) => c.status === 'True', 'converged once the role is back');
    assert.equal((await ready('iothub', 'hub'))?.status, 'True');
    await k(['delete', 'smc', 'after-role-loss', '--wait']);
  });

  it('names the role a twin write needs when the identity may only read', async () => {
    const missing = (c: { status: string; reason: string }) =>
      c.status === 'False' && c.reason === 'HubRoleMissing';
    await waitFor('iothub', 'read-only', missing, 'HubRoleMissing on the IoTHub');
    assert.match(
      (await ready('iothub', 'read-only'))!.message,
      /twins\/write.*assign it the role 'IoT Hub Twin Contributor'.*no assigned permissions/,
    );
    await until(
      async () => (await k(['get', 'smc', 'readonly', '-o', 'json'])).includes("'IoT Hub Twin Contributor'"),
      60_000,
      'the SecurityModuleConfig to name the role its writes need',
    );
  });

  it('says why Entra ID refused an expired token or one for another audience, and that a token file is missing', async () => {
    const wrongAudience = await workloadIdentityOperator(
      'wrong-audience',
      emulator,
      await tokenFile('wrong-audience', 'operator', 'https://kubernetes.default.svc'),
    );
    const expired = await workloadIdentityOperator(
      'expired-token',
      later,
      await tokenFile('expired', 'operator'),
    );
    const noTokenFile = await workloadIdentityOperator('no-token-file', emulator, join(folder, 'absent'));
    const refused = (c: { reason: string }) => c.reason === 'AuthorityRefused';
    await waitFor('iothub', 'wrong-audience', refused, 'AuthorityRefused', wrongAudience);
    assert.match((await ready('iothub', 'wrong-audience', wrongAudience))!.message, /AADSTS700212/);
    await waitFor('iothub', 'expired-token', refused, 'AuthorityRefused', expired);
    assert.match((await ready('iothub', 'expired-token', expired))!.message, /AADSTS700024/);
    const unreadable = (c: { reason: string }) => c.reason === 'TokenFileUnreadable';
    await waitFor('iothub', 'no-token-file', unreadable, 'TokenFileUnreadable', noTokenFile);
    assert.match((await ready('iothub', 'no-token-file', noTokenFile))!.message, /ENOENT/);
  });

  it('reaches the hub with a client secret, or a certificate and its key, from a Secret', async () => {
    await waitFor('iothub', 'by-secret', (c) => c.status === 'True', 'Ready');
    await waitFor('iothub', 'by-certificate', (c) => c.status === 'True', 'Ready');
  });

  it("reaches the hub with a managed identity from the platform's identity endpoint", async () => {
    await waitFor('iothub', 'by-managed-identity', (c) => c.status === 'True', 'Ready');
  });

  it('asks for no token for a hub host outside --entra-hub-hosts, and says so', async () => {
    await waitFor('iothub', 'elsewhere', (c) => c.reason === 'HubHostNotAllowed', 'HubHostNotAllowed');
    const condition = (await ready('iothub', 'elsewhere'))!;
    assert.equal(condition.status, 'False');
    assert.match(condition.message, /attacker\.example matches none of the operator's --entra-hub-hosts/);
    assert.equal(emulator.entra!.tokenRequests(ELSEWHERE_APP), 0);
  });

  it("lends the operator's own identity only to --entra-namespaces, while a namespace's own app secret works", async () => {
    await waitFor(
      'iothub',
      'borrowed',
      (c) => c.reason === 'IdentityNotAllowed',
      'IdentityNotAllowed',
      other,
    );
    assert.match((await ready('iothub', 'borrowed', other))!.message, /not in --entra-namespaces/);
    assert.equal(emulator.entra!.tokenRequests(BORROWER_APP), 0);
    await waitFor('iothub', 'own-secret', (c) => c.status === 'True', 'Ready', other);
  });

  it('is refused with a connection string when the hub has local authentication disabled', async () => {
    await waitFor('iothub', 'by-key', (c) => c.reason === 'Unauthorized', 'Unauthorized');
  });

  it('writes neither the client secret nor a token anywhere', async () => {
    const sources: [string, string][] = [
      ['operator log', operator.log()],
      ...operators.map((o, i) => [`log of operator ${i + 1} of its own`, o.log()] as [string, string]),
      // Every namespace: the refusals (AADSTS texts, 401s) are in the others' statuses and Events.
      ['Events', await kubectlOk(cp.kubeconfig, ['get', 'events', '-A', '-o', 'json'])],
      [
        'status',
        await kubectlOk(cp.kubeconfig, ['get', 'iothubs,securitymoduleconfigs', '-A', '-o', 'json']),
      ],
    ];
    const refusals = sources.find(([name]) => name === 'status')![1];
    assert.match(refusals, /AuthorityRefused/, 'the scan reads the namespaces of the refused hubs');
    assert.ok(bearerTokens.size > 0, 'the operator sent bearer tokens');
    for (const [name, text] of sources) {
      for (const [what, needle] of [
        ['the client secret', secret],
        ['the identity header', emulator.entra!.identityHeader],
        ['the private key', certificate.privateKey.split('\n')[1]],
        ...serviceAccountTokens.map((t) => ['a ServiceAccount token', t] as const),
        ...[...bearerTokens].map((t) => ['an access token', t] as const),
      ] as const) {
        assert.equal(text.includes(needle), false, `${what} in the ${name}`);
        // A JWT's signature alone is secret enough to look for.
        const signature = needle.split('.')[2];
        if (signature) assert.equal(text.includes(signature), false, `${what}'s signature in the ${name}`);
      }
    }
  });
});
