// The IoT Plug and Play models the emulator's devices implement: Azure's public samples (their DTDL, as this
// project writes them, is in examples/models/). What a device of each model reports when it starts, which of its
// properties are writable and where they sit in the twin, and the firmware that decides which values it accepts.

import { COMPONENT_MARKER_KEY, COMPONENT_MARKER_VALUE } from '../protocol/plug-and-play.js';
import type { JsonObject, JsonValue } from './twin-document.js';

export const THERMOSTAT_MODEL_ID = 'dtmi:com:example:Thermostat;1';
export const TEMPERATURE_CONTROLLER_MODEL_ID = 'dtmi:com:example:TemperatureController;2';
export const DEVICE_INFORMATION_MODEL_ID = 'dtmi:azure:DeviceManagement:DeviceInformation;1';

/** The convention's marker of a component's object, in desired and reported properties alike. */

export interface PnpFirmware {
  version: string;
  /** The target temperatures (°C, inclusive) it accepts; any other value is refused with ac 400. */
  targetTemperature: { min: number; max: number };
}

export const CURRENT_FIRMWARE: PnpFirmware = { version: '2.4.1', targetTemperature: { min: 5, max: 35 } };
/** Older firmware, still in the field, with a narrower range: a value the current one takes, it may refuse. */
export const LEGACY_FIRMWARE: PnpFirmware = { version: '1.9.3', targetTemperature: { min: 10, max: 30 } };
export const PNP_FIRMWARE: readonly PnpFirmware[] = [CURRENT_FIRMWARE, LEGACY_FIRMWARE];

export function firmwareOf(version: string): PnpFirmware | undefined {
  return PNP_FIRMWARE.find((firmware) => firmware.version === version);
}

export type Judgement = { accepted: JsonValue } | { refused: string };

export interface WritableProperty {
  /** The component it belongs to; undefined for the model's own (root) properties. */
  component?: string;
  name: string;
  /** The value the device runs with until a desired value is accepted. */
  default: JsonValue;
  judge(value: JsonValue, firmware: PnpFirmware): Judgement;
}

/** What a device knows about itself: its firmware and stable numbers drawn for it from the hub's seed. */
export interface DeviceFacts {
  firmware: PnpFirmware;
  /** A number in [0, 1) fixed for this device and key. */
  unit(key: string): number;
}

export interface PnpModel {
  modelId: string;
  /** The `deviceType` tag of seeded devices of this model. */
  deviceType: string;
  writable: readonly WritableProperty[];
  /** The read-only properties it reports when it starts: root ones, and components' under their markers. */
  readOnly(facts: DeviceFacts): JsonObject;
}

/** The sample thermostat's `targetTemperature` (double, °C), as far as its firmware goes. */
function judgeTargetTemperature(value: JsonValue, firmware: PnpFirmware): Judgement {
  if (typeof value !== 'number') {
    return { refused: `targetTemperature must be a number (double), not ${JSON.stringify(value)}` };
  }
  const { min, max } = firmware.targetTemperature;
  if (value < min || value > max) {
    return {
      refused: `targetTemperature ${value} is outside ${min}..${max} °C, the range firmware ${firmware.version} accepts`,
    };
  }
  return { accepted: value };
}

const targetTemperature = (component?: string): WritableProperty => ({
  component,
  name: 'targetTemperature',
  default: 20,
  judge: judgeTargetTemperature,
});

/** A temperature in 18.0..30.0 °C, one decimal, fixed per device and key. */
const temperature = (facts: DeviceFacts, key: string) => Math.round(180 + facts.unit(key) * 120) / 10;

const component = (properties: JsonObject): JsonObject => ({
  [COMPONENT_MARKER_KEY]: COMPONENT_MARKER_VALUE,
  ...properties,
});

export const THERMOSTAT: PnpModel = {
  modelId: THERMOSTAT_MODEL_ID,
  deviceType: 'thermostat',
  writable: [targetTemperature()],
  readOnly: (facts) => ({ maxTempSinceLastReboot: temperature(facts, 'maxTemp') }),
};

export const TEMPERATURE_CONTROLLER: PnpModel = {
  modelId: TEMPERATURE_CONTROLLER_MODEL_ID,
  deviceType: 'temperature-controller',
  // Its own properties are read-only (serialNumber); what can be set is in its thermostats.
  writable: [targetTemperature('thermostat1'), targetTemperature('thermostat2')],
  readOnly: (facts) => ({
    serialNumber: `TC2-${Math.floor(facts.unit('serial') * 0xffffff)
      .toString(16)
      .padStart(6, '0')}`,
    thermostat1: component({ maxTempSinceLastReboot: temperature(facts, 'maxTemp1') }),
    thermostat2: component({ maxTempSinceLastReboot: temperature(facts, 'maxTemp2') }),
    deviceInformation: component({
      manufacturer: 'Contoso Climate',
      model: 'TC-200',
      swVersion: facts.firmware.version,
      osName: 'Azure RTOS',
      processorArchitecture: 'ARM Cortex-M7',
      processorManufacturer: 'NXP',
      // kibibytes, as the interface's DataSize unit says
      totalStorage: 8192,
      totalMemory: 1024,
    }),
  }),
};

export const PNP_MODELS: readonly PnpModel[] = [THERMOSTAT, TEMPERATURE_CONTROLLER];

export function pnpModelOf(modelId: string): PnpModel | undefined {
  return PNP_MODELS.find((model) => model.modelId === modelId);
}

/** Where a writable property sits in the desired and reported sections. */
export function propertyPath(property: WritableProperty): string[] {
  return property.component === undefined ? [property.name] : [property.component, property.name];
}
