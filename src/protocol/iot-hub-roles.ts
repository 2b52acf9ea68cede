// IoT Hub's data-plane authorization with Microsoft Entra ID, in one place: the data action each service API
// call needs and the built-in Azure roles that grant it (learn.microsoft.com: "Control access to IoT Hub by
// using Microsoft Entra ID", "Azure built-in roles for Internet of Things"). The emulator checks requests
// against it; the operator names, from it, the role to assign when the hub answers 403.

export type HubDataAction =
  | 'Microsoft.Devices/IotHubs/devices/read'
  | 'Microsoft.Devices/IotHubs/devices/write'
  | 'Microsoft.Devices/IotHubs/devices/delete'
  | 'Microsoft.Devices/IotHubs/twins/read'
  | 'Microsoft.Devices/IotHubs/twins/write'
  | 'Microsoft.Devices/IotHubs/jobs/read'
  | 'Microsoft.Devices/IotHubs/jobs/write'
  | 'Microsoft.Devices/IotHubs/jobs/delete'
  | 'Microsoft.Devices/IotHubs/statistics/read';

export const HUB_ROLES = [
  'IoT Hub Data Contributor',
  'IoT Hub Data Reader',
  'IoT Hub Registry Contributor',
  'IoT Hub Twin Contributor',
] as const;
export type HubRole = (typeof HUB_ROLES)[number];

/** Each role's DataActions as Azure defines them (a trailing `*` matches any rest of the action). */
const ROLE_DATA_ACTIONS: Record<HubRole, readonly string[]> = {
  'IoT Hub Data Contributor': ['Microsoft.Devices/IotHubs/*'],
  'IoT Hub Data Reader': ['Microsoft.Devices/IotHubs/*/read'],
  'IoT Hub Registry Contributor': ['Microsoft.Devices/IotHubs/devices/*'],
  'IoT Hub Twin Contributor': ['Microsoft.Devices/IotHubs/twins/*'],
};

function matches(pattern: string, action: string): boolean {
  const [prefix, suffix = ''] = pattern.split('*');
  if (!pattern.includes('*')) return pattern.toLowerCase() === action.toLowerCase();
  const a = action.toLowerCase();
  return (
    a.startsWith(prefix.toLowerCase()) &&
    a.endsWith(suffix.toLowerCase()) &&
    a.length >= prefix.length + suffix.length
  );
}

export function roleAllows(role: HubRole, action: HubDataAction): boolean {
  return ROLE_DATA_ACTIONS[role].some((pattern) => matches(pattern, action));
}

/**
 * The least-privileged built-in role that grants `action` (the Twin or Registry Contributor before the Data
 * Contributor): what a status tells a user to assign.
 */
export function roleToAssign(action: HubDataAction): HubRole {
  const narrow: HubRole[] = [
    'IoT Hub Twin Contributor',
    'IoT Hub Registry Contributor',
    'IoT Hub Data Reader',
  ];
  return narrow.find((role) => roleAllows(role, action)) ?? 'IoT Hub Data Contributor';
}

/** The operation classes the hub's service API is counted in (the emulator's routes and the client's calls). */
export type HubApiOperation = 'registry' | 'twinRead' | 'twinUpdate' | 'query' | 'jobs' | 'statistics';

/**
 * The data action a call needs. A query of devices reads twins (`SELECT * FROM devices` returns twins); a job
 * query or read is jobs/read, creating or cancelling a job jobs/write.
 */
export function dataActionFor(operation: HubApiOperation, method: string): HubDataAction {
  const verb = method.toUpperCase();
  switch (operation) {
    case 'twinRead':
    case 'query':
      return 'Microsoft.Devices/IotHubs/twins/read';
    case 'twinUpdate':
      return 'Microsoft.Devices/IotHubs/twins/write';
    case 'statistics':
      return 'Microsoft.Devices/IotHubs/statistics/read';
    case 'jobs':
      if (verb === 'DELETE') return 'Microsoft.Devices/IotHubs/jobs/delete';
      return verb === 'GET' ? 'Microsoft.Devices/IotHubs/jobs/read' : 'Microsoft.Devices/IotHubs/jobs/write';
    case 'registry':
      if (verb === 'DELETE') return 'Microsoft.Devices/IotHubs/devices/delete';
      return verb === 'GET'
        ? 'Microsoft.Devices/IotHubs/devices/read'
        : 'Microsoft.Devices/IotHubs/devices/write';
  }
}

/** The resource an access token for IoT Hub is issued for (scope `https://iothubs.azure.net/.default`). */
export const IOT_HUB_TOKEN_AUDIENCE = 'https://iothubs.azure.net';
