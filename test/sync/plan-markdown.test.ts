// The plan as a pull request comment, from plain values: what it shows, what it folds, and that data in it is
// never read as markup.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PlanDiff, ResourceChange, SettingTransition } from '../../src/planner/plan-diff.js';
import { renderPlanMarkdown } from '../../src/sync/plan-markdown.js';

function transition(
  from: SettingTransition['from'],
  to: SettingTransition['to'],
  devices: number,
): SettingTransition {
  return { from, to, devices, sampleDeviceIds: ['d-1'] };
}

function resource(overrides: Partial<ResourceChange> = {}): ResourceChange {
  return {
    resource: 'iot/site',
    source: 'files',
    priority: 50,
    suspended: false,
    targetedDevices: 3,
    devicesToWrite: 3,
    sampleDeviceIds: ['d-1', 'd-2', 'd-3'],
    ownershipOnlyDevices: 0,
    deferredDevices: 0,
    rolloutBatchSize: 3,
    failedDevices: 0,
    conflictingDevices: 0,
    firstFailures: [],
    settings: [],
    ...overrides,
  };
}

function plan(resources: ResourceChange[]): PlanDiff {
  return {
    changes: true,
    summary: {
      devicesToWrite: 3,
      settingChanges: 3,
      resourcesChanging: 1,
      modulesToCreate: 0,
      deferredDevices: 0,
    },
    resources,
    moduleCreations: { devices: 0, sampleDeviceIds: [] },
    outOfScopeOwners: [],
  };
}

const target = { hubName: 'contoso.azure-devices.net', iotHub: 'iot/hub', leftOut: [] };

describe('the plan as a pull request comment', () => {
  it('quotes values as code, escapes the pipes that would end a cell, and renders no HTML from data', () => {
    const site = resource({
      settings: [
        {
          setting: 'baselineCustomChecksFilePath',
          field: 'baselineCustomChecks.filePath',
          devices: 3,
          transitions: [transition('/a|b', '/x`y', 2), transition('<script>', null, 1)],
        },
      ],
      failedDevices: 1,
      firstFailures: [
        { deviceId: 'd-9', reason: 'SecurityModuleMissing', message: 'no <b>module</b> *here*' },
      ],
    });
    const text = renderPlanMarkdown(plan([site]), target, []);
    assert.match(text, /\| `baselineCustomChecks\.filePath` \| 2 \| `\/a\\\|b` \| `` \/x`y `` \|/);
    assert.match(text, /\| `baselineCustomChecks\.filePath` \| 1 \| `<script>` \| `\(agent default\)` \|/);
    assert.match(text, /> \*\*1 device failed\*\*/);
    assert.match(text, /- `d-9` SecurityModuleMissing: no &lt;b&gt;module&lt;\/b&gt; \\\*here\\\*/);
  });

  it('folds a long table, the resources without changes and those of other hubs', () => {
    const settings = Array.from({ length: 11 }, (_, i) => ({
      setting: `s${i}`,
      field: `s${i}`,
      devices: 1,
      transitions: [transition(null, `v${i}`, 1)],
    }));
    const quiet = resource({ resource: 'iot/quiet', devicesToWrite: 0, sampleDeviceIds: [], priority: 1 });
    const text = renderPlanMarkdown(
      plan([resource({ settings }), quiet]),
      {
        ...target,
        leftOut: [{ resource: 'iot/b', iotHub: 'iot/hub-b' }],
      },
      [],
    );
    assert.match(text, /<details>\n<summary>11 rows<\/summary>\n\n\| Setting \|/);
    assert.match(
      text,
      /<summary>1 resource without changes<\/summary>\n\n- `iot\/quiet` \(priority 1, 3 devices targeted\)/,
    );
    assert.match(
      text,
      /<summary>1 resource of other hubs, left out<\/summary>\n\n- `iot\/b` for hub `iot\/hub-b`/,
    );
  });

  it('quotes as code the name of an owner gone from the files, in its heading and in the quiet list', () => {
    const gone = resource({
      resource: 'iot/old_layer',
      source: 'notInFiles',
      fate: 'removed',
      priority: undefined,
      targetedDevices: undefined,
      devicesToWrite: 2,
      sampleDeviceIds: [],
      settings: [
        {
          setting: 'snapshotFrequency',
          field: 'snapshotFrequency',
          devices: 2,
          transitions: [transition('PT1H', null, 2)],
        },
      ],
    });
    const quiet = resource({
      resource: 'iot/kept_one',
      source: 'notInFiles',
      fate: 'kept',
      devicesToWrite: 0,
      sampleDeviceIds: [],
    });
    const text = renderPlanMarkdown(plan([gone, quiet]), target, [
      { owner: 'iot/old_layer', fate: 'removed', devices: 2, settings: ['snapshotFrequency'] },
      { owner: 'iot/kept_one', fate: 'kept', devices: 1, settings: ['eventPriorityLogin'] },
    ]);
    assert.match(
      text,
      /^#### `iot\/old_layer` \(not in the files\): snapshotFrequency would be removed from 2 devices$/m,
    );
    assert.match(
      text,
      /^- `iot\/kept_one` \(not in the files\): eventPriorityLogin kept on 1 device; --prune removes them$/m,
    );
  });

  it('writes control characters as escapes, in values and in messages', () => {
    const site = resource({
      settings: [
        {
          setting: 'hubResourceId',
          field: 'hubResourceId',
          devices: 1,
          transitions: [transition('a\n::error::x', 'b', 1)],
        },
      ],
      failedDevices: 1,
      firstFailures: [{ deviceId: 'd-1', reason: 'DeviceRejected', message: 'bad\r\n::warning::y' }],
    });
    const text = renderPlanMarkdown(plan([site]), target, []);
    assert.ok(!text.split('\n').some((line) => line.startsWith('::')), text);
    assert.match(text, /\| `a\\n::error::x` \| `b` \|/);
    assert.match(text, /- `d-1` DeviceRejected: bad\\\\r\\\\n::warning::y/);
  });

  it('says so when nothing changes', () => {
    const none = { ...plan([resource({ devicesToWrite: 0, sampleDeviceIds: [] })]), changes: false };
    assert.match(
      renderPlanMarkdown(none, target, []),
      /^### Plan for `iot\/hub` on `contoso\.azure-devices\.net`\n\n\*\*No changes\.\*\*/,
    );
  });
});
