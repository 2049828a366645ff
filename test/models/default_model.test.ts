import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DEFAULT_MODEL_FILE } from '../../src/models/default_model.js';
import { loadModel } from '../../src/model.js';
import { evaluateClassifier, loadIdxFolder } from '../../src/data/index.js';
import { REPO_ROOT, requireShared } from '../helpers/shared.js';

test('the bundled default model is int8 end to end and classifies Fashion-MNIST (>= 88 % on 1000 test images)', () => {
  const g = loadModel(join(REPO_ROOT, DEFAULT_MODEL_FILE));
  const input = g.tensors[g.inputs[0]];
  assert.equal(input.dtype, 'int8');
  assert.deepEqual(input.shape, [1, 28, 28, 1]);
  assert.deepEqual(g.tensors[g.outputs[0]].shape, [1, 10]);
  const ops = new Set(g.nodes.map((n) => n.op));
  for (const op of ['CONV_2D', 'MAX_POOL_2D', 'FULLY_CONNECTED', 'SOFTMAX'] as const) assert.ok(ops.has(op), op);
  const data = loadIdxFolder(join(requireShared(), 'datasets', 'fashion-mnist'));
  const ev = evaluateClassifier(g, data.test, undefined, 1000);
  assert.equal(ev.count, 1000);
  assert.ok(ev.accuracy >= 0.88, `int8 accuracy ${ev.accuracy}`);
});
