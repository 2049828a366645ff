import type { Node, Tensor } from '../../graph/graph.js';
import { ABSENT, CELL_STATE, GATES, OUTPUT_STATE, lstmIntegerScaling, lstmSize } from '../../ops/lstm.js';
import type { CArray } from '../c_syntax.js';
import type { CArg } from './kernel_call.js';
import { call, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { UNARY_F32 } from './unary.js';

type LstmNode = Node<'UNIDIRECTIONAL_SEQUENCE_LSTM'>;

/** The float cell activations by tm_unary.h's TM_UN_* code; NONE is -1. */
const CELL_ACT: Readonly<Record<string, number | undefined>> = { NONE: -1, RELU: UNARY_F32.RELU, RELU6: UNARY_F32.RELU6, TANH: UNARY_F32.TANH };
const GATE_NAMES = ['forget', 'input', 'cell', 'output'] as const;

/** The gates' constant weights and biases, named as tm_lstm_weights orders them (w_*, r_*, b_*; forget, input, cell, output). */
function gateArrays(ctx: LayerContext, weights: CArray[]): Record<string, CArray> {
  const fields: Record<string, CArray> = {};
  for (const kind of ['w', 'r', 'b'] as const) {
    GATES.forEach((gate, k) => {
      const t = ctx.input(gate[kind]);
      if (!t.data) throw ctx.unsupported(`${t.name} is not constant (the C kernel takes constant weights and biases)`);
      const name = `${kind}_${GATE_NAMES[k]}`;
      fields[name] = ctx.constantArray(t, name);
      weights.push(fields[name]);
    });
  }
  return fields;
}

/**
 * UNIDIRECTIONAL_SEQUENCE_LSTM -> tm_lstm_f32 / tm_lstm_s8 / tm_lstm_s16 (tm_lstm.h): the two state tensors
 * updated in place in the arena, the step's four gates in the layer's scratch (the op's scratchBytes).
 */
export function lowerLstm(ctx: LayerContext): LayerCode {
  const node = ctx.node as LstmNode;
  const s = lstmSize(node, ctx.graph);
  const absent = ABSENT.find((i) => ctx.optionalInput(i));
  if (absent !== undefined) throw ctx.unsupported(`input ${absent} (peephole, projection or layer norm) is not implemented (nor in TFLite Micro)`);
  const x = ctx.input(0), h = ctx.input(OUTPUT_STATE), c = ctx.input(CELL_STATE), out = ctx.output();
  for (const t of [h, c]) if (!t.variable) throw ctx.unsupported(`state ${t.name} is not a variable tensor`);
  for (const t of [x, h, c]) ctx.requireDisjoint(t, out, 'UNIDIRECTIONAL_SEQUENCE_LSTM');
  if (out.dtype !== x.dtype || h.dtype !== x.dtype) throw ctx.unsupported('input, output and output state must share one dtype');
  const float = x.dtype === 'float32';
  const gates = ctx.scratchBuffer(4 * s.batch * s.units * (float ? 4 : 2), float ? 'float' : 'int16_t');
  const weights: CArray[] = [];
  const w = ctx.struct('tm_lstm_weights', 'weights', gateArrays(ctx, weights));
  const shape = ctx.struct('tm_lstm_shape', 'shape', { time_major: s.timeMajor ? 1 : 0, batch: s.batch, steps: s.steps, input_dim: s.inputDim, units: s.units });
  const io = (t: Tensor): CArg => ctx.ptr(t);
  if (float) {
    if ([c, ...GATES.flatMap((g) => [g.w, g.r, g.b].map((i) => ctx.input(i)))].some((t) => t.dtype !== 'float32')) throw ctx.unsupported('float LSTM with non-float weights (hybrid) is not generated');
    const act = CELL_ACT[node.options.activation];
    if (act === undefined) throw ctx.unsupported(`cell activation ${node.options.activation}`);
    const p = ctx.struct('tm_lstm_f32_params', 'params', { cell_act: act, cell_clip: Math.fround(node.options.cellClip) });
    return {
      headers: ['tm_lstm.h'], definitions: [structDef(shape), structDef(p), structDef(w)], weights,
      statements: [call('tm_lstm_f32', structArg(shape), structArg(p), structArg(w), io(x), io(h), io(c), gates, io(out))],
    };
  }
  if (x.dtype !== 'int8' && x.dtype !== 'int16') throw ctx.unsupported(`${x.dtype} LSTM is not generated`);
  const q = lstmIntegerScaling(node, ctx.graph);
  const p = ctx.struct('tm_lstm_q_params', 'params', {
    in_zp: q.qx.zeroPoint, h_zp: q.qh.zeroPoint,
    w_mult: q.gates.map((g) => g.mw.multiplier), w_shift: q.gates.map((g) => g.mw.shift),
    r_mult: q.gates.map((g) => g.mr.multiplier), r_shift: q.gates.map((g) => g.mr.shift),
    forget_cell_mult: q.mForgetCell.multiplier, forget_cell_shift: q.mForgetCell.shift,
    input_cell_mult: q.mInputCell.multiplier, input_cell_shift: q.mInputCell.shift,
    out_mult: q.mOutput.multiplier, out_shift: q.mOutput.shift,
    h_min: q.hRange[0], h_max: q.hRange[1], tanh_mult: q.tanhMult, tanh_shift: q.tanhShiftAbs, clip: q.clip,
  });
  return {
    headers: ['tm_lstm.h'], definitions: [structDef(shape), structDef(p), structDef(w)], weights,
    statements: [call(q.act16 ? 'tm_lstm_s16' : 'tm_lstm_s8', structArg(shape), structArg(p), structArg(w), io(x), io(h), io(c), gates, io(out))],
  };
}
