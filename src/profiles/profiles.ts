// The profile each managed setting belongs to, told by its id (see twin-profile.ts).

import type { TwinSlot } from '../twins/types.js';
import { securityAgentProfile } from './security-agent/profile.js';
import type { Convergence, TwinProfile, TypedProperty } from './twin-profile.js';
import { twinPropertiesProfile } from './twin-properties/profile.js';

const PROFILES: readonly TwinProfile[] = [twinPropertiesProfile, securityAgentProfile];

export function profileOf(settingId: string): TwinProfile {
  // The security agent's profile takes every id that is not a path: it never falls through.
  return PROFILES.find((p) => p.handles(settingId)) ?? securityAgentProfile;
}

/** The profile whose devices answer as `convergence` says: the agent's, or any twin's properties. */
export function profileFor(convergence: Convergence): TwinProfile {
  return convergence === 'Agent' ? securityAgentProfile : twinPropertiesProfile;
}

/** The settings' ids grouped by the profile each belongs to. */
export function byProfile<T>(entries: Iterable<[string, T]>): Map<TwinProfile, Map<string, T>> {
  const groups = new Map<TwinProfile, Map<string, T>>();
  for (const [id, value] of entries) {
    const profile = profileOf(id);
    let group = groups.get(profile);
    if (!group) {
      group = new Map();
      groups.set(profile, group);
    }
    group.set(id, value);
  }
  return groups;
}

const TYPED_PROPERTIES: readonly TypedProperty[] = PROFILES.flatMap((p) =>
  p.typedProperty ? [p.typedProperty] : [],
);

/** The property a typed profile manages whole in this slot (a TwinConfig leaves it to that profile's kind). */
export function typedPropertyIn(slot: TwinSlot): TypedProperty | undefined {
  return TYPED_PROPERTIES.find((t) => t.slot === slot);
}

/** The slots typed profiles manage: a sync pass reads them whatever its files hold, so that a prune finds them. */
export const TYPED_SLOTS: readonly TwinSlot[] = [...new Set(TYPED_PROPERTIES.map((t) => t.slot))];
