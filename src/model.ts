import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { Graph } from './graph/graph.js';
import { shapeStr } from './graph/graph.js';
import { InputError, ModelFormatError } from './errors.js';
import type { OpDef } from './ops/op.js';
import { OPS, checkSupported } from './ops/registry.js';
import { readTflite } from './tflite/reader.js';

/**
 * Read a whole file into a fresh ArrayBuffer starting at offset 0. Node's Buffers may sit at any offset
 * of a shared pool; constants are typed views into these bytes, so their alignment must be the file's.
 */
function readWholeFile(path: string): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? `model file not found: ${path}` : `cannot open model file ${path}: ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(new ArrayBuffer(size));
    let done = 0;
    while (done < size) {
      const n = readSync(fd, bytes, done, size - done, done);
      if (n === 0) throw new InputError(`model file ${path} shrank while being read`);
      done += n;
    }
    return bytes;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read model file ${path}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Each node's declared output shapes must be what its op's shape rule derives from the inputs: kernels
 * size their loops from the inputs and write into memory sized from the outputs.
 */
export function checkShapes(g: Graph): void {
  for (const n of g.nodes) {
    const def = OPS[n.op] as OpDef;
    const inferred = def.inferShapes(n as never, g);
    n.outputs.forEach((id, k) => {
      const declared = g.tensors[id].shape;
      const want = inferred[k];
      if (want && shapeStr(want) !== shapeStr(declared)) {
        throw new ModelFormatError(
          `node ${n.index} (${n.op}) output ${k} ("${g.tensors[id].name}")`,
          `declared shape ${shapeStr(declared)} but the inputs and options give ${shapeStr(want)}`,
        );
      }
    });
  }
}

/** Parse, validate, refuse unsupported ops and op versions, and check every node's shapes. */
export function loadModelBytes(bytes: Uint8Array, name: string): Graph {
  const g = readTflite(bytes, name);
  checkSupported(g);
  checkShapes(g);
  return g;
}

/** Load a .tflite file; a missing or unreadable file is an InputError, a bad one a ModelFormatError. */
export function loadModel(path: string): Graph {
  return loadModelBytes(readWholeFile(path), basename(path).replace(/\.tflite$/, ''));
}
