// Reads a hub into a FleetIndex page by page: the devices and the twins the export's kind reads, both at once,
// each page reduced to what export keeps before the next is asked for, so memory follows the index, not the
// twins. The device twins come with the devices' own query: one collection is read, not two.
import type { HubPageReader } from '../hub/hub-client-api.js';
import { DEVICE_TWIN, type DeviceRecord, type ManagedTwin } from '../twins/types.js';
import type { ExportKind } from './export-kind.js';
import { FleetIndex } from './fleet-index.js';

export interface ReadProgress {
  devices: number;
  /** Twins of the kind's slot read. */
  twins: number;
  /** Query pages read, both collections. */
  pages: number;
}

export interface ReadFleetOptions {
  kind: ExportKind;
  /** Whose settings may be exported (see unclaimedSettings). */
  manager: string;
  /** Only devices that announced this model are exported; the others are listed, for targets to leave out. */
  modelId?: string;
  abort?: AbortSignal;
  /** Called after every page. */
  onProgress?: (progress: ReadProgress) => void;
}

export async function readFleet(reader: HubPageReader, options: ReadFleetOptions): Promise<FleetIndex> {
  const { kind, manager, modelId } = options;
  const index = new FleetIndex();
  const progress: ReadProgress = { devices: 0, twins: 0, pages: 0 };
  const addDevice = (device: Pick<DeviceRecord, 'deviceId' | 'tags' | 'modelId'>) => {
    const { deviceId, tags } = device;
    const otherModel = modelId !== undefined && device.modelId !== modelId;
    index.addDevice(
      kind.targetsByModel ? { deviceId, tags, modelId: device.modelId } : { deviceId, tags },
      otherModel,
    );
  };
  const addTwin = (twin: ManagedTwin) =>
    index.addTwin(twin.deviceId, kind.read(twin, manager), twin.modelId !== undefined);
  // The first failure stops the other collection's reading, and is what the caller gets.
  const failed = new AbortController();
  const abort = options.abort ? AbortSignal.any([options.abort, failed.signal]) : failed.signal;
  const read = async <T>(
    pages: AsyncIterable<T[]>,
    add: (item: T) => void,
    counts: ('devices' | 'twins')[],
  ) => {
    try {
      for await (const page of pages) {
        for (const item of page) add(item);
        for (const count of counts) progress[count] += page.length;
        progress.pages++;
        options.onProgress?.(progress);
      }
    } catch (error) {
      failed.abort();
      throw error;
    }
  };
  if (kind.slot === DEVICE_TWIN) {
    await read(
      reader.twinPages(DEVICE_TWIN, { abort }),
      (twin) => {
        addDevice(twin);
        addTwin(twin);
      },
      ['devices', 'twins'],
    );
    return index;
  }
  const devices = () => read(reader.devicePages({ abort }), addDevice, ['devices']);
  const twins = () => read(reader.twinPages(kind.slot, { abort }), addTwin, ['twins']);
  // Told a model, the devices come first, so that the twins of other models are passed over, not counted.
  if (modelId === undefined) await Promise.all([devices(), twins()]);
  else {
    await devices();
    await twins();
  }
  return index;
}
