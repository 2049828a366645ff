import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { Graph } from './graph/graph.js';
import { InputError } from './errors.js';
import { loadModelBytes } from './model_bytes.js';

export { checkShapes, loadModelBytes } from './model_bytes.js';

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

/** Load a .tflite file; a missing or unreadable file is an InputError, a bad one a ModelFormatError. */
export function loadModel(path: string): Graph {
  return loadModelBytes(readWholeFile(path), basename(path).replace(/\.tflite$/, ''));
}
