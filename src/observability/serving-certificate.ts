// The certificate /metrics is served with: files given (a kubernetes.io/tls Secret mounted, cert-manager's), read
// again when they change, or, when none is given, a self-signed one made at start (as controller-runtime does)
// that scrapers accept with insecureSkipVerify, their bearer token still checked.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createCertificates } from '../emulator/certificates.js';

export interface ServingCertificate {
  cert: string;
  key: string;
}

export interface CertificateFiles {
  /** Folder holding the files (--metrics-cert-path). */
  dir: string;
  certName: string;
  keyName: string;
}

/** How often the files are looked at: a mounted Secret changes by a symlink swap, seen through stat. */
const WATCH_INTERVAL_MS = 10_000;

export async function selfSignedCertificate(): Promise<ServingCertificate> {
  const made = await createCertificates(
    ['localhost', hostname(), '127.0.0.1', '::1'],
    new Date(),
    'iot-security-operator metrics (self-signed)',
  );
  return { cert: made.serverCert, key: made.serverKey };
}

export function readCertificateFiles(files: CertificateFiles): ServingCertificate {
  return {
    cert: readFileSync(join(files.dir, files.certName), 'utf8'),
    key: readFileSync(join(files.dir, files.keyName), 'utf8'),
  };
}

/**
 * Calls `changed` with the files' new contents whenever either changes (a pair that does not load yet, the key
 * written before the certificate, is skipped: the next change brings the match). Returns the function that stops.
 */
export function watchCertificateFiles(
  files: CertificateFiles,
  changed: (certificate: ServingCertificate) => void,
  failed: (error: Error) => void,
): () => void {
  const paths = [join(files.dir, files.certName), join(files.dir, files.keyName)];
  const reload = (now: { mtimeMs: number }, before: { mtimeMs: number }) => {
    if (now.mtimeMs === before.mtimeMs) return;
    try {
      changed(readCertificateFiles(files));
    } catch (error) {
      failed(error as Error);
    }
  };
  for (const path of paths) watchFile(path, { interval: WATCH_INTERVAL_MS, persistent: false }, reload);
  return () => {
    for (const path of paths) unwatchFile(path, reload);
  };
}
