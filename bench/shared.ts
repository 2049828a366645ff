import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..', '..');
export const SHARED = process.env.TINYML_SHARED ?? resolve(REPO_ROOT, '..', 'shared');

export interface BenchManifest {
  id: string;
  dir: string;
  model: string;
  cases: { name: string; inputs: string[]; outputs: string[] }[];
  tflm_reference: { arena_used_bytes: number };
}

export function benchManifests(): BenchManifest[] {
  const root = join(SHARED, 'vectors');
  if (!existsSync(root)) {
    console.error(`../shared/ not found at ${SHARED}: benchmarks need the real models (set TINYML_SHARED)`);
    process.exit(1);
  }
  return readdirSync(root).sort().map((id) => ({
    ...JSON.parse(readFileSync(join(root, id, 'manifest.json'), 'utf8')),
    id,
    dir: join(root, id),
  }));
}

export function readCaseInput(m: BenchManifest, file: string): Uint8Array {
  const b = readFileSync(join(m.dir, file));
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Replace the text between `<!-- name:start -->` and `<!-- name:end -->` in the README. */
export function writeReadmeSection(name: string, body: string): void {
  const path = join(REPO_ROOT, 'README.md');
  const text = readFileSync(path, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${start} … ${end} section`);
  const next = `${text.slice(0, a + start.length)}\n${body.trim()}\n${text.slice(b)}`;
  writeFileSync(path, next);
}
