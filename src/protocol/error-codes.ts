// IoT Hub's numeric error codes (Microsoft.Azure.Devices ErrorCode), by name: the hub client reads them from
// error bodies, the emulator writes them. JobNotFound and JobAlreadyExists have no published number.

export const HUB_ERROR_NUMBERS: Readonly<Record<string, number>> = {
  InvalidProtocolVersion: 400001,
  InvalidOperation: 400003,
  ArgumentInvalid: 400004,
  ArgumentNull: 400005,
  IotHubFormatError: 400006,
  IotHubUnauthorizedAccess: 401002,
  IotHubUnauthorized: 401003,
  IotHubQuotaExceeded: 403002,
  DeviceModelMaxPropertiesExceeded: 403100,
  DeviceNotFound: 404001,
  ModuleNotFound: 404010,
  DeviceAlreadyExists: 409001,
  ModuleAlreadyExistsOnDevice: 409301,
  PreconditionFailed: 412001,
  MessageTooLarge: 413001,
  TooManyDevices: 413002,
  TooManyModulesOnDevice: 413003,
  ThrottlingException: 429001,
  ThrottleBacklogLimitExceeded: 429002,
  ThrottlingMaxActiveJobCountExceeded: 429004,
  ServerError: 500001,
  ServiceUnavailable: 503001,
};

export const HUB_ERROR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(HUB_ERROR_NUMBERS).map(([name, code]) => [code, name]),
);
