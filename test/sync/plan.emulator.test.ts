// `sync --dry-run` as a reviewer reads it, against the emulator through the real SDK: per resource and setting,
// the values on the hub and the new ones with device counts; as text, JSON and a pull request comment; the exit
// status a pipeline reads (0 no changes, 1 changes, above 1 error); never a secret.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/index.js';
import type { HubClientOptions } from '../../src/hub/hub-client.js';
import { createLogger } from '../../src/observability/logger.js';
import type { PlanDiff } from '../../src/planner/plan-diff.js';
import { AGENT_CONFIGURATION_KEY } from '../../src/profiles/security-agent/index.js';
import { SECURITY_MODULE_ID } from '../../src/profiles/security-agent/profile.js';
import { runSync, type SyncOptions } from '../../src/sync/run-sync.js';
import { SYNC_REPORT_API_VERSION } from '../../src/sync/sync-document.js';
import { emulatorClient, startHubEmulator } from '../support/emulator-support.js';
import { writeTempFiles } from '../support/resources.js';

const logger = createLogger({ level: 'error' });

function smc(name: string, spec: string): string {
  return `apiVersion: iotsecurity.io/v1alpha1
kind: SecurityModuleConfig
metadata: { name: ${name}, namespace: iot }
spec:
  hubRef: { name: hub }
${spec}`;
}

const BASELINE = smc(
  'baseline',
  `  target: { condition: "tags.environment = 'production'" }
  priority: 10
  agentConfiguration:
    highPriorityMessageFrequency: PT5M
`,
);
const STRICT = smc(
  'site-ams-strict',
  `  target: { condition: "tags.site = 'ams'" }
  priority: 50
  agentConfiguration:
    highPriorityMessageFrequency: PT1M
    eventPriorities: { Login: High }
`,
);

interface Run {
  code: number;
  out: string;
  err: string;
}

async function dryRun(
  emulator: RunningEmulator,
  files: Record<string, string>,
  options: Partial<SyncOptions> = {},
  client: Partial<HubClientOptions> = {},
): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const access = emulatorClient(emulator, { tier: 'S3', ...client });
  try {
    const code = await runSync(
      {
        paths: [writeTempFiles(files)],
        dryRun: true,
        prune: false,
        wait: false,
        watch: false,
        timeoutMs: 30_000,
        intervalMs: 60_000,
        output: 'table',
        ...options,
      },
      {
        io: { out: (l) => out.push(l), err: (l) => err.push(l), isTerminal: false },
        access,
        logger,
      },
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    access.close();
  }
}

async function apply(emulator: RunningEmulator, files: Record<string, string>): Promise<void> {
  const run = await dryRun(emulator, files, { dryRun: false, wait: true, prune: true });
  assert.equal(run.code, 0, run.err);
}

/** Writes desired settings by hand, as someone outside the operator would. */
async function setByHand(emulator: RunningEmulator, deviceId: string, settings: Record<string, unknown>) {
  const client = emulatorClient(emulator, { tier: 'S3' });
  try {
    const twin = (await client.readTwins(SECURITY_MODULE_ID, [deviceId], { consistent: true })).get(
      deviceId,
    )!;
    const wrapped = Object.fromEntries(Object.entries(settings).map(([k, value]) => [k, { value }]));
    await client.patchTwin(
      { slot: SECURITY_MODULE_ID, deviceId: deviceId },
      { properties: { desired: { [AGENT_CONFIGURATION_KEY]: wrapped } } },
      twin.etag,
    );
  } finally {
    client.close();
  }
}

describe('sync --dry-run: the plan', () => {
  let emulator: RunningEmulator;
  let key: string;
  before(async () => {
    emulator = await startHubEmulator({ tier: 'S3' });
    key = /SharedAccessKey=([^;]+)/.exec(emulator.connectionString)![1];
    const devices = [];
    // Amsterdam: 4 production devices under the baseline's PT5M, 2 lab devices with nothing set.
    for (let i = 0; i < 4; i++)
      devices.push({
        deviceId: `ams-prod-${i}`,
        tags: { environment: 'production', site: 'ams' },
        online: true,
      });
    for (let i = 0; i < 2; i++)
      devices.push({ deviceId: `ams-lab-${i}`, tags: { environment: 'lab', site: 'ams' }, online: true });
    devices.push({ deviceId: 'chi-prod-0', tags: { environment: 'production', site: 'chi' }, online: true });
    emulator.addDevices(devices);
    await apply(emulator, { 'baseline.yaml': BASELINE });
  });
  after(() => emulator.close());

  it('shows per setting the values on the hub and the new one with device counts, and exits 1', async () => {
    const run = await dryRun(emulator, { 'baseline.yaml': BASELINE, 'strict.yaml': STRICT });
    assert.equal(run.code, 1, run.err);
    const lines = run.out.split('\n');
    assert.match(
      lines[0],
      /^Plan for iot\/hub on .+ \(dry run, nothing written\): 6 device twins to write for 1 resource \(12 setting changes\)$/,
    );
    assert.ok(
      lines.includes(
        '  SecurityModuleConfig iot/site-ams-strict (priority 50, 6 devices targeted): 6 device twins to write; e.g. ams-lab-0, ams-lab-1, ams-prod-0, ams-prod-1, ams-prod-2',
      ),
      run.out,
    );
    assert.ok(lines.includes('    eventPriorities.Login: 6 devices: (unset) -> High'), run.out);
    assert.ok(
      lines.includes(
        '    highPriorityMessageFrequency: 4 devices: PT5M -> PT1M (taking over from iot/baseline); 2 devices: (unset) -> PT1M',
      ),
      run.out,
    );
    assert.ok(
      lines.includes('  SecurityModuleConfig iot/baseline (priority 10, 5 devices targeted): no change'),
      run.out,
    );
  });

  it('carries the whole plan in JSON, in a versioned shape, bounded by transitions rather than devices', async () => {
    const run = await dryRun(
      emulator,
      { 'baseline.yaml': BASELINE, 'strict.yaml': STRICT },
      { output: 'json' },
    );
    assert.equal(run.code, 1);
    const document = JSON.parse(run.out);
    assert.equal(document.apiVersion, SYNC_REPORT_API_VERSION);
    assert.equal(document.kind, 'SyncReport');
    assert.equal(document.iotHub, 'iot/hub');
    const plan = document.plan as PlanDiff;
    assert.equal(plan.changes, true);
    assert.equal(plan.summary.devicesToWrite, 6);
    const strict = plan.resources.find((r) => r.resource === 'iot/site-ams-strict')!;
    const frequency = strict.settings.find((s) => s.setting === 'highPriorityMessageFrequency')!;
    assert.deepEqual(
      frequency.transitions.map((t) => [t.devices, t.from, t.to, t.takenOverFrom ?? null]),
      [
        [4, 'PT5M', 'PT1M', 'iot/baseline'],
        [2, null, 'PT1M', null],
      ],
    );
    assert.deepEqual(frequency.transitions[1].sampleDeviceIds, ['ams-lab-0', 'ams-lab-1']);
  });

  it('writes the plan as a pull request comment: heading, summary, a table per resource, folded lists', async () => {
    const run = await dryRun(
      emulator,
      { 'baseline.yaml': BASELINE, 'strict.yaml': STRICT },
      { output: 'markdown' },
    );
    assert.equal(run.code, 1);
    const text = run.out;
    assert.match(
      text,
      /^### Plan for `iot\/hub` on `.+`\n\n\*\*6 device twins to write for 1 resource \(12 setting changes\)\.\*\* Dry run: nothing was written\./,
    );
    assert.match(
      text,
      /#### SecurityModuleConfig `iot\/site-ams-strict` \(priority 50, 6 devices targeted\): 6 device twins to write\n\n\| Setting \| Devices \| Current \| New \|/,
    );
    assert.match(
      text,
      /\| `highPriorityMessageFrequency` \| 4 \| `PT5M` \| `PT1M` \(taking over from iot\/baseline\) \|/,
    );
    assert.match(text, /\| `highPriorityMessageFrequency` \| 2 \| `\(unset\)` \| `PT1M` \|/);
    assert.match(
      text,
      /<details>\n<summary>1 resource without changes<\/summary>\n\n- `iot\/baseline` \(priority 10, 5 devices targeted\)/,
    );
    assert.ok(!text.includes(key));
  });

  it('shows what leaving a resource out removes, down to the next layer or the agent default', async () => {
    await apply(emulator, { 'baseline.yaml': BASELINE, 'strict.yaml': STRICT });
    const run = await dryRun(emulator, { 'baseline.yaml': BASELINE }, { prune: true });
    assert.equal(run.code, 1);
    const lines = run.out.split('\n');
    assert.ok(
      lines.includes(
        '  iot/site-ams-strict (not in the files): eventPriorityLogin, highPriorityMessageFrequency would be removed from 6 devices',
      ),
      run.out,
    );
    assert.ok(lines.includes('    eventPriorities.Login: 6 devices: High -> (agent default)'), run.out);
    assert.ok(
      lines.includes(
        '    highPriorityMessageFrequency: 4 devices: PT1M -> PT5M (iot/baseline takes over); 2 devices: PT1M -> (agent default)',
      ),
      run.out,
    );
  });

  it('exits 0 with "no changes" when the hub holds what the files ask', async () => {
    const files = { 'baseline.yaml': BASELINE, 'strict.yaml': STRICT };
    const run = await dryRun(emulator, files);
    assert.equal(run.code, 0, run.out);
    assert.match(run.out.split('\n')[0], /: no changes$/);
    const json = await dryRun(emulator, files, { output: 'json' });
    assert.equal(json.code, 0);
    assert.equal(JSON.parse(json.out).plan.changes, false);
  });

  it('lists devices left for later rollout batches', async () => {
    const rolled = smc(
      'rolled',
      `  target: { condition: "tags.environment = 'production'" }
  priority: 60
  rollout: { batchSize: 2 }
  agentConfiguration:
    snapshotFrequency: PT3H
`,
    );
    const run = await dryRun(emulator, {
      'baseline.yaml': BASELINE,
      'strict.yaml': STRICT,
      'rolled.yaml': rolled,
    });
    assert.equal(run.code, 1);
    assert.match(run.out, /^ {4}snapshotFrequency: 2 devices: \(unset\) -> PT3H$/m);
    assert.match(run.out, /^ {4}3 more devices wait for later rollout batches of 2$/m);
  });

  it("titles a dry run's status table as the forecast it is, in text, JSON and markdown", async () => {
    const files = { 'baseline.yaml': BASELINE, 'strict.yaml': STRICT };
    const table = await dryRun(emulator, files);
    const lines = table.out.split('\n');
    const title = lines.indexOf('Status after the planned writes (a forecast: nothing was written):');
    assert.ok(title > 0, table.out);
    assert.match(lines[title + 1], /^RESOURCE +TARGETED/);
    const json = JSON.parse((await dryRun(emulator, files, { output: 'json' })).out);
    assert.equal(json.statusForecast, true);
    const markdown = (await dryRun(emulator, files, { output: 'markdown' })).out;
    assert.match(
      markdown,
      /<summary>Status after the planned writes \(a forecast: nothing was written\)<\/summary>\n\n\| Resource \| Targeted \|.*\n\| --- \| ---: \|.*\n\| `iot\/[a-z-]+` \| \d+ \|/,
    );
  });

  it('never prints a secret a twin holds, nor the key', async () => {
    const signature = 'SharedAccessSignature sr=hub&sig=c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ%3D%3D&se=1&skn=owner';
    await setByHand(emulator, 'chi-prod-0', { hubResourceId: signature });
    const pinned = smc(
      'pinned',
      `  target: { deviceIds: [chi-prod-0] }
  agentConfiguration:
    hubResourceId: /subscriptions/x/resourceGroups/y/providers/Microsoft.Devices/IotHubs/hub
`,
    );
    for (const output of ['table', 'json', 'markdown'] as const) {
      const run = await dryRun(emulator, { 'baseline.yaml': BASELINE, 'pinned.yaml': pinned }, { output });
      assert.equal(run.code, 1, run.err);
      const text = run.out + run.err;
      assert.match(
        text,
        /hubResourceId[\s\S]*SharedAccessSignature \[REDACTED\]/,
        `${output}: shown, redacted\n${text}`,
      );
      assert.ok(!text.includes('c2VjcmV0LXNpZ25hdHVyZS12YWx1ZQ'), output);
      assert.ok(!text.includes(key), output);
    }
  });
});

describe('sync --dry-run: what a twin holds is data', () => {
  let emulator: RunningEmulator;
  const PINNED = smc(
    'pinned',
    `  target: { deviceIds: [dev-0] }
  agentConfiguration:
    hubResourceId: /subscriptions/x/resourceGroups/y/providers/Microsoft.Devices/IotHubs/hub
`,
  );
  before(async () => {
    emulator = await startHubEmulator({ tier: 'S3' });
    emulator.addDevices([{ deviceId: 'dev-0', tags: {}, online: true }]);
  });
  after(() => emulator.close());

  /** The plan of taking hubResourceId over from `value`, written by hand, in each output. */
  async function planFrom(value: string): Promise<Record<'table' | 'json' | 'markdown', string>> {
    await setByHand(emulator, 'dev-0', { hubResourceId: value });
    const outputs = {} as Record<'table' | 'json' | 'markdown', string>;
    for (const output of ['table', 'json', 'markdown'] as const) {
      const run = await dryRun(emulator, { 'pinned.yaml': PINNED }, { output });
      assert.equal(run.code, 1, run.err);
      outputs[output] = run.out;
    }
    return outputs;
  }

  const newValue = '/subscriptions/x/resourceGroups/y/providers/Microsoft.Devices/IotHubs/hub';
  for (const { form, value, secret, shown } of [
    {
      form: 'a key before a quote',
      value: 'SharedAccessKey=abc"def',
      secret: 'abc',
      shown: 'SharedAccessKey=[REDACTED]"def',
    },
    {
      form: 'a key that ends the value',
      value: 'HostName=h;SharedAccessKey=ZW5kLW9mLXRoZS12YWx1ZQ==',
      secret: 'ZW5kLW9mLXRoZS12YWx1ZQ',
      shown: 'HostName=h;SharedAccessKey=[REDACTED]',
    },
    {
      form: 'a quoted key',
      value: 'HostName=h;SharedAccessKeyName=o;SharedAccessKey="TOPSECRETQUOTED="',
      secret: 'TOPSECRETQUOTED',
      shown: 'HostName=h;SharedAccessKeyName=o;SharedAccessKey=[REDACTED]',
    },
    {
      form: 'a storage account key',
      value: 'AccountName=a;AccountKey=c3RvcmFnZS1hY2NvdW50LWtleQ==;EndpointSuffix=core.windows.net',
      secret: 'c3RvcmFnZS1hY2NvdW50LWtleQ',
      shown: 'AccountName=a;AccountKey=[REDACTED];EndpointSuffix=core.windows.net',
    },
    {
      form: 'a URL-encoded key',
      value: `cs=${encodeURIComponent('HostName=h;SharedAccessKey=dXJsLWVuY29kZWQta2V5+/=')}`,
      secret: 'dXJsLWVuY29kZWQta2V5',
      shown: 'cs=HostName%3Dh%3BSharedAccessKey%3D[REDACTED]',
    },
  ]) {
    it(`shows ${form} redacted in the table, in valid JSON and in an intact markdown row`, async () => {
      const outputs = await planFrom(value);
      for (const [output, text] of Object.entries(outputs))
        assert.ok(!text.includes(secret), `${output} shows the key:\n${text}`);
      assert.ok(
        outputs.table.split('\n').includes(`    hubResourceId: 1 device: ${shown} -> ${newValue}`),
        outputs.table,
      );
      const document = JSON.parse(outputs.json);
      const [transition] = document.plan.resources[0].settings[0].transitions;
      assert.deepEqual([transition.from, transition.to], [shown, newValue]);
      // The value is one closed code span in its cell, and the row keeps its four cells.
      const row = outputs.markdown.split('\n').find((line) => line.startsWith('| `hubResourceId` |'));
      assert.equal(row, `| \`hubResourceId\` | 1 | \`${shown}\` | \`${newValue}\` |`, outputs.markdown);
    });
  }

  it('writes the control characters of a value as escapes: a newline cannot forge a workflow command', async () => {
    const outputs = await planFrom('x\n::error file=a.yaml::forged\u0085\u2028');
    for (const [output, text] of Object.entries(outputs))
      assert.ok(
        !text.split('\n').some((line) => line.startsWith('::')),
        `${output}: a line starts a workflow command\n${text}`,
      );
    assert.match(
      outputs.table,
      /hubResourceId: 1 device: x\\n::error file=a\.yaml::forged\\u0085\\u2028 -> /,
    );
    assert.match(outputs.markdown, /\| `x\\n::error file=a\.yaml::forged\\u0085\\u2028` \|/);
    assert.ok(!/[\u0085\u2028]/.test(outputs.json), 'JSON escapes them too');
    assert.equal(
      JSON.parse(outputs.json).plan.resources[0].settings[0].transitions[0].from,
      'x\n::error file=a.yaml::forged\u0085\u2028',
    );
  });
});

describe('sync --dry-run: errors a pipeline tells from changes', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startHubEmulator({ tier: 'S3', devices: 3 });
  });
  after(() => emulator.close());

  it('exits 4 on invalid resources, and on a hub that refuses the credentials, without the key', async () => {
    const invalid = await dryRun(emulator, { 'baseline.yaml': BASELINE.replace('PT5M', '5 minutes') });
    assert.equal(invalid.code, 4);
    const wrongKey = Buffer.alloc(32, 9).toString('base64');
    const refused = await dryRun(
      emulator,
      { 'baseline.yaml': BASELINE },
      {},
      {
        connectionString: emulator.connectionString.replace(
          /SharedAccessKey=[^;]+/,
          `SharedAccessKey=${wrongKey}`,
        ),
      },
    );
    assert.equal(refused.code, 4);
    assert.match(refused.err, /^sync: .*(Unauthorized|401|unauthori[sz]ed)/im);
    assert.ok(!refused.err.includes(wrongKey));
  });

  it('prints a SyncReport holding the error with --output json when it cannot read the hub', async () => {
    const wrongKey = Buffer.alloc(32, 9).toString('base64');
    const refused = await dryRun(
      emulator,
      { 'baseline.yaml': BASELINE },
      { output: 'json' },
      {
        connectionString: emulator.connectionString.replace(
          /SharedAccessKey=[^;]+/,
          `SharedAccessKey=${wrongKey}`,
        ),
      },
    );
    assert.equal(refused.code, 4);
    const document = JSON.parse(refused.out);
    assert.deepEqual(
      [document.apiVersion, document.kind, document.iotHub, document.dryRun],
      [SYNC_REPORT_API_VERSION, 'SyncReport', 'iot/hub', true],
    );
    assert.match(document.error, /Unauthorized|401|unauthori[sz]ed/i);
    assert.equal(document.plan, undefined);
    assert.ok(!refused.out.includes(wrongKey) && !refused.err.includes(wrongKey));
  });

  it('prints no status table, not even its header, when there is no resource', async () => {
    const run = await dryRun(
      emulator,
      { 'hub.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n' },
      {
        allowEmpty: true,
      },
    );
    assert.equal(run.code, 0, run.err);
    assert.doesNotMatch(run.out, /RESOURCE|forecast/, run.out);
  });

  it('exits 2 for files naming two hubs without --hub', async () => {
    const other = BASELINE.replace('name: hub }', 'name: other }').replace(
      'name: baseline',
      'name: other-baseline',
    );
    const run = await dryRun(emulator, { 'a.yaml': BASELINE, 'b.yaml': other });
    assert.equal(run.code, 2);
  });
});
