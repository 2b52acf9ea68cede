// The emulated fleet both demos run on: about 2,000 devices over 11 sites, 3% offline, agents answering after
// 0.1 to 2.5 s, a quarter of them C agents that report in lower case.
import { type RunningEmulator, startEmulator } from '../emulator/index.js';

export function startDemoFleet(devices: number): Promise<RunningEmulator> {
  return startEmulator({
    devices,
    seed: 2026,
    tier: 'S1',
    units: 1,
    offlineRatio: 0.03,
    lowercaseRatio: 0.25,
    agentDelay: { min: 100, max: 2500 },
  });
}
