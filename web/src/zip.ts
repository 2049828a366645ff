import { zipSync, strToU8 } from 'fflate';
import type { GeneratedFile } from '../../src/codegen/project.js';

/** The generated C project as a .zip, its files under one folder named after the model. */
export function projectZip(files: readonly GeneratedFile[], folder: string): Uint8Array {
  const entries: Record<string, Uint8Array> = {};
  for (const f of files) entries[`${folder}/${f.path}`] = strToU8(f.contents);
  return zipSync(entries, { level: 6, mtime: new Date('2026-01-01T00:00:00Z') });
}

/** A C identifier-ish folder name from a model name. */
export function folderName(modelName: string): string {
  return modelName.replace(/[^A-Za-z0-9_.-]+/g, '_') || 'model';
}
