import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JobClient, Registry } from 'azure-iothub';
import { planFleet } from '../../src/emulator/fleet.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { jobClientFromConnectionString } from '../../src/hub/sdk-transport.js';
import { errorCodeOf, registryOf, rejectionOf, startHubEmulator } from '../support/emulator-requests.js';
import { until } from '../support/until.js';

const SEED = 42;

/** The job once its status is `wanted`; as it was last read if it never got there (the caller's assertion says so). */
async function waitForStatus(jobs: JobClient, jobId: string, wanted: string): Promise<Record<string, any>> {
  let job: Record<string, any> = {};
  const reached = async () => {
    job = (await jobs.getJob(jobId)).jobStatus as unknown as Record<string, any>;
    return job.status === wanted;
  };
  await until(reached, 10_000, `job ${jobId} ${wanted}`, 20).catch(() => undefined);
  return job;
}

describe('bulk twin update jobs', () => {
  let emulator: RunningEmulator;
  let registry: Registry;
  let jobs: JobClient;

  before(async () => {
    emulator = await startHubEmulator({ devices: 20, seed: SEED, tier: 'S1' });
    registry = registryOf(emulator);
    jobs = jobClientFromConnectionString(emulator.connectionString, { ca: emulator.caCert });
  });
  after(() => emulator.close());

  it('updates the twins of the devices its condition selects', async () => {
    const scheduled = await jobs.scheduleTwinUpdate('tag-production', "tags.environment = 'production'", {
      etag: '*',
      tags: { campaign: 'spring' },
    });
    assert.equal((scheduled.jobStatus as unknown as Record<string, unknown>).type, 'scheduleUpdateTwin');
    const job = await waitForStatus(jobs, 'tag-production', 'completed');
    const production = [...planFleet(SEED, 20)]
      .filter((d) => d.tags.environment === 'production')
      .map((d) => d.deviceId);
    assert.equal(job.status, 'completed');
    assert.equal(job.deviceJobStatistics.deviceCount, production.length);
    assert.equal(job.deviceJobStatistics.succeededCount, production.length);
    const page = await registry
      .createQuery("SELECT * FROM devices WHERE tags.campaign = 'spring'", 100)
      .next();
    assert.deepEqual(
      (page.result as { deviceId: string }[]).map((t) => t.deviceId).sort(),
      production.sort(),
    );
  });

  it('allows one active job on S1 and answers 429 ThrottlingMaxActiveJobCountExceeded to a second', async () => {
    const later = new Date(Date.now() + 3_600_000);
    await jobs.scheduleTwinUpdate(
      'later',
      "deviceId = 'device-000001'",
      { etag: '*', tags: { later: true } },
      later,
      3600,
    );
    assert.equal(
      ((await jobs.getJob('later')).jobStatus as unknown as Record<string, unknown>).status,
      'scheduled',
    );
    const error = await rejectionOf(
      jobs.scheduleTwinUpdate('second', "deviceId = 'device-000002'", { etag: '*', tags: { x: 1 } }),
    );
    assert.equal(error.response?.statusCode, 429);
    assert.equal(errorCodeOf(error.responseBody), 'ThrottlingMaxActiveJobCountExceeded');
  });

  it('cancels a job, which frees its slot', async () => {
    const cancelled = await jobs.cancelJob('later');
    assert.equal((cancelled.jobStatus as unknown as Record<string, unknown>).status, 'cancelled');
    await jobs.scheduleTwinUpdate('second', "deviceId = 'device-000002'", { etag: '*', tags: { x: 1 } });
    assert.equal((await waitForStatus(jobs, 'second', 'completed')).status, 'completed');
  });

  it('answers 404 for a job it does not know and 400 for a condition it cannot parse', async () => {
    const missing = await rejectionOf(jobs.getJob('nope'));
    assert.equal(missing.response?.statusCode, 404);
    const invalid = await rejectionOf(
      jobs.scheduleTwinUpdate('bad', 'tags.site = ', { etag: '*', tags: { x: 1 } }),
    );
    assert.equal(invalid.response?.statusCode, 400);
  });
});
