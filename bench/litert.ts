/**
 * LiteRT.js (npm @litertjs/core, a devDependency used only here): Google's TFLite for JavaScript, XNNPACK in
 * WebAssembly SIMD, measured in the same process and run as our backends. Two things are needed to run it
 * in Node: the browser globals its loader expects (self, importScripts, require, __dirname), and int8
 * tensors, which its element-type table lacks: the bench loads a copy of its module with int8 added (in
 * node_modules/.cache, so the copy resolves the package's own imports).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { REPO_ROOT } from './shared.js';
import { loadModel } from '../src/model.js';
import { writeTflite } from '../src/tflite/writer.js';

interface LiteRtTensor { toTypedArray(): ArrayLike<number>; delete(): void }
interface LiteRtModel { run(inputs: LiteRtTensor[]): Promise<LiteRtTensor[]>; delete(): void }
interface LiteRtModule {
  loadLiteRt(path: string): Promise<unknown>;
  loadAndCompile(model: Uint8Array, opts: { accelerator: 'wasm' }): Promise<LiteRtModel>;
  Tensor: new (data: ArrayBufferView, shape: number[]) => LiteRtTensor;
}


let loaded: Promise<LiteRtModule | null> | null = null;
const NOT_INSTALLED = 'not installed';

async function load(): Promise<LiteRtModule | null> {
  const require = createRequire(join(REPO_ROOT, 'package.json'));
  let entry: string;
  try {
    entry = require.resolve('@litertjs/core');
  } catch {
    console.error('LiteRT.js (@litertjs/core) is not installed: npm install (it is a devDependency); its column stays empty');
    return null;
  }
  const pkg = dirname(dirname(entry));
  const source = readFileSync(entry, 'utf8');
  const anchor = 'var DATATYPES = Object.freeze([';
  if (!source.includes(anchor)) throw new Error(`@litertjs/core changed: no "${anchor}" to add int8 to`);
  const withInt8 = source.replace(anchor, `${anchor}\n  { dtype: "int8", typedArrayConstructor: Int8Array, elementType: ElementType.INT8 },`);
  const cache = join(REPO_ROOT, 'node_modules', '.cache', 'tinyml-bench');
  mkdirSync(cache, { recursive: true });
  const copy = join(cache, 'litert-int8.mjs');
  writeFileSync(copy, withInt8);
  const g = globalThis as Record<string, unknown>;
  g.self = globalThis;
  g.require = require;
  g.__dirname = join(pkg, 'wasm');
  g.importScripts = (url: string) => {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    vm.runInThisContext(readFileSync(file, 'utf8'), { filename: file });
  };
  const mod = (await import(pathToFileURL(copy).href)) as LiteRtModule;
  // Its loader logs every step to the console; keep the bench's output to the tables.
  const log = console.log, info = console.info, warn = console.warn, error = console.error;
  console.log = console.info = console.warn = console.error = () => {};
  try {
    await mod.loadLiteRt(`${join(pkg, 'wasm')}/`);
  } finally {
    Object.assign(console, { log, info, warn, error });
  }
  return mod;
}

const TYPED: Record<string, (b: Uint8Array) => ArrayBufferView> = {
  int8: (b) => new Int8Array(b.buffer, b.byteOffset, b.byteLength),
  uint8: (b) => b,
  int32: (b) => new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2),
  float32: (b) => new Float32Array(b.buffer, b.byteOffset, b.byteLength >> 2),
};

/** A model compiled by LiteRT.js with its input tensors made: one inference per `once`, `close` frees both. */
export interface LiteRtSession {
  /** One inference (inputs given as tensors, outputs read back): the raw bytes of each output. */
  once(): Promise<Uint8Array[]>;
  close(): void;
  /** Set when LiteRT.js refused the file as it is and ran our reader and writer's copy: why the file was refused. */
  rewritten?: string;
}

/**
 * Compile a model with LiteRT.js; if it refuses the file, once more with the model as our reader reads it and our
 * writer writes it (the same graph, constants and quantisation, with what our reader normalises written in the
 * schema's canonical form: e.g. person_detect's 1-D biases carry quantized_dimension 3, the filters' axis, which
 * LiteRT.js rejects and TFLite Micro ignores; our reader takes that as axis 0, the only one a 1-D tensor has).
 */
export async function openLiteRt(modelFile: string, inputs: { bytes: Uint8Array; dtype: string; shape: number[] }[]): Promise<LiteRtSession | { refused: string }> {
  const first = await openLiteRtBytes(new Uint8Array(readFileSync(modelFile)), inputs);
  if ('once' in first || first.refused === NOT_INSTALLED) return first;
  let copy: Uint8Array;
  try {
    copy = writeTflite(loadModel(modelFile));
  } catch {
    return first;
  }
  const second = await openLiteRtBytes(copy, inputs);
  return 'once' in second ? { ...second, rewritten: first.refused } : first;
}

/** Compile a model with LiteRT.js and make its input tensors, or the reason LiteRT.js refuses the model. */
async function openLiteRtBytes(modelBytes: Uint8Array, inputs: { bytes: Uint8Array; dtype: string; shape: number[] }[]): Promise<LiteRtSession | { refused: string }> {
  loaded ??= load();
  const L = await loaded;
  if (!L) return { refused: NOT_INSTALLED };
  const quiet = console.error;
  let model: LiteRtModel;
  try {
    console.error = () => {};
    model = await L.loadAndCompile(modelBytes, { accelerator: 'wasm' });
  } catch (e) {
    return { refused: String((e as Error).message ?? e).split('\n')[0] };
  } finally {
    console.error = quiet;
  }
  let tensors: LiteRtTensor[] = [];
  try {
    tensors = inputs.map((i) => {
      const make = TYPED[i.dtype];
      if (!make) throw new Error(`input dtype ${i.dtype}`);
      return new L.Tensor(make(new Uint8Array(i.bytes)), i.shape);
    });
    const once = async (): Promise<Uint8Array[]> => {
      const outs = await model.run(tensors);
      const bytes = outs.map((o) => {
        const a = o.toTypedArray() as unknown as ArrayBufferView;
        return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
      });
      outs.forEach((o) => o.delete());
      return bytes;
    };
    await once(); // a model LiteRT.js compiles but cannot run is refused here, not in the timing loop
    return { once, close: () => { tensors.forEach((t) => t.delete()); model.delete(); } };
  } catch (e) {
    tensors.forEach((t) => t.delete());
    model.delete();
    return { refused: String((e as Error).message ?? e).split('\n')[0] };
  }
}
