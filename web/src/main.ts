import { patchName } from '../../src/plan/memory_plan.js';
import { BOARDS, findBoard } from '../../src/boards/boards.js';
import type { Target } from '../../src/codegen/target.js';
import { TARGETS, defaultTarget } from '../../src/codegen/target.js';
import { generateProject } from '../../src/codegen/project.js';
import type { ProjectLayout } from '../../src/codegen/layouts.js';
import { PROJECT_LAYOUTS, layoutProject } from '../../src/codegen/layouts.js';
import { modelInputs as ioInputs, modelOutputs as ioOutputs } from '../../src/codegen/emit/io.js';
import { Interpreter } from '../../src/runtime/interpreter.js';
import { kernelModuleProblem, loadKernelModule } from '../../src/runtime/wasm/kernel_module.js';
import { summariseOutput, timeRuns } from '../../src/runtime/measure.js';
import type { Analysis } from './analysis.js';
import { analyse } from './analysis.js';
import { memoryChart, sharedMax } from './chart.js';
import { decodeImage, imageInput, randomInputs, rawInputs } from './inputs.js';
import { folderName, projectZip } from './zip.js';
import { int, kb } from '../../src/report/format.js';
import { $, clear, el, hex } from './dom.js';

/** The page's state: the model file and its analysis on the chosen board. */
interface State {
  file: { name: string; bytes: Uint8Array } | null;
  analysis: Analysis | null;
  interpreter: Interpreter | null;
}

const state: State = { file: null, analysis: null, interpreter: null };
/** Warm-up time before the timed runs (at least three runs): the browser's optimising tier arrives in the background. */
const PAGE_WARM_UP_MS = 500;
let wasmReady: Promise<boolean>;
/** Object URLs of the shown outputs' downloads, released when the outputs are cleared. */
let outputUrls: string[] = [];

/** Empty the run's results, releasing their download URLs. */
function clearRun(): HTMLElement {
  for (const u of outputUrls) URL.revokeObjectURL(u);
  outputUrls = [];
  return clear($('#run-result'));
}

function showError(e: unknown): void {
  const box = $('#error');
  const err = e as Error;
  box.textContent = `${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message ?? String(e)}`;
  box.hidden = false;
}

function clearError(): void {
  $('#error').hidden = true;
  $('#error').textContent = '';
}

function status(text: string): void {
  $('#status').textContent = text;
}

/** Let the browser paint a status line before a long synchronous step. */
function paint(): Promise<void> {
  return new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
}

function fillBoards(): void {
  const select = $<HTMLSelectElement>('#board');
  for (const b of BOARDS) {
    select.appendChild(el('option', { value: b.name }, `${b.name} — ${int(b.sramBytes / 1024)} KB SRAM, ${int(b.flashBytes / 1024)} KB Flash, ${b.core} ${b.clockMHz} MHz`));
  }
}

function fillTargets(): void {
  const board = findBoard($<HTMLSelectElement>('#board').value);
  const select = $<HTMLSelectElement>('#target');
  clear(select);
  const def = defaultTarget(board);
  for (const t of TARGETS) select.appendChild(el('option', { value: t, ...(t === def ? { selected: '' } : {}) }, t === def ? `${t} (the board's)` : t));
}

async function analyseCurrent(): Promise<void> {
  clearError();
  state.analysis = null;
  state.interpreter = null;
  $('#results').hidden = true;
  clearRun();
  if (!state.file) return;
  const boardName = $<HTMLSelectElement>('#board').value;
  status(`compiling ${state.file.name} for ${boardName}…`);
  await paint();
  const t0 = performance.now();
  try {
    state.analysis = analyse(state.file.bytes, state.file.name.replace(/\.tflite$/i, ''), boardName);
    status(`${state.file.name}: compiled for ${boardName} in ${(performance.now() - t0).toFixed(0)} ms`);
    renderAnalysis(state.analysis);
    $('#results').hidden = false;
  } catch (e) {
    status('');
    showError(e);
  } finally {
    finished('analyses');
  }
}

/** Counts finished analyses and runs on <body> (data-analyses, data-runs), so a script or a test can wait for the next one. */
function finished(what: 'analyses' | 'runs'): void {
  document.body.dataset[what] = String(Number(document.body.dataset[what] ?? '0') + 1);
}

function figure(id: string, label: string, value: number, text: string): HTMLElement {
  return el('div', { class: 'figure' }, [el('dt', {}, label), el('dd', { id, 'data-value': String(value) }, text)]);
}

function renderSummary(a: Analysis): void {
  const { report, summary, compiled: c } = a;
  const box = clear($('#summary'));
  const patch = c.patch ? `, ${patchName(c.patch)} up to node ${c.patch.lastNode}` : '';
  box.appendChild(el('h2', {}, `${c.model.name} on ${a.board.name}`));
  const dl = el('dl', { class: 'figures' }, [
    figure('peak-sram', 'Peak SRAM (arena)', report.peakSramBytes, `${int(report.peakSramBytes)} B (${kb(report.peakSramBytes)})`),
    figure('flash', 'Flash (weights)', report.weightBytes, `${int(report.weightBytes)} B (${kb(report.weightBytes)})`),
    figure('macs', 'MACs', summary.totalMacs, int(summary.totalMacs)),
    figure('steps', 'Execution steps', summary.steps.length, String(summary.steps.length)),
  ]);
  box.appendChild(dl);
  const recompute = report.totalMacs !== summary.totalMacs ? ` Patches recompute halos: ${int(report.totalMacs)} MACs as run.` : '';
  box.appendChild(el('p', { id: 'plan-line' }, `${c.kind}${patch} ${report.strategy} plan; lower bound ${int(report.lowerBound)} B; chosen as ${c.objective === 'fit-board' ? 'the fastest plan that fits the board' : `objective ${c.objective}`}${c.patchNote ? ` (${c.patchNote})` : ''}.${recompute}`));
  const fit = c.fit!;
  const reserved = a.options.reservedSramBytes ?? 0;
  const fitLine = el('p', { id: 'fit', class: fit.fits ? 'fits' : 'misses', 'data-fits': String(fit.fits), 'data-sram-short': String(fit.sram.shortBytes), 'data-flash-short': String(fit.flash.shortBytes) });
  if (fit.fits) {
    fitLine.textContent = `Fits ${fit.board}: SRAM headroom ${int(-fit.sram.shortBytes)} B (arena + ${int(reserved)} B stack of ${int(fit.sram.haveBytes)}), Flash headroom ${int(-fit.flash.shortBytes)} B.`;
  } else {
    const misses: string[] = [];
    if (!fit.sram.fits) misses.push(`SRAM by ${int(fit.sram.shortBytes)} B (needs ${int(fit.sram.needBytes)} = arena + ${int(reserved)} B stack, has ${int(fit.sram.haveBytes)}; peak at node ${report.layers[report.peakStep]?.node ?? 0})`);
    if (!fit.flash.fits) misses.push(`Flash by ${int(fit.flash.shortBytes)} B (needs ${int(fit.flash.needBytes)}, has ${int(fit.flash.haveBytes)})`);
    fitLine.textContent = `Does not fit ${fit.board}: misses ${misses.join(' and ')}.`;
  }
  box.appendChild(fitLine);
}

function renderCharts(a: Analysis): void {
  const box = clear($('#charts'));
  const { layerwise, patch } = a.timelines;
  const list = patch ? [layerwise, patch] : [layerwise];
  const max = sharedMax(list);
  for (const t of list) {
    const peak = t.liveBytes[t.peakStep] ?? 0;
    box.appendChild(el('figure', { class: t.chosen ? 'chart chosen' : 'chart', 'data-plan': t === patch ? 'patch' : 'layer-wise', 'data-arena': String(t.arenaBytes) }, [
      el('figcaption', {}, `${t.chosen ? '★ chosen — ' : ''}${t.label}: arena ${int(t.arenaBytes)} B, ${t.liveBytes.length} steps, live peak ${int(peak)} B at step ${t.peakStep}`),
      memoryChart(t, max),
    ]));
  }
  if (!patch) box.appendChild(el('p', { class: 'note' }, `No patch-based plan: ${a.summary.patchNote || 'patch search off'}.`));
}

function renderLayers(a: Analysis): void {
  const { report, compiled: c } = a;
  const body = clear($('#layers tbody'));
  report.layers.forEach((l, step) => {
    const k = c.kernels[step];
    const variant = k && k.variant !== 'standard' ? k.variant : 'standard';
    const peak = l.step === report.peakStep;
    body.appendChild(el('tr', peak ? { class: 'peak' } : {}, [
      el('td', { class: 'num' }, String(l.node)), el('td', {}, l.op),
      el('td', {}, l.inputShapes.map((s) => `[${s.join(',')}]`).join(' ')), el('td', {}, l.outputShapes.map((s) => `[${s.join(',')}]`).join(' ')),
      el('td', { class: 'num' }, int(l.macs)), el('td', { class: 'num' }, int(l.weightBytes)), el('td', { class: 'num' }, int(l.activationBytes)),
      el('td', { class: 'num' }, `${int(l.liveBytes)}${peak ? ' *' : ''}`),
      el('td', { title: k?.why ?? '' }, k?.why ? `${variant} (${k.why})` : variant),
    ]));
  });
  const foot = clear($('#layers tfoot'));
  foot.appendChild(el('tr', {}, [
    el('td', {}, ''), el('td', { colspan: '3' }, `total, ${report.layers.length} steps${c.fusedPads ? `, ${c.fusedPads} PAD(s) folded` : ''}`),
    el('td', { class: 'num' }, int(report.totalMacs)), el('td', { class: 'num' }, int(report.weightBytes)), el('td', {}, ''),
    el('td', { class: 'num' }, `${int(report.peakSramBytes)} arena`), el('td', {}, ''),
  ]));
}

function renderAnalysis(a: Analysis): void {
  renderSummary(a);
  renderCharts(a);
  renderLayers(a);
  fillTargets();
}

async function modelInputs(a: Analysis): Promise<{ inputs: Uint8Array[]; what: string }> {
  const g = a.compiled.model;
  const kind = ($<HTMLInputElement>('input[name="input-kind"]:checked')).value;
  if (kind === 'image') {
    const f = $<HTMLInputElement>('#image-file').files?.[0];
    if (!f) throw new Error('pick an image file first');
    return { inputs: imageInput(g, await decodeImage(f)), what: `image ${f.name}` };
  }
  if (kind === 'raw') {
    const files = [...($<HTMLInputElement>('#raw-files').files ?? [])];
    if (!files.length) throw new Error('pick the raw input file(s) first, one per model input');
    const read = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    return { inputs: rawInputs(g, read), what: `raw ${files.map((f) => f.name).join(', ')}` };
  }
  const seed = Number($<HTMLInputElement>('#seed').value || '1');
  if (!Number.isInteger(seed)) throw new Error(`the seed must be an integer, got "${$<HTMLInputElement>('#seed').value}"`);
  return { inputs: randomInputs(g, seed), what: `random, seed ${seed}` };
}

async function runCurrent(): Promise<void> {
  const a = state.analysis;
  if (!a) return;
  clearError();
  const out = clearRun();
  try {
    const { inputs, what } = await modelInputs(a);
    const repeat = Number($<HTMLInputElement>('#repeat').value || '20');
    if (!Number.isInteger(repeat) || repeat < 1) throw new Error('runs must be a positive integer');
    if (!(await wasmReady)) throw new Error(`the WebAssembly backend is unavailable: ${kernelModuleProblem()}`);
    status(`running ${repeat} times…`);
    await paint();
    state.interpreter ??= new Interpreter(a.compiled, { backend: 'wasm' });
    const interp = state.interpreter;
    const timing = timeRuns(interp, inputs, repeat, PAGE_WARM_UP_MS);
    const g = a.compiled.model;
    const rows = g.outputs.map((id, i) => {
      const t = g.tensors[id];
      const bytes = interp.output(i).slice();
      return { s: summariseOutput(t, bytes), bytes };
    });
    renderRun(out, rows, timing.milliseconds, timing.runs, timing.warmUpRuns, what, interp);
    status('');
  } catch (e) {
    status('');
    showError(e);
  } finally {
    finished('runs');
  }
}

function renderRun(out: HTMLElement, rows: { s: ReturnType<typeof summariseOutput>; bytes: Uint8Array }[], ms: number, runs: number, warm: number, what: string, interp: Interpreter): void {
  const fallback = interp.jsFallbacks.length ? `; ${interp.jsFallbacks.length} node(s) on TypeScript kernels` : '';
  out.appendChild(el('p', {}, [
    'Time per inference: ', el('strong', { id: 'time-ms', 'data-ms': String(ms) }, `${ms.toFixed(3)} ms`),
    ` (median of ${runs} run(s) after ${warm} warm-up, ${interp.backend} backend${fallback}${crossOriginIsolated ? '' : '; this page is not cross-origin isolated, so the browser times in 0.1 ms steps'}); input: ${what}.`,
  ]));
  rows.forEach(({ s, bytes }, i) => {
    const shown = s.values.length > 64 ? `${s.values.slice(0, 64).join(', ')}, … (${s.values.length} values)` : s.values.join(', ');
    const deq = s.dequantized ? (s.dequantized.length > 16 ? `${s.dequantized.slice(0, 16).map((v) => v.toFixed(4)).join(', ')}, …` : s.dequantized.map((v) => v.toFixed(4)).join(', ')) : null;
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
    outputUrls.push(url);
    out.appendChild(el('div', { class: 'output', 'data-index': String(i), 'data-hex': hex(bytes) }, [
      el('h3', {}, `output ${i} ${s.name} ${s.dtype}[${s.shape.join(',')}]`),
      el('p', {}, [el('span', { class: 'label' }, 'values '), el('code', { class: 'values' }, shown)]),
      ...(deq ? [el('p', {}, [el('span', { class: 'label' }, 'dequantized '), el('code', {}, deq)])] : []),
      ...(s.topClass !== null ? [el('p', {}, [el('span', { class: 'label' }, 'top class '), el('strong', { class: 'top-class', 'data-class': String(s.topClass) }, String(s.topClass))])] : []),
      el('a', { class: 'download-output', href: url, download: `output${i}.bin` }, `download output ${i} (${bytes.byteLength} bytes, raw)`),
    ]));
  });
}

function downloadZip(): void {
  const a = state.analysis;
  if (!a) return;
  clearError();
  try {
    const c = a.compiled;
    const target = $<HTMLSelectElement>('#target').value as Target;
    const layout = $<HTMLSelectElement>('#layout').value as ProjectLayout;
    // As `tinyml compile MODEL --board NAME --target T --project L`: the compiled graph and plan, kernels specialised.
    const generated = generateProject(c.graph, c.plan, { board: a.board, target, specialize: true, modelName: c.model.name });
    const files = layoutProject(generated, layout, { prefix: '', inputs: ioInputs(c.graph, c.plan), outputs: ioOutputs(c.graph, c.plan) });
    const folder = folderName(c.model.name);
    const zip = projectZip(files, folder);
    const url = URL.createObjectURL(new Blob([zip as BlobPart], { type: 'application/zip' }));
    const link = el('a', { href: url, download: `${folder}-${target}-${layout}.zip` });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    $('#zip-note').textContent = `${folder}-${target}-${layout}.zip: ${files.length} files, arena ${int(generated.arenaBytes)} B, constants ${int(generated.weightBytes)} B; its README.md says how to build and call it.`;
  } catch (e) {
    showError(e);
  }
}

async function takeModel(file: File): Promise<void> {
  state.file = { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
  $('#model-name').textContent = `${file.name} (${int(file.size)} bytes)`;
  await analyseCurrent();
}

/** A file dropped anywhere on the page is the model (a browser would otherwise open it in place of the page). */
function wireDrop(): void {
  const zone = $('#drop');
  document.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  document.addEventListener('dragleave', (e) => { if (!e.relatedTarget) zone.classList.remove('over'); });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) void takeModel(f);
  });
}

function main(): void {
  fillBoards();
  fillTargets();
  for (const l of PROJECT_LAYOUTS) $('#layout').appendChild(el('option', { value: l }, l));
  wireDrop();
  wasmReady = loadKernelModule(new URL('tm_kernels.wasm', document.baseURI)).then((ok) => {
    $('#backend').textContent = ok ? 'WebAssembly SIMD kernels loaded' : `WebAssembly kernels unavailable: ${kernelModuleProblem()}`;
    return ok;
  });
  $<HTMLInputElement>('#model-file').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void takeModel(f);
  });
  $<HTMLSelectElement>('#board').addEventListener('change', () => void analyseCurrent());
  $('#run').addEventListener('click', () => void runCurrent());
  $('#download-zip').addEventListener('click', downloadZip);
  // Picking a file for an input kind selects that kind.
  for (const [file, kind] of [['#image-file', 'image'], ['#raw-files', 'raw']] as const) {
    $(file).addEventListener('change', () => { $<HTMLInputElement>(`input[name="input-kind"][value="${kind}"]`).checked = true; });
  }
  document.body.dataset.ready = 'true';
}

main();
