// DTDL models for the tests, written after the IoT Plug and Play samples (Thermostat, TemperatureController,
// DeviceInformation) and after the examples of the DTDL v2 and v3 specifications.

export const DEVICE_INFORMATION = {
  '@context': 'dtmi:dtdl:context;2',
  '@id': 'dtmi:azure:DeviceManagement:DeviceInformation;1',
  '@type': 'Interface',
  displayName: 'Device Information',
  contents: [
    { '@type': 'Property', name: 'manufacturer', schema: 'string' },
    { '@type': 'Property', name: 'model', schema: 'string' },
    { '@type': 'Property', name: 'swVersion', schema: 'string' },
    { '@type': 'Property', name: 'osName', schema: 'string' },
    { '@type': 'Property', name: 'processorArchitecture', schema: 'string' },
    { '@type': 'Property', name: 'processorManufacturer', schema: 'string' },
    { '@type': 'Property', name: 'totalStorage', schema: 'double' },
    { '@type': 'Property', name: 'totalMemory', schema: 'double' },
  ],
};

export const THERMOSTAT = {
  '@context': 'dtmi:dtdl:context;2',
  '@id': 'dtmi:com:example:Thermostat;1',
  '@type': 'Interface',
  displayName: 'Thermostat',
  description: 'Reports current temperature and provides desired temperature control.',
  contents: [
    {
      '@type': ['Telemetry', 'Temperature'],
      name: 'temperature',
      displayName: 'Temperature',
      schema: 'double',
      unit: 'degreeCelsius',
    },
    {
      '@type': ['Property', 'Temperature'],
      name: 'targetTemperature',
      displayName: 'Target Temperature',
      description: 'Allows to remotely specify the desired target temperature.',
      schema: 'double',
      unit: 'degreeCelsius',
      writable: true,
    },
    {
      '@type': ['Property', 'Temperature'],
      name: 'maxTempSinceLastReboot',
      schema: 'double',
      unit: 'degreeCelsius',
    },
    {
      '@type': 'Command',
      name: 'getMaxMinReport',
      request: { name: 'since', schema: 'dateTime' },
      response: {
        name: 'tempReport',
        schema: {
          '@type': 'Object',
          fields: [
            { name: 'maxTemp', schema: 'double' },
            { name: 'minTemp', schema: 'double' },
            { name: 'avgTemp', schema: 'double' },
            { name: 'startTime', schema: 'dateTime' },
            { name: 'endTime', schema: 'dateTime' },
          ],
        },
      },
    },
  ],
};

export const TEMPERATURE_CONTROLLER = {
  '@context': 'dtmi:dtdl:context;2',
  '@id': 'dtmi:com:example:TemperatureController;2',
  '@type': 'Interface',
  displayName: 'Temperature Controller',
  contents: [
    { '@type': ['Telemetry', 'DataSize'], name: 'workingSet', schema: 'double', unit: 'kibibit' },
    { '@type': 'Property', name: 'serialNumber', schema: 'string' },
    { '@type': 'Command', name: 'reboot', request: { name: 'delay', schema: 'integer' } },
    { '@type': 'Component', name: 'thermostat1', schema: 'dtmi:com:example:Thermostat;1' },
    { '@type': 'Component', name: 'thermostat2', schema: 'dtmi:com:example:Thermostat;1' },
    {
      '@type': 'Component',
      name: 'deviceInformation',
      schema: 'dtmi:azure:DeviceManagement:DeviceInformation;1',
    },
  ],
};

/** The temperature controller as the models repository's expanded form lists it: the model first. */
export const TEMPERATURE_CONTROLLER_EXPANDED = [TEMPERATURE_CONTROLLER, THERMOSTAT, DEVICE_INFORMATION];

/** A v3 interface that uses every schema the specification describes for a writable Property. */
export const SCHEMA_CATALOGUE_V3 = {
  '@context': 'dtmi:dtdl:context;3',
  '@id': 'dtmi:com:example:SchemaCatalogue;1',
  '@type': 'Interface',
  contents: [
    { '@type': 'Property', name: 'enabled', schema: 'boolean', writable: true },
    { '@type': 'Property', name: 'installedOn', schema: 'date', writable: true },
    { '@type': 'Property', name: 'maintenanceAt', schema: 'dateTime', writable: true },
    { '@type': 'Property', name: 'setPointTemp', schema: 'double', writable: true },
    { '@type': 'Property', name: 'reportInterval', schema: 'duration', writable: true },
    { '@type': 'Property', name: 'gain', schema: 'float', writable: true },
    { '@type': 'Property', name: 'retries', schema: 'integer', writable: true },
    { '@type': 'Property', name: 'counter', schema: 'long', writable: true },
    { '@type': 'Property', name: 'label', schema: 'string', writable: true },
    { '@type': 'Property', name: 'quietFrom', schema: 'time', writable: true },
    {
      '@type': 'Property',
      name: 'state',
      writable: true,
      schema: {
        '@type': 'Enum',
        valueSchema: 'integer',
        enumValues: [
          { name: 'offline', displayName: 'Offline', enumValue: 1 },
          { name: 'online', displayName: 'Online', enumValue: 2 },
        ],
      },
    },
    {
      '@type': 'Property',
      name: 'modules',
      writable: true,
      schema: {
        '@type': 'Map',
        mapKey: { name: 'moduleName', schema: 'string' },
        mapValue: { name: 'moduleState', schema: 'string' },
      },
    },
    { '@type': 'Property', name: 'accelerometer', writable: true, schema: 'dtmi:com:example:acceleration;1' },
    {
      '@type': 'Property',
      name: 'ledState',
      writable: true,
      schema: { '@type': 'Array', elementSchema: 'boolean' },
    },
    { '@type': 'Property', name: 'location', writable: true, schema: 'point' },
    { '@type': 'Property', name: 'serialNumber', schema: 'string' },
  ],
  schemas: [
    {
      '@id': 'dtmi:com:example:acceleration;1',
      '@type': 'Object',
      fields: [
        { name: 'x', schema: 'double' },
        { name: 'y', schema: 'double' },
        { name: 'z', schema: 'double' },
      ],
    },
  ],
};

/** The inheritance example of the specification: ConferenceRoom extends Room. */
export function conferenceRoom(version: 2 | 3) {
  const context = `dtmi:dtdl:context;${version}`;
  return [
    {
      '@context': context,
      '@id': 'dtmi:com:example:ConferenceRoom;1',
      '@type': 'Interface',
      extends: 'dtmi:com:example:Room;1',
      contents: [{ '@type': 'Property', name: 'capacity', schema: 'integer', writable: true }],
    },
    {
      '@context': context,
      '@id': 'dtmi:com:example:Room;1',
      '@type': 'Interface',
      contents: [{ '@type': 'Property', name: 'occupied', schema: 'boolean' }],
    },
  ];
}

export const text = (model: unknown): string => JSON.stringify(model, null, 2);
