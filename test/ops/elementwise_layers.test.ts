/**
 * The elementwise ops (ADD, SUB, MUL, SOFTMAX, LOG_SOFTMAX, LOGISTIC, TANH, RELU, RELU6, HARD_SWISH,
 * QUANTIZE, DEQUANTIZE) against TensorFlow Lite Micro's own per-layer tensors: each node of ours in a real
 * model is run alone, fed the reference tensors TFLM computed for its inputs, and its output must equal
 * TFLM's byte for byte. Running the node alone keeps the verdict independent of every other kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyNode, Graph } from '../../src/graph/graph.js';
import type { OpName } from '../../src/graph/options.js';
import { loadModel } from '../../src/model.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { compareOutput } from '../helpers/compare.js';
import { layerTensors, manifests, modelPath, readBin } from '../helpers/shared.js';

const OURS = new Set<OpName>([
  'ADD', 'SUB', 'MUL', 'SOFTMAX', 'LOG_SOFTMAX', 'LOGISTIC', 'TANH', 'RELU', 'RELU6', 'HARD_SWISH', 'QUANTIZE', 'DEQUANTIZE',
]);

/** A graph holding only `node` (renumbered 0), whose non-constant inputs become graph inputs. */
function isolate(g: Graph, node: AnyNode): Graph {
  const inputs = node.inputs.filter((id) => id >= 0 && g.tensors[id].data === null);
  return { ...g, nodes: [{ ...node, index: 0 } as AnyNode], inputs, outputs: node.outputs.slice() };
}

function bytesOf(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function hexDiff(got: Uint8Array, want: Uint8Array): string | null {
  if (got.byteLength !== want.byteLength) return `size ${got.byteLength} != ${want.byteLength}`;
  let first = -1;
  let count = 0;
  for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) { if (first < 0) first = i; count++; }
  return first < 0 ? null : `${count}/${got.length} bytes differ, first at ${first}: got ${got[first]}, want ${want[first]}`;
}

const withLayers = manifests().filter((m) => m.layers);

for (const m of withLayers) {
  const lt = layerTensors(m)!;
  const byIndex = new Map(lt.tensors.map((t) => [t.index, t]));
  const g = loadModel(modelPath(m));
  const nodes = (g.nodes as AnyNode[]).filter((n) => OURS.has(n.op));
  if (nodes.length === 0) continue;
  test(`${m.id}: ${nodes.map((n) => `${n.op}#${n.index}`).join(', ')} equal TFLM's tensors (${lt.caseName}), run alone`, () => {
    for (const node of nodes) {
      const sub = isolate(g, node);
      const interp = new Interpreter(sub);
      sub.inputs.forEach((id, i) => {
        const ref = byIndex.get(id);
        assert.ok(ref, `no reference for input tensor ${id} of node ${node.index}`);
        interp.setInput(i, bytesOf(join(lt.dir, ref.file)));
      });
      interp.invoke();
      const outId = node.outputs[0];
      const ref = byIndex.get(outId)!;
      assert.ok(existsSync(join(lt.dir, ref.file)));
      const msg = hexDiff(interp.output(0), bytesOf(join(lt.dir, ref.file)));
      assert.equal(msg, null, `${node.op} node ${node.index} (output tensor ${outId} ${ref.name}): ${msg}`);
    }
  });
}

test('tflm_simple_add_int8: every case equals TFLM byte for byte (the whole model is one ADD)', () => {
  const m = manifests().find((x) => x.id === 'tflm_simple_add_int8')!;
  const g = loadModel(modelPath(m));
  const interp = new Interpreter(g);
  for (const c of m.cases) {
    c.inputs.forEach((f, i) => interp.setInput(i, readBin(m, f)));
    interp.invoke();
    const msg = compareOutput(m, m.outputs[0], interp.output(0), readBin(m, c.outputs[0]));
    assert.equal(msg, null, `${c.name}: ${msg}`);
  }
});
