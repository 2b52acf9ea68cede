// The assignment of hubs to replicas (rendezvous hashing): every replica that sees the same members computes the
// same owner whatever the order it lists them in; a replica that goes takes only its own hubs with it, and one
// that comes takes hubs only for itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignedMember } from '../../src/controller/sharding/assignment.js';

const hubs = Array.from({ length: 300 }, (_, i) => `ns-${i % 7}/hub-${i}`);
const owners = (members: string[]) => new Map(hubs.map((hub) => [hub, assignedMember(hub, members)]));

describe('the assignment of hubs to replicas', () => {
  it('is the same whatever the order of the members', () => {
    assert.deepEqual(owners(['a_1', 'b_2', 'c_3']), owners(['c_3', 'a_1', 'b_2']));
  });

  it('gives every replica a share', () => {
    const counts = new Map<string, number>();
    for (const owner of owners(['a_1', 'b_2', 'c_3']).values())
      counts.set(owner!, (counts.get(owner!) ?? 0) + 1);
    for (const [member, count] of counts) assert.ok(count > 60, `${member} has ${count} of 300`);
  });

  it('moves only the hubs of a replica that goes, and only to a replica that comes', () => {
    const three = owners(['a_1', 'b_2', 'c_3']);
    const two = owners(['a_1', 'b_2']);
    for (const hub of hubs) if (three.get(hub) !== 'c_3') assert.equal(two.get(hub), three.get(hub));
    const four = owners(['a_1', 'b_2', 'c_3', 'd_4']);
    for (const hub of hubs) if (four.get(hub) !== three.get(hub)) assert.equal(four.get(hub), 'd_4');
  });

  it('has no owner without members', () => {
    assert.equal(assignedMember('ns/hub', []), undefined);
  });
});
