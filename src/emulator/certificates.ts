// A private CA and a server certificate it signs for the emulator's host names (ECDSA P-256). Node cannot
// create X.509 certificates, so @peculiar/x509 (WebCrypto based) builds them; it needs a Reflect polyfill,
// loaded only here and only when certificates are made.
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

export interface EmulatorCertificates {
  /** PEM of the CA clients must trust. */
  caCert: string;
  /** PEM of the server certificate, then the CA (the chain the server presents). */
  serverCert: string;
  /** PEM (PKCS#8) of the server's private key. */
  serverKey: string;
  /** Host names and IP addresses in the server certificate. */
  hosts: string[];
  /** ISO time after which the server certificate is no longer valid. */
  notAfter: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const VALIDITY_DAYS = 365;
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

async function loadX509() {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  return x509;
}

function serialNumber(): string {
  // Positive (first bit clear) 16-byte serial, as RFC 5280 asks.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  return Buffer.from(bytes).toString('hex');
}

/** Makes a CA and a server certificate valid for `hosts` (DNS names or IP addresses). */
export async function createCertificates(
  hosts: readonly string[],
  now = new Date(),
  caName = 'IoT Hub Emulator CA',
): Promise<EmulatorCertificates> {
  const x509 = await loadX509();
  const notBefore = new Date(now.getTime() - DAY_MS);
  const notAfter = new Date(now.getTime() + VALIDITY_DAYS * DAY_MS);
  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${caName}, O=iot-security-operator`,
    notBefore,
    notAfter,
    keys: caKeys as CryptoKeyPair,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey as CryptoKey),
    ],
  });
  const serverKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const names = [...new Set(hosts)];
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${names.find((h) => !isIP(h)) ?? 'localhost'}`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    signingKey: caKeys.privateKey as CryptoKey,
    publicKey: serverKeys.publicKey as CryptoKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey as CryptoKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', serverKeys.privateKey as CryptoKey);
  const caPem = ca.toString('pem');
  return {
    caCert: caPem,
    serverCert: `${server.toString('pem')}\n${caPem}`,
    serverKey: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    hosts: names,
    notAfter: notAfter.toISOString(),
  };
}

/** Whether stored certificates still serve: valid for a day more and covering every host. */
export function certificatesUsable(
  certs: EmulatorCertificates,
  hosts: readonly string[],
  now = new Date(),
): boolean {
  return Date.parse(certs.notAfter) - now.getTime() > DAY_MS && hosts.every((h) => certs.hosts.includes(h));
}
