// Service connection strings, checked before the SDK sees them so that every mistake becomes one typed error
// that names the hub and the cause. No message, log line or enumerable field ever holds the key.
import {
  parseSharedAccessSignature,
  sharedAccessSignatureExpiry,
} from '../protocol/shared-access-signature.js';
import { HubError } from './errors.js';

export interface HubConnectionString {
  /** `name.azure-devices.net`, or `host:port` for the emulator and private gateways. */
  hostName: string;
  /** The shared access policy, e.g. `iothubowner` or `registryReadWrite`. */
  policyName: string;
  /** `key`: the SDK signs a fresh token per call. `signature`: a ready token that expires at `expiresAt`. */
  credential: 'key' | 'signature';
  /** Epoch ms after which a ready signature is rejected; undefined for keys. */
  expiresAt?: number;
}

const secrets = new WeakMap<HubConnectionString, string>();

/** The key or signature of a parsed connection string, for the one place that builds the SDK client. */
export function connectionSecret(connection: HubConnectionString): string {
  const secret = secrets.get(connection);
  if (secret === undefined)
    throw new RangeError('not a connection string parsed by parseHubConnectionString');
  return secret;
}

const HOST_NAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d{1,5})?$/;
const KNOWN_NAMES = new Set([
  'HostName',
  'SharedAccessKeyName',
  'SharedAccessKey',
  'SharedAccessSignature',
  'DeviceId',
  'ModuleId',
  'GatewayHostName',
]);
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function configurationError(hubName: string | undefined, cause: string): HubError {
  const subject = hubName ? `the connection string for hub ${hubName}` : 'the connection string';
  return new HubError({ kind: 'Configuration', hubName, message: `${subject} is not valid: ${cause}` });
}

/**
 * Parses `HostName=...;SharedAccessKeyName=...;SharedAccessKey=...` (or `SharedAccessSignature=...` in place of
 * the key). Throws a HubError of kind 'Configuration' that says which part is wrong, without echoing values
 * other than the host and policy names.
 */
export function parseHubConnectionString(text: string, now = Date.now()): HubConnectionString {
  if (typeof text !== 'string' || text.trim() === '') throw configurationError(undefined, 'it is empty');
  const fields = new Map<string, string>();
  const parts = text.trim().replace(/;+$/, '').split(';');
  for (const [index, part] of parts.entries()) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw configurationError(undefined, `part ${index + 1} of ${parts.length} is not Name=value`);
    const name = part.slice(0, eq).trim();
    // Unknown names are ignored, as the SDK does, and never echoed: a stray key could look like one.
    if (!KNOWN_NAMES.has(name)) continue;
    if (fields.has(name)) throw configurationError(undefined, `${name} appears twice`);
    fields.set(name, part.slice(eq + 1).trim());
  }
  const hostName = fields.get('HostName');
  if (!hostName) throw configurationError(undefined, 'HostName is missing');
  if (!HOST_NAME.test(hostName)) {
    throw configurationError(
      undefined,
      'HostName is not a host name (expected name.azure-devices.net or host:port)',
    );
  }
  if (fields.has('DeviceId') || fields.has('ModuleId')) {
    throw configurationError(
      hostName,
      'it is a device connection string (it names DeviceId); use the connection string of a shared access policy with registry read and write permissions',
    );
  }
  const policyName = fields.get('SharedAccessKeyName');
  if (!policyName) throw configurationError(hostName, 'SharedAccessKeyName (the policy name) is missing');
  const key = fields.get('SharedAccessKey');
  const signature = fields.get('SharedAccessSignature');
  if (key !== undefined && signature !== undefined) {
    throw configurationError(hostName, 'it has both SharedAccessKey and SharedAccessSignature; keep one');
  }
  if (key !== undefined) {
    if (!BASE64.test(key) || Buffer.from(key, 'base64').length < 16) {
      throw configurationError(hostName, `the SharedAccessKey of policy '${policyName}' is not a base64 key`);
    }
    const connection: HubConnectionString = { hostName, policyName, credential: 'key' };
    secrets.set(connection, key);
    return connection;
  }
  if (signature !== undefined) {
    const token = parseSharedAccessSignature(signature);
    const expiry = token && sharedAccessSignatureExpiry(token);
    if (!token?.sr || !token.sig || expiry === undefined) {
      throw configurationError(
        hostName,
        'SharedAccessSignature is not a token of the form SharedAccessSignature sr=&sig=&se=&skn= (sr, sig and a whole-number se are required, each once)',
      );
    }
    const expiresAt = expiry * 1000;
    if (expiresAt <= now) {
      throw new HubError({
        kind: 'Unauthorized',
        hubName: hostName,
        message: `the connection string for hub ${hostName} is expired: its shared access signature (policy '${policyName}') expired at ${new Date(expiresAt).toISOString()}`,
      });
    }
    const connection: HubConnectionString = { hostName, policyName, credential: 'signature', expiresAt };
    secrets.set(connection, signature);
    return connection;
  }
  throw configurationError(hostName, `SharedAccessKey is missing for policy '${policyName}'`);
}
