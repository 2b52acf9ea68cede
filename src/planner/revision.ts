// A resource's revision: a short hash of what it asks of devices. Recorded on each twin it is written to, it
// tells which devices a rollout has reached, across restarts.
import { createHash } from 'node:crypto';
import type { PlannedResource } from './types.js';

export function resourceRevision(resource: Pick<PlannedResource, 'settings' | 'priority'>): string {
  const settings = Object.keys(resource.settings)
    .sort()
    .map((key) => [key, resource.settings[key]]);
  return createHash('sha256')
    .update(JSON.stringify({ settings, priority: resource.priority }))
    .digest('hex')
    .slice(0, 12);
}
