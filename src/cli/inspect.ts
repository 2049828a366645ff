import Table from 'cli-table3';
import { loadModel } from '../model.js';
import { compileModel } from '../compiler/compile_model.js';
import { patchName } from '../plan/memory_plan.js';
import { modelReport } from '../report/layers.js';
import { int, kb, shapes } from '../report/format.js';
import type { CompileFlags } from './compile_flags.js';
import { compileOptionsFrom } from './compile_flags.js';

export interface InspectOptions extends CompileFlags {
  json?: boolean;
}

export function inspectCommand(modelFile: string, opts: InspectOptions): number {
  const options = compileOptionsFrom(opts);
  const board = options.board;
  // The compiled model every command runs: the same graph, plan and kernels as run, plan and compile.
  const c = compileModel(loadModel(modelFile), options);
  const g = c.graph;
  const fused = c.fusedPads;
  const report = modelReport(g, c.plan);
  const fit = c.fit ?? undefined;
  const reserved = options.reservedSramBytes ?? 0;
  if (opts.json) {
    console.log(JSON.stringify({ ...report, kind: c.kind, objective: c.objective, fusedPads: fused, kernels: c.kernels, board: fit }, null, 2));
    return fit && !fit.fits ? 3 : 0;
  }
  const table = new Table({
    head: ['#', 'op', 'input', 'output', 'MACs', 'weights', 'activations', 'live', 'kernel'],
    colAligns: ['right', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'left'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  report.layers.forEach((l, step) => {
    const k = c.kernels[step];
    table.push([
      l.node, l.op, shapes(l.inputShapes), shapes(l.outputShapes), int(l.macs), int(l.weightBytes),
      int(l.activationBytes), l.step === report.peakStep ? `${int(l.liveBytes)} *` : int(l.liveBytes),
      k && k.variant !== 'standard' ? k.variant : k?.why ? `standard (${k.why})` : '',
    ]);
  });
  console.log(`${g.name}: ${g.nodes.length} ops, ${g.tensors.length} tensors${fused ? ` (${fused} PAD op(s) folded into the convolutions that read them)` : ''}`);
  console.log(table.toString());
  console.log(`MACs        ${int(report.totalMacs)}`);
  console.log(`Flash       ${int(report.weightBytes)} bytes of weights (${kb(report.weightBytes)})`);
  const patch = c.patch ? `, ${patchName(c.patch)} up to node ${c.patch.lastNode}` : '';
  console.log(`peak SRAM   ${int(report.peakSramBytes)} bytes arena (${kb(report.peakSramBytes)}), ${c.kind}${patch} ${report.strategy} plan; live peak at node ${report.layers[report.peakStep]?.node ?? 0} (*), lower bound ${int(report.lowerBound)}`);
  if (fit) {
    const peakNode = report.layers[report.peakStep]?.node ?? 0;
    if (fit.fits) {
      console.log(`board       ${fit.board}: fits (SRAM headroom ${int(-fit.sram.shortBytes)} bytes, Flash headroom ${int(-fit.flash.shortBytes)} bytes)`);
    } else {
      const misses = [];
      if (!fit.sram.fits) misses.push(`SRAM by ${int(fit.sram.shortBytes)} bytes (needs ${int(fit.sram.needBytes)}${reserved ? ` = arena + ${int(reserved)} stack` : ''}, has ${int(fit.sram.haveBytes)}; peak at node ${peakNode})`);
      if (!fit.flash.fits) misses.push(`Flash by ${int(fit.flash.shortBytes)} bytes (needs ${int(fit.flash.needBytes)}, has ${int(fit.flash.haveBytes)})`);
      console.log(`board       ${fit.board}: DOES NOT FIT — misses ${misses.join(' and ')}`);
      return 3;
    }
  }
  return 0;
}
