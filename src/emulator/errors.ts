// The hub's error responses: the status, the code in `ErrorCode:<Code>;<text>` and the tracking line. The
// SDK reads the code from `Message` (it splits on ';', so texts never contain one).
import { randomBytes } from 'node:crypto';

/** An error answer the emulated hub sends (thrown inside the emulator, written out by the server). */
export class HubErrorResponse extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Retry-After on throttling. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message.replaceAll(';', ','));
    this.name = 'HubErrorResponse';
  }
}

export const hubErrors = {
  unauthorized: () => new HubErrorResponse(401, 'IotHubUnauthorizedAccess', 'Unauthorized'),
  localAuthDisabled: () =>
    new HubErrorResponse(
      401,
      'IotHubUnauthorizedAccess',
      'Unauthorized: local authentication (shared access policies) is disabled for this IoT hub, use a Microsoft Entra ID token',
    ),
  invalidProtocolVersion: (version: string | null) =>
    new HubErrorResponse(
      400,
      'InvalidProtocolVersion',
      version ? `Invalid api-version '${version}'` : 'The api-version query parameter is required',
    ),
  argumentInvalid: (text: string) => new HubErrorResponse(400, 'ArgumentInvalid', text),
  argumentNull: (name: string) =>
    new HubErrorResponse(400, 'ArgumentNull', `${name} cannot be null or empty`),
  formatError: (text: string) => new HubErrorResponse(400, 'IotHubFormatError', text),
  invalidOperation: (text: string) => new HubErrorResponse(400, 'InvalidOperation', text),
  sectionTooLarge: (section: string, limit: number) =>
    new HubErrorResponse(
      403,
      'DeviceModelMaxPropertiesExceeded',
      `'${section}' size should be less than ${limit} bytes.`,
    ),
  deviceNotFound: (deviceId: string) =>
    new HubErrorResponse(404, 'DeviceNotFound', `Device ${deviceId} not registered`),
  moduleNotFound: (deviceId: string, moduleId: string) =>
    new HubErrorResponse(404, 'ModuleNotFound', `Module ${moduleId} on device ${deviceId} not registered`),
  jobNotFound: (jobId: string) =>
    new HubErrorResponse(404, 'JobNotFound', `Job with id '${jobId}' was not found`),
  routeNotFound: (method: string, path: string) =>
    new HubErrorResponse(404, 'InvalidOperation', `${method} ${path} is not an operation of this hub`),
  deviceAlreadyExists: (deviceId: string) =>
    new HubErrorResponse(409, 'DeviceAlreadyExists', `A device with ID '${deviceId}' is already registered.`),
  moduleAlreadyExists: (deviceId: string, moduleId: string) =>
    new HubErrorResponse(
      409,
      'ModuleAlreadyExistsOnDevice',
      `A module with ID '${moduleId}' is already registered on device '${deviceId}'.`,
    ),
  jobAlreadyExists: (jobId: string) =>
    new HubErrorResponse(409, 'JobAlreadyExists', `A job with id '${jobId}' already exists`),
  preconditionFailed: (what: string) =>
    new HubErrorResponse(
      412,
      'PreconditionFailed',
      `Precondition failed: the etag does not match the ${what}'s current etag`,
    ),
  requestTooLarge: (limit: number) =>
    new HubErrorResponse(413, 'MessageTooLarge', `The request body is larger than ${limit} bytes`),
  /** The C# SDK maps a 413 from PUT /devices/{id}/modules/{mid} to TooManyModulesOnDeviceException (413003). */
  tooManyModules: (deviceId: string, limit: number) =>
    new HubErrorResponse(
      413,
      'TooManyModulesOnDevice',
      `Device ${deviceId} already has the maximum of ${limit} modules`,
    ),
  throttled: (operation: string, retryAfterSeconds: number) =>
    new HubErrorResponse(
      429,
      'ThrottlingException',
      `IotHub throttling limit for ${operation} operations exceeded. Retry after some time.`,
      { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    ),
  tooManyActiveJobs: (limit: number) =>
    new HubErrorResponse(
      429,
      'ThrottlingMaxActiveJobCountExceeded',
      `The number of active jobs has reached the maximum of ${limit} for this hub's tier`,
    ),
  serverError: () => new HubErrorResponse(500, 'ServerError', 'Internal server error (injected fault)'),
  serviceUnavailable: () =>
    new HubErrorResponse(503, 'ServiceUnavailable', 'Service unavailable (injected fault)'),
};

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** `Tracking ID:<32 hex>-G:0-TimeStamp:MM/dd/yyyy HH:mm:ss`, as the hub writes it. */
export function trackingLine(now: Date): string {
  const stamp = `${pad(now.getUTCMonth() + 1)}/${pad(now.getUTCDate())}/${now.getUTCFullYear()} ${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}`;
  return `Tracking ID:${randomBytes(16).toString('hex')}-G:0-TimeStamp:${stamp}`;
}

/** The JSON body of an error response. */
export function errorBody(error: HubErrorResponse, now = new Date()): string {
  return JSON.stringify({
    Message: `ErrorCode:${error.code};${error.message}`,
    ExceptionMessage: trackingLine(now),
  });
}
