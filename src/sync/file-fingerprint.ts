// Notices edits of the resource files for `sync --watch` by polling names, sizes and modification times
// (portable, and cheap for a repository of YAML files).
import { statSync } from 'node:fs';
import { collectYamlFiles } from '../validation/resource-files.js';

export function filesFingerprint(paths: readonly string[]): string {
  try {
    return collectYamlFiles(paths)
      .map((file) => {
        const stats = statSync(file);
        return `${file}:${stats.size}:${stats.mtimeMs}`;
      })
      .join('|');
  } catch (error) {
    return `error:${(error as Error).message}`;
  }
}
