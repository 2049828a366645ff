import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph } from '../../src/graph/graph.js';
import { GraphBuilder, perTensor } from '../../src/graph/builder.js';
import { compileModel } from '../../src/compiler/compile_model.js';
import { verifyPlan } from '../../src/plan/verify.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { checkSupported } from '../../src/ops/registry.js';
import { UnsupportedOpError } from '../../src/errors.js';
import { writeTflite } from '../../src/tflite/writer.js';
import { readTflite } from '../../src/tflite/reader.js';

/**
 * Variable (state) tensors: SVDF's window between two RELU chains. The state must keep its own bytes for
 * the whole run (nothing placed over it, nothing in place over it), start at zero, carry from one invoke
 * to the next, and be refused where an op does not own it.
 */
function svdfGraph(): { g: Graph; state: number } {
  const b = new GraphBuilder('svdf-chain');
  const q = perTensor(0.05, -3);
  const x = b.tensor('x', [1, 8], 'int8', q);
  const r1 = b.tensor('r1', [1, 8], 'int8', q);
  const wf = b.constant('wf', [4, 8], 'int8', Int8Array.from({ length: 32 }, (_, i) => ((i * 37) % 61) - 30), perTensor(0.02, 0));
  const wt = b.constant('wt', [4, 6], 'int16', Int16Array.from({ length: 24 }, (_, i) => ((i * 53) % 97) * 40 - 1900), perTensor(0.001, 0));
  const bias = b.constant('bias', [4], 'int32', Int32Array.from([10, -20, 30, -40]), perTensor(0.004 * 0.001, 0));
  const state = b.variable('state', [1, 24], 'int16', perTensor(0.004, 0));
  const s = b.tensor('s', [1, 4], 'int8', perTensor(0.1, 2));
  const r2 = b.tensor('r2', [1, 4], 'int8', perTensor(0.1, 2));
  const y = b.tensor('y', [1, 4], 'int8', perTensor(0.1, 2));
  b.node('RELU', [x], [r1], {});
  b.node('SVDF', [r1, wf, wt, bias, state], [s], { rank: 1, activation: 'NONE' }, 3);
  b.node('RELU', [s], [r2], {});
  b.node('RELU', [r2], [y], {});
  return { g: b.input(x).output(y).build(), state };
}

test('a state tensor lives the whole run and shares its bytes with nothing', () => {
  const { g, state } = svdfGraph();
  const { graph, plan } = compileModel(g);
  const p = plan.placements.get(state)!;
  assert.deepEqual([p.first, p.last], [0, plan.order.length - 1]);
  for (const [id, o] of plan.placements) {
    if (id === state) continue;
    assert.ok(o.offset + o.bytes <= p.offset || p.offset + p.bytes <= o.offset, `${o.label} overlaps the state`);
  }
  assert.deepEqual(verifyPlan(graph, plan), []);
});

test('state starts at zero, carries across invokes, and resetState restores it', () => {
  const { g, state } = svdfGraph();
  for (const backend of ['js', 'wasm'] as const) {
    const interp = new Interpreter(g, { backend });
    assert.ok(interp.tensor(state).every((v) => v === 0));
    interp.setInput(0, new Uint8Array(Int8Array.from([5, -7, 20, 33, -50, 8, 90, -100]).buffer));
    const outs: string[] = [];
    for (let k = 0; k < 3; k++) {
      interp.invoke();
      outs.push(interp.output(0).join());
    }
    assert.notEqual(outs[0], outs[2], 'the window filled over three invokes changes the output');
    interp.resetState();
    assert.ok(interp.tensor(state).every((v) => v === 0));
    interp.invoke();
    assert.equal(interp.output(0).join(), outs[0]);
  }
});

test('a variable tensor at an input its op does not keep as state is refused naming the node', () => {
  const { g, state } = svdfGraph();
  g.nodes[0].inputs = [state];
  assert.throws(() => checkSupported(g), (e: unknown) => e instanceof UnsupportedOpError && /RELU at node 0: input 0.*variable/.test(e.message));
});

test('the variable flag survives writing and reading the model', () => {
  const { g, state } = svdfGraph();
  const back = readTflite(writeTflite(g));
  assert.equal(back.tensors[state].variable, true);
  assert.equal(back.tensors.filter((t) => t.variable).length, 1);
});
