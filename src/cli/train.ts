import cliProgress from 'cli-progress';
import { InputError } from '../errors.js';
import type { Progress } from '../train/index.js';
import { exportTflite, formatBreakdown, formatUpdate, isInt8, parseUpdate } from '../train/index.js';
import type { ProgressSink, TrainingOutcome, TrainRequest } from '../train/workflow.js';
import { FASHION_CNN_KEYWORD, runTraining } from '../train/workflow.js';
import { checkFileOutput, writeFileAtomic } from '../util/output.js';
import { int, kb } from '../report/format.js';
import { withPreprocessing } from '../data/preprocessing.js';

export { FASHION_CNN_KEYWORD } from '../train/workflow.js';
export type { TrainRequest } from '../train/workflow.js';

/** `tinyml train` options as commander hands them over (strings until parsed here). */
export interface TrainCliOptions {
  data?: string;
  budget?: string;
  update?: string;
  qas?: string;
  epochs?: string;
  out?: string;
  batch?: string;
  lr?: string;
  optimizer?: string;
  seed?: string;
  limit?: string;
  testLimit?: string;
  backend?: string;
  progress?: boolean;
}

/** "256KB", "256K", "0.5MB", "262144": bytes (K = 1024, as every memory figure we print). */
export function parseBytes(text: string, flag = '--budget'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?\s*$/i.exec(text);
  if (!m) throw new InputError(`${flag} "${text}" is not a size (e.g. 256KB, 1MB, 262144)`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const bytes = Math.round(Number(m[1]) * (unit.startsWith('m') ? 1 << 20 : unit.startsWith('k') ? 1024 : 1));
  if (bytes < 1) throw new InputError(`${flag} "${text}" must be positive`);
  return bytes;
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new InputError(`${flag} takes a positive integer, got "${text}"`);
  return Number(text);
}

/** `--update`: auto | full | bias[:N] | last | last-k (deepest that fits) | last-K | last-k:K | sparse:SPEC. */
function parseUpdateFlag(text: string): TrainRequest['update'] {
  const s = text.trim();
  if (s === 'last-k') return { kind: 'last-k-fit' };
  const lastN = /^last-(\d+)$/.exec(s);
  try {
    return parseUpdate(lastN ? `last-k:${lastN[1]}` : s);
  } catch (e) {
    throw new InputError(`--update: ${(e as Error).message}`);
  }
}

export function parseTrainOptions(model: string, o: TrainCliOptions): TrainRequest {
  if (!o.data) throw new InputError('--data DIR is required (Fashion-MNIST IDX files, or one sub-folder of images per class)');
  const qas = (o.qas ?? 'on').toLowerCase();
  if (!['on', 'off', 'true', 'false'].includes(qas)) throw new InputError(`--qas takes on or off, got "${o.qas}"`);
  const lr = o.lr === undefined ? undefined : Number(o.lr);
  if (lr !== undefined && !(lr > 0 && Number.isFinite(lr))) throw new InputError(`--lr takes a positive number, got "${o.lr}"`);
  const seed = o.seed === undefined ? 1 : Number(o.seed);
  if (!Number.isInteger(seed)) throw new InputError(`--seed takes an integer, got "${o.seed}"`);
  const isKeyword = model === FASHION_CNN_KEYWORD;
  if (!isKeyword && !model.endsWith('.tflite')) {
    throw new InputError(`MODEL "${model}" is neither a .tflite file nor the keyword ${FASHION_CNN_KEYWORD}`);
  }
  const optimizer = o.optimizer?.toLowerCase();
  if (optimizer !== undefined && optimizer !== 'sgd' && optimizer !== 'adam') throw new InputError(`--optimizer takes sgd or adam, got "${o.optimizer}"`);
  const backend = o.backend?.toLowerCase();
  if (backend !== undefined && backend !== 'wasm' && backend !== 'js') throw new InputError(`--backend takes wasm or js, got "${o.backend}"`);
  // Checked now, not after minutes of training; written only when training succeeds.
  if (o.out !== undefined) checkFileOutput(o.out);
  return {
    model, data: o.data, budgetBytes: parseBytes(o.budget ?? '256KB'), update: parseUpdateFlag(o.update ?? 'auto'),
    qas: qas === 'on' || qas === 'true', epochs: positiveInt(o.epochs, '--epochs') ?? 3, ...(o.out !== undefined ? { out: o.out } : {}),
    batch: positiveInt(o.batch, '--batch'), lr, ...(optimizer !== undefined ? { optimizer } : {}), seed, limit: positiveInt(o.limit, '--limit'), testLimit: positiveInt(o.testLimit, '--test-limit'),
    ...(backend !== undefined ? { backend } : {}),
  };
}

/**
 * Progress on stderr: a live bar on a terminal, otherwise (CI, a pipe) a plain line every few seconds and
 * at each epoch's end, so logs stay readable.
 */
class ProgressView implements ProgressSink {
  private bar: cliProgress.SingleBar | null = null;
  private lastLine = 0;
  private readonly live: boolean;

  constructor(private readonly enabled: boolean) {
    this.live = enabled && Boolean(process.stderr.isTTY) && !process.env.CI;
  }

  update(p: Progress): void {
    if (!this.enabled) return;
    const payload = {
      epoch: `${p.epoch}/${p.epochs}`, loss: p.loss.toFixed(4), acc: (100 * p.accuracy).toFixed(1), speed: p.samplesPerSecond.toFixed(0),
    };
    if (this.live) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar({
          format: 'epoch {epoch} [{bar}] {percentage}% | loss {loss} | acc {acc}% | {speed} samples/s | ETA {eta_formatted}',
          stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 50,
        }, cliProgress.Presets.shades_classic);
        this.bar.start(p.stepsPerEpoch, 0, payload);
      }
      this.bar.update(p.step, payload);
      if (p.step === p.stepsPerEpoch) this.stop();
      return;
    }
    const now = Date.now();
    if (p.step === p.stepsPerEpoch || now - this.lastLine > 5000) {
      this.lastLine = now;
      console.error(`epoch ${payload.epoch} step ${p.step}/${p.stepsPerEpoch}  loss ${payload.loss}  acc ${payload.acc}%  ${payload.speed} samples/s`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

function report(req: TrainRequest, o: TrainingOutcome, bytes: number): void {
  const r = o.result;
  const after = o.after;
  const lines = [
    '',
    `data          ${o.data.train.count} training / ${o.data.test.count} test images, ${o.data.train.height}×${o.data.train.width}×${o.data.train.channels}, ${o.data.train.classNames.length} classes (${req.data})`,
    `trained       ${r.history.length} epoch(s), ${int(r.steps)} steps on the ${r.backend} kernels${r.history.length ? ` (${int(Math.round(r.history.at(-1)!.samplesPerSecond))} samples/s)` : ''}; final train loss ${r.history.at(-1)?.loss.toFixed(4) ?? '–'}, train acc ${r.history.length ? pct(r.history.at(-1)!.accuracy) : '–'}`,
    `updated       ${r.update.description}: ${r.update.params.length} tensors, ${int(r.update.params.reduce((s, p) => s + p.elements, 0))} parameters${isInt8(o.model) && req.model !== FASHION_CNN_KEYWORD ? `, QAS ${req.qas ? 'on' : 'off'}` : ''}`,
  ];
  if (r.auto) {
    const alt = [r.auto.bestBiasOnly && `best bias-only ${formatUpdate(r.auto.bestBiasOnly.spec)} ${kb(r.auto.bestBiasOnly.peakBytes)}`, r.auto.bestLastK && `best last-k ${formatUpdate(r.auto.bestLastK.spec)} ${kb(r.auto.bestLastK.peakBytes)}`].filter(Boolean).join('; ');
    lines.push(`auto choice   ${formatUpdate(r.auto.spec)} (${kb(r.auto.peakBytes)}) of ${r.auto.evaluated} configurations planned under ${kb(req.budgetBytes)}${alt ? `; ${alt}` : ''}`);
  }
  for (const n of o.notes) lines.push(`note          ${n}`);
  if (o.before) lines.push(`test accuracy before ${pct(o.before.accuracy)}`);
  if (o.floatAccuracy !== null) lines.push(`test accuracy float32 ${pct(o.floatAccuracy)}`);
  lines.push(`test accuracy ${pct(after.accuracy)} (int8, ${after.correct}/${after.count}, our interpreter)`);
  lines.push(req.model === FASHION_CNN_KEYWORD
    ? 'training memory (the float32 training step at batch 1, for reference):'
    : `training memory (device, batch 1, budget ${kb(req.budgetBytes)}):`);
  lines.push(...formatBreakdown(r.memory).split('\n').map((l) => `  ${l}`));
  lines.push(req.out ? `wrote         ${req.out} (${int(bytes)} bytes)` : `not written   the int8 model (${int(bytes)} bytes): give --out FILE.tflite to write it`);
  console.log(lines.join('\n'));
}

/** `tinyml train MODEL --data DIR ...`: returns the exit code. Nothing is written unless training succeeds. */
export function trainCommand(model: string, opts: TrainCliOptions): number {
  const req = parseTrainOptions(model, opts);
  const view = new ProgressView(opts.progress !== false);
  try {
    const o = runTraining(req, view);
    // The model records how its images were prepared, so `tinyml evaluate` (or anyone) feeds it alike.
    const bytes = exportTflite(withPreprocessing(o.model, o.encoding.range));
    if (req.out) writeFileAtomic(req.out, bytes);
    report(req, o, bytes.byteLength);
    return 0;
  } finally {
    view.stop();
  }
}

