// What is specific to one kind of managed twin configuration, behind one interface that the planner and the engine
// consume: how a managed setting sits in a twin's desired properties (read, written, compared), how the values a
// device would run are judged across settings, and how a device's reported state reads.
//
// A setting is named by an id that says which profile it belongs to (the security agent's ids are its settings'
// names, inside its configuration property; a TwinConfig's are paths from the desired root, `/prop` or
// `/component/prop`), so that the settings of several profiles can share one twin and one ownership record.
import type { ManagedTwin, TwinSlot } from '../twins/types.js';

/** How a device says it took its desired properties. */
export type Convergence =
  /** The security agent reports the whole configuration it runs. */
  | 'Agent'
  /** IoT Plug and Play: the device acknowledges each property with `{value, ac, av, ad}`. */
  | 'PlugAndPlay'
  /** The device reports each property at the same place with the same value. */
  | 'Mirror'
  /** Nothing to wait for: the hub's acceptance of the write is enough. */
  | 'None';

export type ReportedState =
  | { state: 'converged' }
  /** The device has not answered (yet) what desired holds now. */
  | { state: 'pending' }
  /** The device refused a value, in its own words. */
  | { state: 'rejected'; message: string };

/** A desired property a typed profile manages whole, in the one twin slot its devices read it from. */
export interface TypedProperty {
  readonly slot: TwinSlot;
  readonly key: string;
  /** The resource kind, and its field, that manage it ('SecurityModuleConfig', 'spec.agentConfiguration'). */
  readonly kind: string;
  readonly field: string;
  /** What plans call the module of that slot when they create it ('security module'). */
  readonly moduleNoun: string;
}

export interface TwinProfile {
  readonly name: string;
  /** The property a typed profile manages whole (the security agent's configuration); none for any twin's. */
  readonly typedProperty?: TypedProperty;
  /**
   * The device reports its whole configuration, so every setting of this profile counts for every resource on
   * the twin (the security agent); otherwise each resource waits only for the settings it won.
   */
  readonly reportsWhole: boolean;
  /** What a removed setting leaves on the device, for plans people review ('agent default', 'removed'). */
  readonly removedMeans: string;
  /** The setting as a person wrote it in the resource's spec (a field path). */
  describe(settingId: string): string;
  /** Whether the setting id is one of this profile's. */
  handles(settingId: string): boolean;
  /**
   * Where the setting sits in the twin's desired properties: two settings whose paths overlap (one inside the
   * other) write the same place, so layering lets only one of them in.
   */
  desiredPath(settingId: string): readonly string[];
  /** The setting's value in the twin's desired properties; undefined when it is not set. */
  read(desired: Readonly<Record<string, unknown>> | undefined, settingId: string): unknown;
  /**
   * The desired patch that sets the setting, to be merged with the twin's others. `current` is what desired holds
   * for it now: a profile that writes values whole removes what the new value leaves out (the hub merges objects).
   */
  write(settingId: string, value: unknown, current?: unknown): Record<string, unknown>;
  /** The desired patch that removes the setting (a null where it sits). */
  remove(settingId: string): Record<string, unknown>;
  /** Whether two values are the same as the device means them. */
  same(settingId: string, a: unknown, b: unknown): boolean;
  /**
   * What the device would refuse in its desired properties as they would be after a write, judged across its
   * settings (messages; none when the profile has no rules across settings). `cache` holds verdicts by content.
   */
  judge(desiredAfter: Readonly<Record<string, unknown>>, cache: Map<string, string[]>): string[];
  /**
   * How the device's reported properties read for `wanted` (setting id -> the value desired holds for it), as
   * `convergence` says to read them.
   */
  reportedState(
    twin: ManagedTwin,
    wanted: ReadonlyMap<string, unknown>,
    convergence: Convergence,
  ): ReportedState;
  /**
   * Up to `limit` lines saying what the device reports where it has not answered `wanted` as `convergence` says
   * it should.
   */
  differences(
    twin: ManagedTwin,
    wanted: ReadonlyMap<string, unknown>,
    limit: number,
    convergence: Convergence,
  ): string[];
  /**
   * What a silent online device has not done, for its failure (`written`: " written at <time>" or ""):
   * `the device has not acknowledged the values written at ...`.
   */
  silence(written: string, convergence: Convergence): string;
  /** What stalled devices are not doing, for their count in the Ready condition: `not acknowledging the values`. */
  unanswered(convergence: Convergence): string;
  /** When the latest of these settings was written (epoch ms): a silent device's timeout runs from there. */
  writtenAt(twin: ManagedTwin, settingIds: readonly string[]): number | undefined;
}
