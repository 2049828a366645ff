import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMemory } from '../../src/plan/memory_plan.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { oneNodeGraph } from '../ops/harness.js';
import { buildFor, firstDifference } from './harness.js';

/**
 * The int8 activations whose kernel is a table compile to tm_lut_s8 with the interpreter's table: the
 * generated C (host, ASan/UBSan) gives the interpreter's bytes on every input value.
 */
test('codegen host: RELU, RELU6, LOGISTIC, TANH and HARD_SWISH (int8) through tm_lut_s8, byte-identical under ASan/UBSan', () => {
  const ops = [['RELU', -128, 0.06], ['RELU6', 3, 0.05], ['LOGISTIC', -128, 1 / 256], ['TANH', 0, 1 / 128], ['HARD_SWISH', -20, 0.04]] as const;
  const every = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (const [op, zp, scale] of ops) {
    const g = oneNodeGraph(op, {}, [{ shape: [1, 256], dtype: 'int8', scale: 0.05, zeroPoint: 3 }], { shape: [1, 256], dtype: 'int8', scale, zeroPoint: op === 'RELU6' ? 3 : zp });
    g.inputs = [0];
    g.outputs = [1];
    const built = buildFor(g, planMemory(g), 'host', 'mps2-an386');
    try {
      assert.deepEqual(built.project.layers.flatMap((l) => l.kernels), ['tm_lut_s8'], op);
      const interp = new Interpreter(g, { backend: 'js' });
      interp.setInput(0, every);
      interp.invoke();
      const r = built.run([[every]], [256]);
      assert.equal(firstDifference(r.outputs[0][0], interp.output(0)), null, op);
    } finally {
      built.cleanup();
    }
  }
});
