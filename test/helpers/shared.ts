import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * ../shared/ beside the repo holds the real models and reference vectors. Tests read them in place;
 * when it is missing we fail loudly rather than pass vacuously.
 */
const here = dirname(fileURLToPath(import.meta.url));
// dist/test/helpers -> repo root is three levels up.
export const REPO_ROOT = resolve(here, '..', '..', '..');
export const SHARED = process.env.TINYML_SHARED ?? resolve(REPO_ROOT, '..', 'shared');

export function requireShared(): string {
  if (!existsSync(join(SHARED, 'models'))) {
    throw new Error(`../shared/ not found at ${SHARED}: the real models and vectors live there (set TINYML_SHARED to override)`);
  }
  return SHARED;
}

export interface TensorSpec {
  shape: number[];
  type: string;
  bytes: number;
  scale?: number;
  zero_point?: number;
}

export interface VectorCase {
  name: string;
  inputs: string[];
  outputs: string[];
  source: string;
}

export interface Manifest {
  dir: string;
  id: string;
  model: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  compare: string;
  cases: VectorCase[];
  tflm_reference: { arena_used_bytes: number; note: string };
  layers?: Record<string, string>;
}

export function manifests(): Manifest[] {
  const root = join(requireShared(), 'vectors');
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'manifest.json')))
    .sort()
    .map((d) => ({ ...JSON.parse(readFileSync(join(root, d, 'manifest.json'), 'utf8')), dir: join(root, d), id: d }));
}

/** The op zoo: one single-operator model per variant, ../shared/ops/vectors/<variant>/manifest.json. */
export function opManifests(): Manifest[] {
  const root = join(requireShared(), 'ops', 'vectors');
  if (!existsSync(root)) throw new Error(`../shared/ops/vectors not found at ${root}: the op zoo lives there`);
  return readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'manifest.json')))
    .sort()
    .map((d) => ({ ...JSON.parse(readFileSync(join(root, d, 'manifest.json'), 'utf8')), dir: join(root, d), id: d }));
}

/**
 * Invokes per case of an op-zoo variant: the stateful ones' (SVDF, LSTM) reference output is the third
 * invoke's from zero state (ops/README.md), every other variant's the first.
 */
export function invokesPerCase(m: Manifest): number {
  return /svdf|lstm/.test(m.id) ? 3 : 1;
}

export function modelPath(m: Manifest | string): string {
  return join(requireShared(), typeof m === 'string' ? join('models', m) : m.model);
}

export function readBin(m: Manifest, file: string): Uint8Array {
  const b = readFileSync(join(m.dir, file));
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Float tolerance from a manifest's compare string: "float: |a-b| <= 1e-4 * max(1, |b|)". */
export function floatTolerance(compare: string): number | null {
  const m = /<=\s*([0-9.eE+-]+)\s*\*/.exec(compare);
  return m ? Number(m[1]) : null;
}

export interface LayerTensor {
  index: number;
  name: string;
  shape: number[];
  type: string;
  bytes: number;
  scale?: number;
  zero_point?: number;
  producer: { op_index: number; op_name: string } | null;
  file: string;
  is_model_input: boolean;
  is_model_output: boolean;
}

/** Per-layer reference tensors for one case (manifests with `layers`). */
export function layerTensors(m: Manifest): { caseName: string; dir: string; tensors: LayerTensor[] } | null {
  if (!m.layers) return null;
  const [caseName, rel] = Object.entries(m.layers)[0];
  const file = join(m.dir, rel);
  const tensors = JSON.parse(readFileSync(file, 'utf8')) as LayerTensor[];
  return { caseName, dir: dirname(file), tensors };
}
