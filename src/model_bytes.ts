import type { Graph } from './graph/graph.js';
import { shapeStr } from './graph/graph.js';
import { ModelFormatError } from './errors.js';
import type { OpDef } from './ops/op.js';
import { OPS, checkSupported } from './ops/registry.js';
import { readTflite } from './tflite/reader.js';

/*
 * Loading a model from bytes: no file system, so this is what the browser uses (web/). model.ts adds the
 * Node file reader on top.
 */

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
