// Reads a hub into a FleetIndex page by page: both collections at once, each page reduced to what export keeps
// before the next is asked for, so memory follows the index, not the twins.
import type { HubPageReader } from '../hub/hub-client-api.js';
import { SECURITY_MODULE_ID } from '../profiles/security-agent/profile.js';
import { FleetIndex } from './fleet-index.js';
import { agentTwinView, twinSettings } from './twin-settings.js';

export interface ReadProgress {
  devices: number;
  modules: number;
  /** Query pages read, both collections. */
  pages: number;
}

export interface ReadFleetOptions {
  /** Whose settings may be exported (see twinSettings). */
  manager: string;
  abort?: AbortSignal;
  /** Called after every page. */
  onProgress?: (progress: ReadProgress) => void;
}

export async function readFleet(reader: HubPageReader, options: ReadFleetOptions): Promise<FleetIndex> {
  const index = new FleetIndex();
  const progress: ReadProgress = { devices: 0, modules: 0, pages: 0 };
  // The first failure stops the other collection's reading, and is what the caller gets.
  const failed = new AbortController();
  const abort = options.abort ? AbortSignal.any([options.abort, failed.signal]) : failed.signal;
  const read = async (pages: () => Promise<void>) => {
    try {
      await pages();
    } catch (error) {
      failed.abort();
      throw error;
    }
  };
  await Promise.all([
    read(async () => {
      for await (const page of reader.devicePages({ abort })) {
        for (const device of page) index.addDevice(device);
        progress.devices += page.length;
        progress.pages++;
        options.onProgress?.(progress);
      }
    }),
    read(async () => {
      for await (const page of reader.twinPages(SECURITY_MODULE_ID, { abort })) {
        for (const twin of page)
          index.addModule(twin.deviceId, twinSettings(agentTwinView(twin), options.manager));
        progress.modules += page.length;
        progress.pages++;
        options.onProgress?.(progress);
      }
    }),
  ]);
  return index;
}
