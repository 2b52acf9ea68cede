// Simulated Defender for IoT security agents, one per device with an `azureiotsecurity` module. Like the real
// agent: while its device is online it reads its desired configuration a while after each change, validates
// it with the agent's rules (src/agent) and reports its full effective configuration; an invalid
// configuration is ignored as a whole and the previous one is reported again; an agent whose first
// configuration is invalid does not start (reports nothing) until a valid one arrives.
import {
  AGENT_CONFIGURATION_KEY,
  type AgentProblem,
  type AgentSettings,
  checkAgentSettings,
  EVENT_PRIORITIES,
  effectiveSettings,
  SECURITY_MODULE_ID,
  unwrapTwinConfiguration,
  wrapSettings,
} from '../profiles/security-agent/index.js';
import { type Clock, systemClock } from '../runtime/clock.js';
import { DueQueue } from './due-queue.js';
import { type Random, randomInt, unitFor } from './prng.js';
import type { DeviceRecord, IdentityRecord, RegistryStore, TwinChange } from './registry-store.js';
import { intern, isJsonObject, type JsonObject } from './twin-document.js';
import { reportProperties, withConnection } from './twin-state.js';

export interface AgentDelay {
  min: number;
  max: number;
}

export type AgentOutcome = 'pending' | 'applied' | 'rejected' | 'stopped';

interface Agent {
  lowercase: boolean;
  /** The settings the agent runs (shared between agents with equal settings). */
  applied: AgentSettings | undefined;
  outcome: AgentOutcome;
  problems: AgentProblem[] | undefined;
}

export interface AgentStatus {
  deviceId: string;
  online: boolean;
  lowercase: boolean;
  /** A read of the desired configuration is scheduled. */
  pending: boolean;
  outcome: AgentOutcome;
  /** Why the last configuration was rejected (or the agent did not start). */
  problems: AgentProblem[];
  appliedSettings: AgentSettings | undefined;
}

export interface SecurityAgentsOptions {
  store: RegistryStore;
  delay: AgentDelay;
  /** Share of agents that write event priorities in lower case, like the C agent. */
  lowercaseRatio: number;
  seed: number;
  random: Random;
  clock?: Pick<Clock, 'now'>;
  onError?: (deviceId: string, error: unknown) => void;
}

function isSecurityModule(record: IdentityRecord): boolean {
  return record.moduleId === SECURITY_MODULE_ID;
}

function lowerPriorities(settings: AgentSettings): AgentSettings {
  const result: AgentSettings = {};
  for (const [key, value] of Object.entries(settings)) {
    result[key] = key.startsWith('eventPriority') && typeof value === 'string' ? value.toLowerCase() : value;
  }
  return result;
}

/** Priorities as the C# agent spells them (a C agent's report is read back in lower case). */
function canonicalPriorities(settings: AgentSettings): AgentSettings {
  const result: AgentSettings = {};
  for (const [key, value] of Object.entries(settings)) {
    const canonical =
      key.startsWith('eventPriority') && typeof value === 'string'
        ? EVENT_PRIORITIES.find((p) => p.toLowerCase() === value.toLowerCase())
        : undefined;
    result[key] = canonical ?? value;
  }
  return result;
}

/** A reported configuration read back: the hub stored each `{"value": null}` as `{}`. */
function asReported(config: JsonObject): JsonObject {
  const result: JsonObject = {};
  for (const [key, wrapped] of Object.entries(config)) {
    result[key] = isJsonObject(wrapped) && Object.keys(wrapped).length === 0 ? { value: null } : wrapped;
  }
  return result;
}

/** What the agent would run with a desired configuration, or why it rejects it. */
export function judgeConfiguration(raw: unknown): { settings: AgentSettings } | { problems: AgentProblem[] } {
  const { settings, problems } = unwrapTwinConfiguration(raw);
  const effective = effectiveSettings(settings);
  const errors = [...problems, ...checkAgentSettings(effective)].filter((p) => p.severity === 'error');
  return errors.length > 0 ? { problems: errors } : { settings: effective };
}

export class SecurityAgents {
  private readonly agents = new Map<string, Agent>();
  private readonly reports = new WeakMap<AgentSettings, JsonObject>();
  private readonly lowercaseReports = new WeakMap<AgentSettings, JsonObject>();
  private readonly queue: DueQueue;
  private readonly store: RegistryStore;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(private readonly options: SecurityAgentsOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    // Agent delays are real time, whatever clock stamps the twins (tests may freeze that one).
    this.queue = new DueQueue((deviceId) => this.readConfiguration(deviceId));
    this.store.onChange((change) => this.onStoreChange(change));
  }

  get count(): number {
    return this.agents.size;
  }

  /** Resolves when no agent has a configuration read scheduled. */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  close(): void {
    this.queue.close();
  }

  /** Sets a device online or offline; its agent reads its configuration once it is online again. */
  setOnline(deviceId: string, online: boolean): void {
    const device = this.store.requireDevice(deviceId);
    const at = this.clock.now();
    const state = online ? 'Connected' : 'Disconnected';
    this.store.setState(device, withConnection(device.state, state, at));
    const module = this.store.getModule(device, SECURITY_MODULE_ID);
    if (module) this.store.setState(module, withConnection(module.state, state, at));
    if (!this.agents.has(deviceId)) return;
    if (online) this.schedule(deviceId);
    else this.queue.cancel(deviceId);
  }

  status(deviceId: string): AgentStatus | undefined {
    const agent = this.agents.get(deviceId);
    const device = this.store.getDevice(deviceId);
    if (!agent || !device) return undefined;
    return {
      deviceId,
      online: device.state.connectionState === 'Connected',
      lowercase: agent.lowercase,
      pending: this.queue.has(deviceId),
      outcome: agent.outcome,
      problems: agent.problems ?? [],
      appliedSettings: agent.applied,
    };
  }

  /** Whether a new device should start online, given the fleet's offline ratio (stable per device). */
  static startsOnline(seed: number, deviceId: string, offlineRatio: number): boolean {
    return unitFor(seed, `offline:${deviceId}`) >= offlineRatio;
  }

  private onStoreChange({ record, previous, next }: TwinChange): void {
    if (!isSecurityModule(record)) return;
    const deviceId = record.deviceId;
    if (!next) {
      this.agents.delete(deviceId);
      this.queue.cancel(deviceId);
      return;
    }
    if (!previous) {
      const agent = this.newAgent(record);
      this.agents.set(deviceId, agent);
      if (this.isOnline(deviceId) && this.hasWorkToDo(agent, record)) this.schedule(deviceId);
      return;
    }
    if (previous.desired !== next.desired && this.isOnline(deviceId)) this.schedule(deviceId);
  }

  private newAgent(module: IdentityRecord): Agent {
    const lowercase =
      unitFor(this.options.seed, `lowercase:${module.deviceId}`) < this.options.lowercaseRatio;
    // An agent restored from a saved hub goes on with the configuration it reported.
    const reported = module.state.reported.value[AGENT_CONFIGURATION_KEY];
    const judged = isJsonObject(reported) ? judgeConfiguration(asReported(reported)) : undefined;
    const applied =
      judged && 'settings' in judged ? this.shared(canonicalPriorities(judged.settings)) : undefined;
    return { lowercase, applied, outcome: applied ? 'applied' : 'pending', problems: undefined };
  }

  /**
   * A new agent has to read its configuration; one restored with a saved hub only when the desired
   * configuration is valid and not the one it runs (a restart of the emulator does not restart devices).
   */
  private hasWorkToDo(agent: Agent, module: IdentityRecord): boolean {
    if (!agent.applied) return true;
    const judged = judgeConfiguration(module.state.desired.value[AGENT_CONFIGURATION_KEY]);
    return 'settings' in judged && JSON.stringify(judged.settings) !== JSON.stringify(agent.applied);
  }

  private isOnline(deviceId: string): boolean {
    return this.store.getDevice(deviceId)?.state.connectionState === 'Connected';
  }

  private schedule(deviceId: string): void {
    const { min, max } = this.options.delay;
    this.queue.schedule(deviceId, Date.now() + randomInt(this.options.random, min, max));
  }

  private readConfiguration(deviceId: string): void {
    const agent = this.agents.get(deviceId);
    const device = this.store.getDevice(deviceId);
    const module = device && this.store.getModule(device, SECURITY_MODULE_ID);
    if (!agent || !device || !module || device.state.connectionState !== 'Connected') return;
    const judged = judgeConfiguration(module.state.desired.value[AGENT_CONFIGURATION_KEY]);
    if ('settings' in judged) {
      agent.applied = this.shared(judged.settings);
      agent.outcome = 'applied';
      agent.problems = undefined;
    } else {
      agent.problems = judged.problems;
      agent.outcome = agent.applied ? 'rejected' : 'stopped';
    }
    if (agent.applied) this.report(device, module, agent);
  }

  private report(device: DeviceRecord, module: IdentityRecord, agent: Agent): void {
    const patch = { [AGENT_CONFIGURATION_KEY]: this.reportOf(agent.applied!, agent.lowercase) };
    const at = this.clock.now();
    const next = reportProperties(module.state, patch, at);
    if (next instanceof Error) {
      this.options.onError?.(device.deviceId, next);
      return;
    }
    this.store.setState(module, next);
    this.store.setState(device, { ...device.state, lastActivityAt: at });
  }

  /** The reported value for applied settings, made once per distinct configuration and spelling. */
  private reportOf(applied: AgentSettings, lowercase: boolean): JsonObject {
    const cache = lowercase ? this.lowercaseReports : this.reports;
    let report = cache.get(applied);
    if (!report) {
      report = intern(wrapSettings(lowercase ? lowerPriorities(applied) : applied) as JsonObject);
      cache.set(applied, report);
    }
    return report;
  }

  private shared(settings: AgentSettings): AgentSettings {
    return intern(settings as JsonObject) as AgentSettings;
  }
}
