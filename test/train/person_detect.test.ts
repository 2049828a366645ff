import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel, checkShapes } from '../../src/model.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { compileTraining } from '../../src/train/compile.js';
import { TrainingSession } from '../../src/train/session.js';
import { replaceClassifier } from '../../src/train/head.js';
import { planTraining } from '../../src/train/index.js';
import { parseUpdateSpec } from '../../src/train/update.js';
import { requireShared } from '../helpers/shared.js';
import { randomFloats, rng } from './helpers.js';

/* On-device transfer on the real int8 person detector: a new 10-class head, memory of each update scheme, one step. */

const model = () => loadModel(join(requireShared(), 'models', 'tflm_person_detect_int8.tflite'));

test('person_detect: a new 10-class head runs as inference does', () => {
  const g = replaceClassifier(model(), 10);
  checkShapes(g);
  const out = g.tensors[g.outputs[0]];
  assert.deepEqual(out.shape, [1, 10]);
  const interp = new Interpreter(g);
  interp.invoke();
  assert.equal(interp.output(0).length, 10);
});

test('person_detect: training memory orders as the paper says, and an int8 step trains only the selected layers', () => {
  const g = replaceClassifier(model(), 10);
  const peak = (s: string) => planTraining(g, parseUpdateSpec(s)).peakBytes;
  const inference = planTraining(g, parseUpdateSpec('bias:1')).inferenceBytes;
  assert.ok(peak('bias:1') >= inference);
  assert.ok(peak('last') < peak('last-k:4') && peak('last-k:4') < peak('full'));
  const sparse = 'sparse:12:-1@1,-2@0.25,-4@0.25,-6@0.125';
  assert.ok(peak(sparse) < peak('last-k:4'), `${peak(sparse)} vs ${peak('last-k:4')}`);
  const program = compileTraining(g, parseUpdateSpec(sparse), { optimizer: { kind: 'sgd', lr: 0.1 } });
  const session = new TrainingSession(program);
  const before = program.base.tensors.map((t) => t.data?.slice() ?? null);
  const r = session.step(randomFloats(rng(1), 96 * 96, 0.5), [3]);
  assert.ok(Number.isFinite(r.loss));
  const trained = new Set(program.update.params.map((p) => p.tensor));
  program.base.tensors.forEach((t, id) => {
    if (t.data && !trained.has(id)) assert.deepEqual(t.data, before[id], `${t.name} changed`);
  });
});
