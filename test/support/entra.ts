// Clients of the emulator's Entra authority as the operator makes them: @azure/identity credentials pointed at
// it (its CA trusted, no instance discovery), a Registry from a token credential, and a certificate for
// ClientCertificateCredential. Secrets made here are kept for the suite's scan.
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { TokenCredential } from '@azure/identity';
import iothub, { type Registry } from 'azure-iothub';
import { FEDERATION_AUDIENCE, type RunningEmulator, type TrustedIssuer } from '../../src/emulator/index.js';
import { HubHttpsAgent, useHubAgent } from '../../src/hub/sdk-transport.js';
import { type ControlPlaneInfo, kubectl, kubectlOk, serviceAccountToken } from './control-plane.js';
import { iotHub, type ObjectOptions, type TestObject } from './resources.js';
import { keepKeys } from './suite-output.js';

export const TENANT = '72f988bf-0000-4000-8000-00000000e17a';

export function authorityOptions(emulator: RunningEmulator) {
  return {
    authorityHost: emulator.endpoint,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: [...tls.rootCertificates, emulator.caCert] },
  };
}

export function tokenRegistry(emulator: RunningEmulator, credential: TokenCredential): Registry {
  const registry = iothub.Registry.fromTokenCredential(emulator.hostName, credential);
  useHubAgent(registry, new HubHttpsAgent({ ca: emulator.caCert }));
  return registry;
}

/** A random client secret value, kept for the scan. */
export function clientSecret(): string {
  const secret = Buffer.from(webcrypto.getRandomValues(new Uint8Array(30))).toString('base64url');
  keepKeys([secret]);
  return secret;
}

/** A self-signed RSA certificate and its key, PEM, as an app registration's certificate credential. */
export async function clientCertificate(): Promise<{ certificate: string; privateKey: string }> {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=iot-security-operator test app',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: algorithm,
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const privateKey = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  keepKeys([Buffer.from(pkcs8).toString('base64')]);
  return { certificate: certificate.toString('pem'), privateKey };
}

/**
 * The control plane's service-account issuer, as a cluster's OIDC issuer Entra trusts: its URL and the CA of
 * its HTTPS certificate. Its discovery document and keys are opened to anonymous readers, as a public issuer
 * is (AKS serves them publicly): by default only ServiceAccounts may read them.
 */
export async function clusterIssuer(cp: ControlPlaneInfo): Promise<TrustedIssuer> {
  const binding = 'iot-security-operator-test-public-issuer';
  const exists = await kubectl(cp.kubeconfig, ['get', 'clusterrolebinding', binding]);
  if (exists.code !== 0) {
    const created = await kubectl(cp.kubeconfig, [
      'create',
      'clusterrolebinding',
      binding,
      '--clusterrole=system:service-account-issuer-discovery',
      '--group=system:unauthenticated',
    ]);
    // Another test process may have created it in between.
    if (created.code !== 0 && !created.stderr.includes('AlreadyExists')) throw new Error(created.stderr);
  }
  const discovery = JSON.parse(
    await kubectlOk(cp.kubeconfig, ['get', '--raw', '/.well-known/openid-configuration']),
  ) as { issuer: string };
  return { issuer: discovery.issuer, ca: readFileSync(cp.caFile, 'utf8') };
}

/**
 * A ServiceAccount token as the kubelet projects one for workload identity: for Entra ID's token exchange
 * (audience api://AzureADTokenExchange) unless another audience is given.
 */
export function federatedToken(
  cp: ControlPlaneInfo,
  namespace: string,
  name: string,
  options: { audience?: string; duration?: string } = {},
): Promise<string> {
  return serviceAccountToken(cp, namespace, name, {
    audience: options.audience ?? FEDERATION_AUDIENCE,
    duration: options.duration ?? '1h',
  });
}

/**
 * An IoTHub the operator reaches through Microsoft Entra ID at `hostName` (the emulator's, S3 x10): no connection
 * string, and the tenant TENANT unless `auth` names another; `spec` adds to it or overrides.
 */
export function entraIotHub(
  name: string,
  hostName: string,
  auth: Record<string, unknown>,
  spec: Record<string, unknown> = {},
  options: ObjectOptions = {},
): TestObject {
  return iotHub(
    name,
    {
      connectionStringSecretRef: undefined,
      hostName,
      auth: { tenantId: TENANT, ...auth },
      tier: 'S3',
      units: 10,
      ...spec,
    },
    options,
  );
}
