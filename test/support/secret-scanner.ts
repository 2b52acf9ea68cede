// Looks for secrets in text: given keys in every form they could leak in (base64, URL-encoded, base64url, hex,
// decoded, their first 16 characters), the SharedAccessSignature tokens clients sent, and any SharedAccessKey=,
// AccountKey=, sig= or Entra ID client_secret= value (quoted or URL-encoded too), bare 32-byte base64 key, JWT (an
// access token, a client assertion, a ServiceAccount token) or private key not redacted. Used by the secrets-scan
// test and by the scan of the whole suite's output (scripts/scan-suite-output.ts).
import assert from 'node:assert/strict';
import { BARE_KEY, JWT } from '../../src/observability/redact.js';

export interface ScannedSource {
  name: string;
  bytes: number;
  lines: number;
  findings: string[];
}

export class SecretScanner {
  private readonly needles = new Map<string, string>();
  readonly sources: ScannedSource[] = [];
  tokens = 0;
  keys = 0;

  /** A key and the forms it could leak in. */
  addKey(label: string, key: string): void {
    this.keys++;
    const decoded = Buffer.from(key, 'base64');
    const forms: Record<string, string> = {
      base64: key,
      'URL-encoded': encodeURIComponent(key),
      base64url: decoded.toString('base64url'),
      hex: decoded.toString('hex'),
      'first 16 characters': key.slice(0, 16),
    };
    // Sentinels decode to text; random keys to bytes that would only leak as hex or base64.
    const text = decoded.toString('latin1');
    if (/^[\x20-\x7e]+$/.test(text)) forms.decoded = text.replace(/!+$/, '');
    for (const [form, value] of Object.entries(forms)) this.needles.set(value, `${label} (${form})`);
  }

  /** A token a client sent: the whole of it, and its signature (as sent and decoded). */
  addToken(token: string): void {
    const sig = /(?:^|[&\s])sig=([^&\s]+)/.exec(token)?.[1];
    if (!sig || this.needles.has(token)) return;
    this.tokens++;
    this.needles.set(token, 'a SharedAccessSignature token sent');
    this.needles.set(sig, 'the signature of a token sent');
    this.needles.set(decodeURIComponent(sig), 'the signature of a token sent (decoded)');
  }

  /**
   * Scans `text`; records the figures and returns the findings, each with its line, and with the text around it
   * when `quote` (a test's own failure message; never in a log others read: it would hold the secret).
   */
  scan(name: string, text: string, { quote = true } = {}): string[] {
    const findings: string[] = [];
    const where = (index: number) =>
      `line ${text.slice(0, index).split('\n').length}` +
      (quote ? `: ...${text.slice(Math.max(0, index - 40), index + 60)}...` : '');
    for (const [needle, what] of this.needles) {
      const index = text.indexOf(needle);
      if (index >= 0) findings.push(`${what} at ${where(index)}`);
    }
    for (const [pattern, what] of [
      // A value that looks like one (base64, maybe URL-encoded, maybe quoted; 8 characters or more), not prose
      // that names it: the forms src/observability/redact.ts redacts.
      [
        /SharedAccessKey(?:\s*=\s*|%3D)\\?["']?(?!\[REDACTED\])[A-Za-z0-9+/%]{8,}/i,
        'a SharedAccessKey= value',
      ],
      [/AccountKey(?:\s*=\s*|%3D)\\?["']?(?!\[REDACTED\])[A-Za-z0-9+/%]{8,}/i, 'an AccountKey= value'],
      [/(?<![A-Za-z])sig(?:=|%3[Dd])(?!\[REDACTED\])[A-Za-z0-9+/%]{8,}/, 'a sig= signature'],
      [
        /(?<![A-Za-z])client_secret(?:\s*=\s*|%3D)\\?["']?(?!\[REDACTED\])[^&;"'\s\\]{8,}/i,
        'a client_secret= value',
      ],
      [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
      // An Entra ID access token, a client assertion or a ServiceAccount token, wherever it is.
      [new RegExp(JWT), 'a JWT'],
      // A key pasted alone: 44 characters of base64 that decode to 32 bytes (the length of a shared access key).
      [new RegExp(BARE_KEY), 'a bare 32-byte base64 key'],
    ] as const) {
      const match = pattern.exec(text);
      if (match) findings.push(`${what} at ${where(match.index)}`);
    }
    const source = {
      name,
      bytes: Buffer.byteLength(text),
      lines: text === '' ? 0 : text.split('\n').length,
      findings,
    };
    this.sources.push(source);
    return findings;
  }

  /** Scans and fails on a finding, naming the source. */
  assertClean(name: string, text: string): void {
    const findings = this.scan(name, text);
    assert.deepEqual(
      findings,
      [],
      `${name} holds a secret:\n${findings.join('\n')}\n--- ${name} ---\n${text.slice(0, 4000)}`,
    );
  }
}
