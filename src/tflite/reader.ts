import type { AnyNode, Graph, Node, Tensor } from '../graph/graph.js';
import type { OpName } from '../graph/options.js';
import { CUSTOM_OP_NAMES, OP_NAMES, isOpName } from '../graph/options.js';
import { ModelFormatError, UnsupportedOpError } from '../errors.js';
import { arityProblem } from './arity.js';
import { CheckedBuffer, Table } from './checked_buffer.js';
import type { OptionsContext } from './read_options.js';
import { readOptions } from './read_options.js';
import { UnsupportedTensorFeature, readBuffers, readTensor, tensorWhere } from './read_tensor.js';
import * as S from './schema.js';

/** Model.metadata: name -> the bytes of the buffer it points at (empty for the sentinel buffer). */
function readMetadata(model: Table, buffers: (Uint8Array | null)[]): Record<string, Uint8Array> | null {
  const vec = model.tables(S.Model.metadata, 'metadata');
  if (!vec || vec.length === 0) return null;
  const out: Record<string, Uint8Array> = {};
  for (let i = 0; i < vec.length; i++) {
    const m = vec.get(i, `metadata ${i}`);
    const name = m.string(S.Metadata.name, 'name') ?? '';
    const index = m.u32(S.Metadata.buffer, 0);
    if (index >= buffers.length) m.fail(`points at buffer ${index}; the model has ${buffers.length}`);
    out[name] = buffers[index] ?? new Uint8Array(0);
  }
  return out;
}

/** One OperatorCode entry: the builtin name (or CUSTOM) and the op version. */
interface OpCode {
  name: string;
  version: number;
  customCode: string | null;
}

/**
 * Parse and validate a .tflite flatbuffer into a Graph. Every offset, length and index is checked, so a
 * corrupt file ends in a ModelFormatError naming the table at fault; an op outside OP_NAMES ends in an
 * UnsupportedOpError, raised once every table has validated (so a corrupt file is never blamed on an op).
 * Constant data stays a view into `bytes`.
 */
export function readTflite(bytes: Uint8Array, name?: string): Graph {
  const buf = new CheckedBuffer(bytes);
  const model = readRoot(buf);
  const version = model.u32(S.Model.version, 0);
  if (version !== S.SCHEMA_VERSION) model.fail(`schema version ${version}; tinyml-ts reads version ${S.SCHEMA_VERSION}`);
  const description = model.string(S.Model.description, 'description') ?? '';
  const opcodes = readOpCodes(model);
  const buffers = readBuffers(buf, model);
  const sg = mainSubgraph(model);

  const tensorVec = sg.tables(S.SubGraph.tensors, 'tensors');
  const tensors: Tensor[] = [];
  /** Tensors that are valid but use a feature we lack: the node using one is refused, naming it. */
  const lacking = new Map<number, string>();
  for (let i = 0; tensorVec && i < tensorVec.length; i++) {
    const table = tensorVec.get(i, tensorWhere(0, i));
    try {
      tensors.push(readTensor(table, i, buffers));
    } catch (e) {
      if (!(e instanceof UnsupportedTensorFeature)) throw e;
      const tname = table.string(S.Tensor.name, 'name') ?? '';
      lacking.set(i, `tensor ${i} (${JSON.stringify(tname)}) is ${e.message}, which tinyml-ts does not implement`);
      tensors.push({ id: i, name: tname, shape: [], dtype: 'int8', quant: null, data: null });
    }
  }
  const inputs = tensorList(sg, S.SubGraph.inputs, 'inputs', tensors.length);
  const outputs = tensorList(sg, S.SubGraph.outputs, 'outputs', tensors.length);
  const { nodes, unsupported } = readOperators(sg, opcodes, tensors, lacking);
  const orphan = [...lacking].find(([id]) => !unsupported.some((u) => u.tensors.includes(id)));
  if (orphan) throw new ModelFormatError('subgraph 0', `${orphan[1]} and no operator uses it`);
  // Refused before the dataflow check: an op we do not know may use tensors in ways we cannot judge
  // (Vela's CUSTOM op reads scratch tensors nothing writes).
  if (unsupported.length > 0) throw unsupportedError(unsupported);
  checkDataflow(tensors, nodes, inputs, outputs);

  const subgraphName = sg.string(S.SubGraph.name, 'name') ?? '';
  const metadata = readMetadata(model, buffers);
  return { name: name ?? subgraphName, tensors, nodes, inputs, outputs, description, ...(metadata ? { metadata } : {}) };
}

function readRoot(buf: CheckedBuffer): Table {
  if (buf.size < 8) throw new ModelFormatError('file', `${buf.size} bytes is too short for a TFLite flatbuffer`);
  // The identifier is optional in flatbuffers. Four printable characters that are not "TFL3" mean some
  // other file; anything else may be a TFLite file written without one, which the checks below decide.
  const id = String.fromCharCode(...buf.bytes.subarray(4, 8));
  if (id !== S.FILE_IDENTIFIER && /^[\x20-\x7e]{4}$/.test(id)) {
    throw new ModelFormatError('file', `identifier "${id}" is not "${S.FILE_IDENTIFIER}": not a TFLite model`);
  }
  return buf.table(buf.deref(0, 4, 'model', 'root table'), 'model');
}

function readOpCodes(model: Table): OpCode[] {
  const vec = model.tables(S.Model.operatorCodes, 'operator_codes');
  const out: OpCode[] = [];
  for (let i = 0; vec && i < vec.length; i++) {
    const c = vec.get(i, `operator code ${i}`);
    // Codes above 127 only fit the newer int32 field; older writers fill only the int8 one. The real code
    // is the larger of the two.
    const code = Math.max(c.i8(S.OperatorCode.deprecatedBuiltinCode, 0), c.i32(S.OperatorCode.builtinCode, 0));
    if (code < 0) c.fail(`builtin code ${code} is negative`);
    const version = c.i32(S.OperatorCode.version, 1);
    if (version < 1) c.fail(`op version ${version} is below 1`);
    const customCode = code === S.BUILTIN_CUSTOM ? c.string(S.OperatorCode.customCode, 'custom_code') : null;
    // A custom op we implement goes by its custom code (TFLite Micro registers it under that name).
    const custom = customCode !== null && (CUSTOM_OP_NAMES as readonly string[]).includes(customCode);
    out.push({ name: custom ? customCode : S.builtinOperatorName(code), version, customCode });
  }
  return out;
}

/**
 * tinyml-ts runs single-subgraph models. Extra subgraphs with no operators are harmless leftovers of
 * conversion; extra ones with operators are control flow or further signatures, which we cannot run.
 */
function mainSubgraph(model: Table): Table {
  const vec = model.tables(S.Model.subgraphs, 'subgraphs');
  if (!vec || vec.length === 0) model.fail('the model has no subgraph');
  for (let s = 1; s < vec.length; s++) {
    const ops = vec.get(s, `subgraph ${s}`).tables(S.SubGraph.operators, 'operators');
    if (ops && ops.length > 0) {
      model.fail(`the model has ${vec.length} subgraphs and subgraph ${s} has ${ops.length} operators; tinyml-ts runs single-subgraph models`);
    }
  }
  return vec.get(0, 'subgraph 0');
}

/** A vector of tensor indices; -1 (an omitted optional input) only where `allowOmitted`. */
function tensorList(t: Table, slot: number, what: string, count: number, allowOmitted = false): number[] {
  const ids = t.int32s(slot, what) ?? [];
  for (const id of ids) {
    if (id >= count || id < (allowOmitted ? -1 : 0)) t.fail(`${what} refers to tensor ${id}, but there are ${count} tensors`);
  }
  return ids;
}

interface Unsupported {
  op: string;
  nodeIndex: number;
  detail: string;
  tensors: number[];
}

function readOperators(sg: Table, opcodes: OpCode[], tensors: Tensor[], lacking: ReadonlyMap<number, string>): { nodes: AnyNode[]; unsupported: Unsupported[] } {
  const vec = sg.tables(S.SubGraph.operators, 'operators');
  const nodes: AnyNode[] = [];
  const unsupported: Unsupported[] = [];
  for (let i = 0; vec && i < vec.length; i++) {
    let op = vec.get(i, `subgraph 0 node ${i}`);
    const index = op.u32(S.Operator.opcodeIndex, 0);
    if (index >= opcodes.length) op.fail(`opcode_index ${index} is out of range (${opcodes.length} operator codes)`);
    const code = opcodes[index];
    op = op.named(`${op.where} (${code.name})`);
    const inputs = tensorList(op, S.Operator.inputs, 'inputs', tensors.length, true);
    const outputs = tensorList(op, S.Operator.outputs, 'outputs', tensors.length);
    const used = [...inputs, ...outputs].filter((id) => lacking.has(id));
    if (!isOpName(code.name) || used.length > 0) {
      const detail = used.length > 0 ? `version ${code.version}: ${lacking.get(used[0])}` : customDetail(code);
      unsupported.push({ op: code.name, nodeIndex: i, detail, tensors: used });
      continue;
    }
    const arity = arityProblem(code.name, inputs, outputs);
    if (arity) op.fail(arity);
    const inputShape = (k: number): number[] | null => (inputs[k] >= 0 ? tensors[inputs[k]].shape : null);
    nodes.push(makeNode(code.name, { index: i, version: code.version, inputs, outputs }, { operator: op, nodeIndex: i, inputShape, outputCount: outputs.length }));
  }
  return { nodes, unsupported };
}

function makeNode<K extends OpName>(
  op: K, base: Omit<Node<K>, 'op' | 'options'>, ctx: OptionsContext,
): AnyNode {
  const node: Node<K> = { ...base, op, options: readOptions(op, ctx) };
  return node as AnyNode;
}

function customDetail(code: OpCode): string {
  if (code.name !== 'CUSTOM') return `version ${code.version}: not one of the ${OP_NAMES.length} ops tinyml-ts implements`;
  const cc = code.customCode ?? '';
  const hint = cc === 'ethos-u'
    ? ' (an Arm Ethos-U NPU command stream made by the Vela compiler; give tinyml-ts the .tflite from before Vela)'
    : '';
  return `custom code ${JSON.stringify(cc)}${hint}`;
}

function unsupportedError(list: Unsupported[]): UnsupportedOpError {
  const [first, ...rest] = list;
  const others = [...new Set(rest.map((u) => u.op))].filter((o) => o !== first.op);
  const also = others.length > 0 ? `; the model also uses ${others.join(', ')}` : '';
  return new UnsupportedOpError(first.op, first.nodeIndex, first.detail + also);
}

/**
 * Dataflow the interpreter relies on: each tensor written at most once and never a constant (constants
 * are views of the file, which a kernel must not overwrite), graph inputs not constant, and every read
 * tensor available by then (TFLite stores operators in execution order).
 */
function checkDataflow(tensors: Tensor[], nodes: AnyNode[], inputs: number[], outputs: number[]): void {
  const named = (id: number): string => `tensor ${id} (${JSON.stringify(tensors[id].name)})`;
  const writer = new Map<number, string>(inputs.map((id) => [id, 'a graph input']));
  for (const id of inputs) {
    if (tensors[id].data) throw new ModelFormatError(`subgraph 0 input ${named(id)}`, 'a graph input cannot be a constant');
    if (tensors[id].variable) throw new ModelFormatError(`subgraph 0 input ${named(id)}`, 'a graph input cannot be a variable (state) tensor');
  }
  for (const t of tensors) if (t.data) writer.set(t.id, 'a constant');
  // A variable tensor holds state from the start; the ops that own it update it as an input.
  for (const t of tensors) if (t.variable) writer.set(t.id, 'a variable (state) tensor');
  for (const n of nodes) {
    const where = `subgraph 0 node ${n.index} (${n.op})`;
    for (const id of n.inputs) {
      if (id >= 0 && !writer.has(id)) throw new ModelFormatError(where, `input ${named(id)} is read before any operator writes it`);
    }
    for (const id of n.outputs) {
      const already = writer.get(id);
      if (already) throw new ModelFormatError(where, `output ${named(id)} is already ${already}`);
      writer.set(id, `the output of node ${n.index}`);
    }
  }
  for (const id of outputs) {
    if (!writer.has(id)) throw new ModelFormatError(`subgraph 0 output ${named(id)}`, 'no operator writes this graph output');
  }
}
