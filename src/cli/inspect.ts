import Table from 'cli-table3';
import { loadModel } from '../model.js';
import { planMemory } from '../plan/memory_plan.js';
import { fusePads } from '../plan/fuse_pad.js';
import { modelReport } from '../report/layers.js';
import { findBoard, fitReport } from '../boards/boards.js';
import { int, kb, shapes } from '../report/format.js';

export interface InspectOptions {
  board?: string;
  json?: boolean;
}

export function inspectCommand(modelFile: string, opts: InspectOptions): number {
  const board = opts.board ? findBoard(opts.board) : undefined;
  // The graph and plan the interpreter runs by default: PADs folded into convolutions, every reuse trick.
  const { graph: g, fused } = fusePads(loadModel(modelFile));
  const plan = planMemory(g, {});
  const report = modelReport(g, plan);
  const fit = board ? fitReport(board, report.peakSramBytes, report.weightBytes) : undefined;
  if (opts.json) {
    console.log(JSON.stringify({ ...report, fusedPads: fused, board: fit }, null, 2));
    return fit && !fit.fits ? 3 : 0;
  }
  const table = new Table({
    head: ['#', 'op', 'input', 'output', 'MACs', 'weights', 'activations', 'live'],
    colAligns: ['right', 'left', 'left', 'left', 'right', 'right', 'right', 'right'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const l of report.layers) {
    table.push([
      l.node, l.op, shapes(l.inputShapes), shapes(l.outputShapes), int(l.macs), int(l.weightBytes),
      int(l.activationBytes), l.step === report.peakStep ? `${int(l.liveBytes)} *` : int(l.liveBytes),
    ]);
  }
  console.log(`${g.name}: ${g.nodes.length} ops, ${g.tensors.length} tensors${fused ? ` (${fused} PAD op(s) folded into the convolutions that read them)` : ''}`);
  console.log(table.toString());
  console.log(`MACs        ${int(report.totalMacs)}`);
  console.log(`Flash       ${int(report.weightBytes)} bytes of weights (${kb(report.weightBytes)})`);
  console.log(`peak SRAM   ${int(report.peakSramBytes)} bytes arena (${kb(report.peakSramBytes)}), ${report.strategy} plan; live peak at node ${report.layers[report.peakStep]?.node ?? 0} (*), lower bound ${int(report.lowerBound)}`);
  if (fit) {
    const peakNode = report.layers[report.peakStep]?.node ?? 0;
    if (fit.fits) {
      console.log(`board       ${fit.board}: fits (SRAM headroom ${int(-fit.sram.shortBytes)} bytes, Flash headroom ${int(-fit.flash.shortBytes)} bytes)`);
    } else {
      const misses = [];
      if (!fit.sram.fits) misses.push(`SRAM by ${int(fit.sram.shortBytes)} bytes (needs ${int(fit.sram.needBytes)}, has ${int(fit.sram.haveBytes)}; peak at node ${peakNode})`);
      if (!fit.flash.fits) misses.push(`Flash by ${int(fit.flash.shortBytes)} bytes (needs ${int(fit.flash.needBytes)}, has ${int(fit.flash.haveBytes)})`);
      console.log(`board       ${fit.board}: DOES NOT FIT — misses ${misses.join(' and ')}`);
      return 3;
    }
  }
  return 0;
}
