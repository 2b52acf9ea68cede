// What differs between exporting the security agent's configuration (SecurityModuleConfigs) and exporting any
// twin's desired properties (TwinConfigs): which twin is read and what it gives, which settings are judged
// together, the spec a resource gets and the words that describe what was left out. Reading, grouping, the
// baseline, the targets and the names are the same for both (read-fleet.ts, plan-export.ts).
import type { ManagedTwin, TwinSlot } from '../twins/types.js';
import type { Settings, TwinSettings } from './settings.js';

/** Settings judged together: chosen for the baseline, and copied into layers, as pairs. */
export interface SettingCoupling {
  readonly pairs: readonly (readonly [string, string])[];
  /** Whether values of a pair pass alone (over the device's defaults). */
  accepts(values: Settings): boolean;
}

export const NO_COUPLING: SettingCoupling = { pairs: [], accepts: () => true };

export interface ExportWords {
  /** The twins read, for the progress line: `security module twins`, `device twins`. */
  twins: string;
  /** Why a device without the twin is left out: `without the security module`. */
  noModule: string;
  /** Why a device whose twin holds nothing to export is left out: `without a configuration`. */
  noConfiguration: string;
  /** Why a device whose settings would be refused is left out. */
  rejected: string;
}

export interface ExportKind {
  readonly resourceKind: 'SecurityModuleConfig' | 'TwinConfig';
  /** The twin of each device that is read. */
  readonly slot: TwinSlot;
  /** What one twin gives, as `manager` may take it over. */
  read(twin: ManagedTwin, manager: string): TwinSettings;
  readonly coupling: SettingCoupling;
  /** The resource's spec besides hubRef, target and priority, in the order it is written. */
  spec(settings: Settings): Record<string, unknown>;
  /** Words every resource's name starts with (a component's, a module's), so that exports can share a folder. */
  readonly nameWords: readonly string[];
  /** Whether target conditions may select devices by the model they announced (`modelId = '...'`). */
  readonly targetsByModel: boolean;
  readonly words: ExportWords;
}
