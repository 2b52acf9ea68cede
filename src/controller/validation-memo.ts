// What the shared validator said of each resource, kept between reconciles. A hub is reconciled every 2 s while
// devices have yet to answer, and judging a TwinConfig compiles its schema or model (up to half a second each on
// the event loop; the compile cache keeps 32, so 40 distinct schemas were compiled again at every pass): a verdict
// depends only on the spec (the object's generation), its namespace and name (its uid's), and the ConfigMap its
// schema names (that ConfigMap's resourceVersion), so it is kept under those and made again when one changes.
import { type ResourceValidation, validateResource } from '../validation/validate-resource.js';
import type { ConfigMapRead } from './config-maps.js';
import { GoneUids } from './gone-uids.js';
import { type ConfigObject, configMapNameOf } from './kube-objects.js';

/** Judges a resource of a hub, with the ConfigMaps read for this reconcile (by name). */
export type ValidateConfig = (
  config: ConfigObject,
  document: Record<string, unknown>,
  configMaps: ReadonlyMap<string, ConfigMapRead>,
) => ResourceValidation;

/** Judges with the shared validator, a ConfigMap's data read from what this reconcile read. */
export const validateConfig: ValidateConfig = (_config, document, configMaps) =>
  validateResource(document, {
    lookup: (_namespace, name) => {
      const read = configMaps.get(name);
      return read?.found ? read.data : undefined;
    },
  });

export class ValidationMemo {
  private readonly kept = new Map<string, { version: string; validation: ResourceValidation }>();

  /** `gone`: objects deleted lately, whose verdict a reconcile still running must not keep. */
  constructor(private readonly gone = new GoneUids()) {}
  /** Verdicts made and taken from memory, for tests and logs. */
  readonly stats = { validated: 0, remembered: 0 };

  /** The verdict on `config`, made anew only when its spec or its ConfigMap changed since the last one. */
  readonly validate: ValidateConfig = (config, document, configMaps) => {
    const uid = config.metadata.uid;
    const version = versionOf(config, configMaps);
    const kept = uid === undefined ? undefined : this.kept.get(uid);
    if (kept && version !== undefined && kept.version === version) {
      this.stats.remembered++;
      return kept.validation;
    }
    const validation = validateConfig(config, document, configMaps);
    this.stats.validated++;
    if (uid !== undefined && version !== undefined && !this.gone.has(uid))
      this.kept.set(uid, { version, validation });
    return validation;
  };

  /** Whether the verdict on `config` is kept for what it is now (validate would not judge it again). */
  has(config: ConfigObject, configMaps: ReadonlyMap<string, ConfigMapRead>): boolean {
    const uid = config.metadata.uid;
    const version = versionOf(config, configMaps);
    return uid !== undefined && version !== undefined && this.kept.get(uid)?.version === version;
  }

  /** The resource is gone. */
  forget(uid: string | undefined): void {
    if (uid !== undefined) this.kept.delete(uid);
  }
}

/**
 * What a verdict on `config` depends on besides its uid: its generation and, for a TwinConfig judged by a ConfigMap,
 * that ConfigMap's resourceVersion (or that it is missing). Undefined when one is unknown: nothing is kept then.
 */
function versionOf(config: ConfigObject, configMaps: ReadonlyMap<string, ConfigMapRead>): string | undefined {
  const generation = config.metadata.generation;
  if (generation === undefined) return undefined;
  const name = configMapNameOf(config);
  if (name === undefined) return String(generation);
  const read = configMaps.get(name);
  if (!read?.found) return read?.unreadable ? undefined : `${generation}/-`;
  return read.resourceVersion === undefined ? undefined : `${generation}/${read.resourceVersion}`;
}
