import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MODEL_FILE, makeDefaultModel } from '../../src/models/default_model.js';
import { loadModelBytes } from '../../src/model.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { randomTensorBytes } from '../../src/runtime/tensor_io.js';
import { REPO_ROOT } from '../helpers/shared.js';

test('the bundled default model is what our generator makes, byte for byte', () => {
  const committed = new Uint8Array(readFileSync(join(REPO_ROOT, DEFAULT_MODEL_FILE)));
  const made = makeDefaultModel();
  assert.equal(made.byteLength, committed.byteLength);
  assert.ok(Buffer.from(made).equals(Buffer.from(committed)), 'regenerate with `npm run make-default-model`');
});

test('the default model is int8 end to end and its output is a probability distribution', () => {
  const g = loadModelBytes(makeDefaultModel(), 'default');
  assert.equal(g.tensors[g.inputs[0]].dtype, 'int8');
  assert.deepEqual(g.tensors[g.inputs[0]].shape, [1, 64, 64, 3]);
  const ops = new Set(g.nodes.map((n) => n.op));
  for (const op of ['CONV_2D', 'DEPTHWISE_CONV_2D', 'ADD', 'AVERAGE_POOL_2D', 'FULLY_CONNECTED', 'SOFTMAX'] as const) assert.ok(ops.has(op), op);
  const interp = new Interpreter(g);
  interp.setInput(0, randomTensorBytes(g.tensors[g.inputs[0]], 3));
  interp.invoke();
  const out = new Int8Array(interp.output(0).buffer);
  // Softmax output: scale 1/256, zero point -128, so the dequantised values sum to ~1.
  const sum = Array.from(out).reduce((s, q) => s + (q + 128) / 256, 0);
  assert.ok(Math.abs(sum - 1) < 0.05, `probabilities sum to ${sum}`);
});
