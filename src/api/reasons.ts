// Every reason the operator writes (conditions, Events, status.failures, the metrics' reason label) with what it
// does to the conditions, the Event a transition to it records, and whether the operator tries again by itself.
// The one place a reason is decided: code names reasons through this table (`Reason` is its keys), the Events'
// type and the Stalled condition are read from it, and the table of reasons in docs/operations.md is generated from it.

/** Where a reason appears. */
export type ReasonUse =
  /** the Ready reason of a SecurityModuleConfig or a TwinConfig (the two kinds share their reasons) */
  | 'SecurityModuleConfig'
  /** the Ready reason of an IoTHub (the resources of that hub show it too, while the hub is not Ready) */
  | 'IoTHub'
  /** the reason of a Reconciling or Stalled condition only */
  | 'condition'
  /** an Event only (Ready transitions record an Event of the Ready reason) */
  | 'event'
  /** a device's entry in status.failures */
  | 'failure';

/**
 * An effect that depends on the situation: `whilePending` (True while devices are still being written or
 * awaited), `cause` (as the reason that blocks it: DeletionBlocked by an unreachable hub retries, by a missing
 * Secret waits).
 */
export type Effect = boolean | 'whilePending' | 'cause';

export interface ReasonInfo {
  uses: readonly ReasonUse[];
  /** Ready's status while this is its reason. */
  ready?: 'True' | 'False';
  /** Reconciling=True while this is Ready's reason (an IoTHub has no Reconciling condition). */
  reconciling?: Effect;
  /** Stalled=True: only a change (of the spec, a Secret, the hub or the fleet) helps, not time. */
  stalled?: Exclude<Effect, 'whilePending'>;
  /** The Event a transition to this reason records; none when absent. */
  event?: 'Normal' | 'Warning';
  /** The operator tries again by itself (a failing device at the next step, a failing hub after its backoff). */
  retried?: Exclude<Effect, 'whilePending'>;
  /** What it means, for the table in docs/operations.md. */
  means: string;
  /** What to do, for the table in docs/operations.md. */
  action: string;
}

const notReady = { ready: 'False', event: 'Warning' } as const;
/** A hub that cannot be used now, for a reason only a change fixes. */
const hubNeedsChange = {
  uses: ['IoTHub'],
  ...notReady,
  reconciling: false,
  stalled: true,
  retried: false,
} as const;

export const REASONS = {
  // --- SecurityModuleConfig: the planner's report -------------------------------------------------------------
  Converged: {
    uses: ['SecurityModuleConfig'],
    ready: 'True',
    reconciling: false,
    stalled: false,
    event: 'Normal',
    means:
      "every online targeted device reports the configuration (a TwinConfig's devices: acknowledge it, mirror it, or the hub took the write, as `spec.convergence` says)",
    action: 'nothing; offline devices get it when they connect',
  },
  NoTargets: {
    uses: ['SecurityModuleConfig'],
    ready: 'True',
    reconciling: false,
    stalled: false,
    event: 'Normal',
    means: 'the target matches no device',
    action: "check `spec.target` against the devices' tags",
  },
  Progressing: {
    uses: ['SecurityModuleConfig', 'condition'],
    ready: 'False',
    reconciling: true,
    stalled: false,
    retried: true,
    means: 'devices are being written or awaited',
    action: 'wait; `status.pendingDevices` counts down',
  },
  DevicesStalled: {
    uses: ['SecurityModuleConfig'],
    ...notReady,
    reconciling: 'whilePending',
    stalled: true,
    retried: false,
    means:
      'online devices did not report the configuration (a TwinConfig: acknowledge it with a 2xx `ac` other than 202 (in progress) and 203, or mirror it) within `convergenceTimeout`',
    action:
      '`status.failures` shows what differs; the agent may have rejected it (its `ConfigurationError` event)',
  },
  DevicesFailed: {
    uses: ['SecurityModuleConfig'],
    ...notReady,
    reconciling: 'whilePending',
    stalled: true,
    retried: false,
    means: 'writes refused, module missing, a listed device unknown, an invalid merge',
    action: '`status.failures` per device',
  },
  DevicesRejected: {
    uses: ['SecurityModuleConfig'],
    ...notReady,
    reconciling: 'whilePending',
    stalled: true,
    retried: false,
    means:
      'devices refused the values (an IoT Plug and Play acknowledgement with a non-2xx `ac`): TwinConfig only',
    action:
      "`status.failures` shows each device's own message (`ad`); change the value, or the devices' firmware",
  },
  HubErrors: {
    uses: ['SecurityModuleConfig'],
    ...notReady,
    reconciling: true,
    stalled: false,
    retried: true,
    means:
      "the hub throttled or was unavailable after the client's retries (failure reasons `HubThrottled`, `HubUnavailable`)",
    action:
      "nothing: those devices are retried at the next step, do not count toward a rollout's `failureThreshold`, and `sync --wait` waits for them within `--timeout`; a used-up daily quota (`QuotaExceeded`) is not retried",
  },
  TwinsBusy: {
    uses: ['SecurityModuleConfig'],
    ready: 'False',
    reconciling: true,
    stalled: false,
    retried: true,
    means:
      'another writer changed the twins before each of four writes (failure reason `TwinBusy`, 412 Precondition Failed)',
    action:
      'nothing if it passes: retried at the next step as above; if it never does, find the other writer (it rewrites the twin many times a second)',
  },
  RolloutHalted: {
    uses: ['SecurityModuleConfig', 'condition'],
    ...notReady,
    reconciling: false,
    stalled: true,
    retried: false,
    means: 'stalled, failed or rejected devices above `failureThreshold`; no new batch starts',
    action: 'fix the cause, then change the spec to resume',
  },
  ConflictingSettings: {
    uses: ['SecurityModuleConfig', 'failure'],
    ...notReady,
    reconciling: 'whilePending',
    stalled: true,
    retried: false,
    means: 'an equal-priority resource, or another manager, sets other values and wins',
    action: 'give the resources different priorities, or remove the setting from one',
  },
  InvalidSpec: {
    uses: ['SecurityModuleConfig', 'IoTHub'],
    ...notReady,
    reconciling: false,
    stalled: true,
    retried: false,
    means:
      "the spec passes the CRD but the agent would reject it (a TwinConfig: its schema or model, or IoT Hub's limits); nothing is written for it",
    action: 'the message names the field and the rule (`iot-security-operator validate` says the same)',
  },
  Suspended: {
    uses: ['SecurityModuleConfig', 'condition'],
    ready: 'False',
    reconciling: false,
    stalled: false,
    means: '`spec.suspend: true`',
    action: 'set it false to resume',
  },
  ConfigMapNotFound: {
    uses: ['SecurityModuleConfig'],
    ...notReady,
    reconciling: true,
    stalled: false,
    retried: true,
    means:
      "the ConfigMap a TwinConfig's `spec.schema.configMapKeyRef` names does not exist (in its namespace): nothing is written for it",
    action: 'create it; the operator looks again every 10 s and picks it up when it appears',
  },
  ConfigMapKeyMissing: {
    uses: ['SecurityModuleConfig'],
    ...notReady,
    reconciling: true,
    stalled: false,
    retried: true,
    means:
      "the ConfigMap lacks the key a TwinConfig's `spec.schema.configMapKeyRef` names: nothing is written for it",
    action: 'add the key (the message lists the keys it has); picked up within 10 s',
  },
  ConfigMapUnreadable: {
    uses: ['SecurityModuleConfig'],
    ...notReady,
    reconciling: true,
    stalled: false,
    retried: true,
    means:
      "the operator could not read the ConfigMap a TwinConfig's `spec.schema.configMapKeyRef` names (refused, 403; or the API server failed, 5xx or no answer): nothing is written for it, the settings it set stay, the hub's other resources go on",
    action:
      "a 403: grant `get` on `configmaps` to the operator's ServiceAccount (`manifests/`); otherwise it passes: read again within 10 s (at once when the API server answers again)",
  },
  FinalizerMissing: {
    uses: ['SecurityModuleConfig'],
    ...notReady,
    reconciling: true,
    stalled: false,
    retried: true,
    means: 'the finalizer could not be added, so nothing is written for it yet',
    action: "see the operator's log (usually RBAC: the operator may not patch the resource)",
  },
  Deleting: {
    uses: ['SecurityModuleConfig'],
    ready: 'False',
    reconciling: true,
    stalled: false,
    retried: true,
    means: 'removing its settings from the twins before the finalizer goes',
    action: 'wait, or set `deletionPolicy: Retain` to leave them and let go now',
  },
  DeletionBlocked: {
    uses: ['SecurityModuleConfig'],
    ...notReady,
    reconciling: 'cause',
    stalled: 'cause',
    retried: 'cause',
    means:
      'its settings cannot be removed: the hub cannot be reached, or refuses the writes, or the configuration left would be invalid',
    action: 'fix the cause (the message says it), or set `deletionPolicy: Retain`',
  },
  HubNotFound: {
    uses: ['SecurityModuleConfig'],
    ...notReady,
    reconciling: false,
    stalled: true,
    retried: false,
    means: 'the IoTHub it names does not exist in its namespace',
    action:
      'create the IoTHub, or fix `spec.hubRef`; while an IoTHub is not Ready its resources show its reason',
  },

  // --- IoTHub ---------------------------------------------------------------------------------------------------
  Connected: {
    uses: ['IoTHub', 'condition'],
    ready: 'True',
    stalled: false,
    event: 'Normal',
    means: 'the last snapshot was read; `status.devices`, `status.securityModules`',
    action: 'nothing',
  },
  SecretNotFound: {
    ...hubNeedsChange,
    means: 'the Secret it names is missing from its namespace',
    action:
      "create it in the IoTHub's namespace; the hub recovers within `--secret-recheck-interval` (1m), when the Secret is read again",
  },
  SecretKeyMissing: {
    ...hubNeedsChange,
    means: 'the Secret lacks the key (`connectionString` / `ca.crt` by default)',
    action:
      'add the key; the hub recovers within `--secret-recheck-interval` (1m), when the Secret is read again',
  },
  SecretUnreadable: {
    uses: ['IoTHub'],
    ...notReady,
    reconciling: true,
    stalled: false,
    retried: true,
    means:
      'the operator could not get the Secret it names (refused, 403: the message names the missing right; or the API server failed, 5xx or no answer)',
    action:
      "grant `get` on secrets in the IoTHub's namespace to the operator's ServiceAccount (see manifests/); retried with backoff",
  },
  InvalidConnectionString: {
    ...hubNeedsChange,
    means: 'the connection string does not parse (the message says which part, never the key)',
    action: 'fix the Secret',
  },
  InvalidHubConfiguration: {
    ...hubNeedsChange,
    means: 'the hub client cannot be made from the spec and the Secret (e.g. an unusable CA bundle)',
    action: 'the message says which setting; fix it',
  },
  Unauthorized: {
    ...hubNeedsChange,
    means:
      "the hub refused the credential: a connection string's key (wrong, rotated, a policy without registry rights, or the hub has local authentication disabled), or a Microsoft Entra token (another tenant, or not for IoT Hub)",
    action:
      'put a current `iothubowner` (or registry read/write + service connect) connection string in the Secret; on a hub without local authentication, use an Entra ID `auth.kind`; for a token, check `spec.auth.tenantId` and `spec.hostName` (docs/entra-id.md). Waits for a change of the IoTHub or its Secret',
  },
  TokenFileUnreadable: {
    ...hubNeedsChange,
    retried: true,
    means:
      "workload identity: the ServiceAccount token file is missing or unreadable (no AZURE_FEDERATED_TOKEN_FILE in the operator's environment, or the projected volume is not mounted)",
    action:
      'label the operator\'s pod `azure.workload.identity/use: "true"` (AKS) or mount a projected ServiceAccount token with audience api://AzureADTokenExchange in the operator\'s pod and set AZURE_FEDERATED_TOKEN_FILE to it; retried with backoff (docs/entra-id.md)',
  },
  AuthorityRefused: {
    ...hubNeedsChange,
    retried: true,
    means:
      "Microsoft Entra ID gave no token: the message has the authority's AADSTS code and text (e.g. AADSTS70021 no federated credential for this ServiceAccount subject, AADSTS700212 wrong audience, AADSTS700024 expired assertion, AADSTS7000215 wrong client secret, AADSTS700016 unknown client id)",
    action:
      "fix what the AADSTS code names on the Azure side (federated credential issuer/subject/audience, the app's secret or certificate, tenant and client id in `spec.auth`); retried with backoff (docs/entra-id.md)",
  },
  HubRoleMissing: {
    ...hubNeedsChange,
    retried: true,
    means:
      'the hub refused a call of the Microsoft Entra identity because no role of it grants the call\'s data action (Azure IoT Hub answers 401 IotHubUnauthorized "... due to no assigned permissions"); the message names the action and the role. The step stops at the first such refusal: every other call would meet it too',
    action:
      'assign the role the message names on the hub (`az role assignment create --role "IoT Hub Twin Contributor"`; "IoT Hub Registry Contributor" too where the operator creates the security module, or "IoT Hub Data Contributor" for both); retried with backoff, so the resources converge once the role is there',
  },
  HubHostNotAllowed: {
    ...hubNeedsChange,
    means:
      "`spec.hostName` matches none of the operator's `--entra-hub-hosts` (default `*.azure-devices.net`): no Microsoft Entra token is requested or sent, so an IoTHub cannot send the operator's token to a host of its author's choosing",
    action:
      "fix `spec.hostName`; or, for a hub under another name (a private endpoint's, a proxy's), the operator's administrator adds its host to `--entra-hub-hosts` (docs/entra-id.md)",
  },
  IdentityNotAllowed: {
    ...hubNeedsChange,
    means:
      "`auth.kind` WorkloadIdentity or ManagedIdentity uses the operator's own identity (and its role assignments on every hub), which the IoTHub's namespace is not allowed: it is not in the operator's `--entra-namespaces` (none by default)",
    action:
      "use ClientSecret or ClientCertificate with the namespace's own app registration; or the operator's administrator adds the namespace to `--entra-namespaces` (docs/entra-id.md)",
  },
  TierWithoutTwins: {
    ...hubNeedsChange,
    means: 'a Basic tier (B1-B3) has no device or module twins',
    action: 'use F1 or a Standard tier',
  },
  HubUnreachable: {
    uses: ['IoTHub'],
    ...notReady,
    reconciling: true,
    stalled: false,
    retried: true,
    means: 'the hub did not answer (DNS, network, TLS, 5xx)',
    action: 'check the host name and the CA (`caSecretRef`); it recovers by itself (retried with backoff)',
  },
  HubThrottled: {
    uses: ['IoTHub', 'failure'],
    ...notReady,
    reconciling: true,
    stalled: false,
    retried: true,
    means: "the hub kept answering 429 after the client's retries",
    action: 'nothing: retried; if it lasts, raise the tier or units, or lower `rateLimits`',
  },
  QuotaExceeded: {
    uses: ['IoTHub', 'failure'],
    ...notReady,
    reconciling: false,
    stalled: true,
    retried: false,
    means: 'the hub has used up its daily message quota (403)',
    action: "wait for the quota's reset (00:00 UTC) or add units",
  },

  // --- the other conditions -------------------------------------------------------------------------------------
  Idle: {
    uses: ['condition'],
    means: 'Reconciling=False: nothing is being written or awaited',
    action: 'nothing',
  },
  Retrying: {
    uses: ['condition'],
    means: 'Reconciling=True: what stops it passes by itself; the operator tries again with backoff',
    action: "see Ready's reason",
  },
  RetryingWrites: {
    uses: ['condition'],
    means: 'Reconciling=True, Stalled=False: some devices are written again at the next step',
    action: "see Ready's reason",
  },
  NoFailures: {
    uses: ['condition'],
    means: 'Stalled=False: no device failed or stalled',
    action: 'nothing',
  },

  // --- Events of a rollout --------------------------------------------------------------------------------------
  RolloutStarted: {
    uses: ['event'],
    event: 'Normal',
    means: 'a new revision of the spec started rolling out (how many devices, in how many batches)',
    action: 'nothing',
  },
  BatchAdvanced: {
    uses: ['event'],
    event: 'Normal',
    means: 'a rollout batch was written and the next one started',
    action: 'nothing',
  },

  // --- a device's failure (status.failures[].reason) ------------------------------------------------------------
  ConvergenceTimeout: {
    uses: ['failure'],
    retried: false,
    means:
      'the online device did not report the configuration (a TwinConfig: acknowledge it with a 2xx `ac` other than 202 (in progress) and 203, or mirror it) within `convergenceTimeout`',
    action: 'the message shows what it reports; the agent may have rejected the configuration',
  },
  SecurityModuleMissing: {
    uses: ['failure'],
    retried: false,
    means: 'the device has no `azureiotsecurity` module',
    action: 'install the agent, or set `createMissingModules: true`',
  },
  ModuleMissing: {
    uses: ['failure'],
    retried: false,
    means: 'the device has no module of the id the TwinConfig names',
    action: 'create the module, or set `spec.twin.createModule: true`',
  },
  DeviceRejected: {
    uses: ['failure'],
    retried: false,
    means: "the device refused the value: its acknowledgement's `ac` is not 2xx; the message is its `ad`",
    action: 'change the value, or the device',
  },
  ModuleCreationFailed: {
    uses: ['failure'],
    retried: false,
    means: 'the hub refused to create the module',
    action: 'the message says why',
  },
  DeviceNotFound: {
    uses: ['failure'],
    retried: false,
    means: '`target.deviceIds` names a device the hub does not have',
    action: 'fix the list, or register the device',
  },
  InvalidMergedConfiguration: {
    uses: ['failure'],
    retried: false,
    means: "the settings of every layer together break the agent's rules on this device: nothing is written",
    action: 'the message names the rule; change one of the layers',
  },
  TwinBusy: {
    uses: ['failure'],
    retried: true,
    means: 'another writer changed the twin before each of four writes (412)',
    action: 'nothing if it passes',
  },
  HubUnavailable: {
    uses: ['failure'],
    retried: true,
    means: "the hub answered 5xx or dropped the connection after the client's retries",
    action: 'nothing: retried at the next step',
  },
  TwinWriteFailed: {
    uses: ['failure'],
    retried: false,
    means: 'the hub refused the write (the message has its answer)',
    action: 'the message says why',
  },
} as const satisfies Record<string, ReasonInfo>;

export type Reason = keyof typeof REASONS;

/** Reasons a device failure is retried at the next step for (it does not halt a rollout). */
export function isRetriedFailure(reason: string): boolean {
  return reason in REASONS && isRetried(reason as Reason);
}

/** What decides the effects that depend on the situation. */
export interface Situation {
  /** Devices are still being written or awaited (`whilePending`). */
  pending?: boolean;
  /** The reason that blocks this one (`cause`); without one, a blocked reason waits for a change. */
  cause?: Reason;
}

/** Whether Reconciling (or Stalled) is True while `reason` is Ready's reason, in this situation. */
export function conditionOn(
  reason: Reason,
  type: 'reconciling' | 'stalled',
  situation: Situation = {},
): boolean {
  const effect = (REASONS[reason] as ReasonInfo)[type];
  if (effect === 'whilePending') return situation.pending === true;
  if (effect === 'cause')
    return situation.cause === undefined ? type === 'stalled' : conditionOn(situation.cause, type);
  return effect === true;
}

/** Stalled for this reason; a reason that follows its cause takes the cause's. */
export function isStalled(reason: Reason, cause?: Reason): boolean {
  return conditionOn(reason, 'stalled', { cause });
}

/** Whether the operator tries again by itself (after a backoff) while this is the reason. */
export function isRetried(reason: Reason, cause?: Reason): boolean {
  const retried = (REASONS[reason] as ReasonInfo).retried;
  if (retried === 'cause') return cause === undefined ? false : isRetried(cause);
  return retried === true;
}

/** The Event type a transition of Ready to this reason records, if any. */
export function eventTypeOf(reason: string): 'Normal' | 'Warning' | undefined {
  return (REASONS as Record<string, ReasonInfo>)[reason]?.event;
}

/** A throttled hub call: a 403 is a used-up daily quota (only time or units help), anything else a 429 that passes. */
export function throttlingReason(statusCode: number | undefined): 'QuotaExceeded' | 'HubThrottled' {
  return statusCode === 403 ? 'QuotaExceeded' : 'HubThrottled';
}
