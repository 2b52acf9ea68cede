// Where an export goes: standard output, a file, or a directory of one file per document. Files appear whole
// or not at all: each is written to a temporary name and renamed, a directory is filled under a temporary name
// and renamed into place, so a failed or interrupted export leaves nothing half written.
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RenderedDocument } from './render.js';

export type Destination =
  | { kind: 'stdout' }
  | { kind: 'file'; path: string }
  | { kind: 'directory'; path: string };

/**
 * What `-o PATH` means: `-` or nothing is standard output; a path ending in '/' or naming a directory is a
 * directory, which must be new or empty (a stale resource left beside the export would be applied by
 * `sync -f DIR`); anything else a file in a directory that exists. Throws an Error saying what is wrong.
 */
export function destinationOf(path: string | undefined): Destination {
  if (path === undefined || path === '-') return { kind: 'stdout' };
  const exists = existsSync(path);
  if (path.endsWith('/') || (exists && statSync(path).isDirectory())) {
    if (exists && readdirSync(path).length > 0)
      throw new Error(
        `${path} is not empty: export into a new or empty directory, so that no stale resource sits beside it`,
      );
    if (!existsSync(dirname(path.replace(/\/+$/, '')))) throw new Error(`${dirname(path)} does not exist`);
    return { kind: 'directory', path: path.replace(/\/+$/, '') || '/' };
  }
  if (!existsSync(dirname(path))) throw new Error(`${dirname(path)} does not exist`);
  return { kind: 'file', path };
}

function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
}

export function writeFileWhole(path: string, text: string): void {
  const temporary = temporaryName(path);
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

export function writeDirectoryWhole(path: string, documents: readonly RenderedDocument[]): void {
  const temporary = mkdtempSync(join(dirname(path), `.${basename(path)}.`));
  try {
    for (const document of documents) writeFileSync(join(temporary, document.fileName), document.text);
    // An empty directory named by -o is replaced; one that gained files since the check is left alone (rmdir fails).
    if (existsSync(path)) rmdirSync(path);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}
