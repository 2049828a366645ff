/** Softmax cross-entropy over rows of logits, and its gradient (e^x by detExp: a compiled training step reproduces it). */
import { detExp } from './det_exp.js';

export interface LossResult {
  /** Summed over the batch. */
  loss: number;
  correct: number;
}

/** Distillation: a teacher's class probabilities per sample (batch x classes), mixed with the labels. */
export interface SoftTargets {
  targets: Float32Array;
  /** Weight of the teacher (0: labels only, 1: teacher only). */
  mix: number;
  /** When given, filled with this network's probabilities (to teach the next one). */
  probabilities?: Float32Array;
}

/**
 * p = softmax(beta * z); loss = -log p[label]; dL/dz = beta * (p - onehot(label)) / B (the mean loss
 * over the batch is what the step minimises).
 */
export function softmaxCrossEntropy(z: Float32Array, classes: number, beta: number, labels: Int32Array, grad: Float32Array, soft?: SoftTargets): LossResult {
  const B = labels.length;
  let loss = 0;
  let correct = 0;
  for (let b = 0; b < B; b++) {
    const o = b * classes;
    let max = -Infinity;
    let arg = 0;
    for (let j = 0; j < classes; j++) if (z[o + j] > max) { max = z[o + j]; arg = j; }
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += detExp(beta * (z[o + j] - max));
    const label = labels[b];
    if (arg === label) correct++;
    if (!soft) {
      loss += -(beta * (z[o + label] - max) - Math.log(sum));
      for (let j = 0; j < classes; j++) {
        const p = detExp(beta * (z[o + j] - max)) / sum;
        grad[o + j] = (beta * (p - (j === label ? 1 : 0))) / B;
      }
      continue;
    }
    // Target t = (1 - mix) onehot + mix * teacher: loss -sum t log p, gradient beta (p - t) / B.
    const logSum = Math.log(sum);
    for (let j = 0; j < classes; j++) {
      const t = (1 - soft.mix) * (j === label ? 1 : 0) + (soft.mix ? soft.mix * soft.targets[o + j] : 0);
      const logp = beta * (z[o + j] - max) - logSum;
      if (t > 0) loss -= t * logp;
      if (soft.probabilities) soft.probabilities[o + j] = detExp(logp);
      grad[o + j] = (beta * (detExp(logp) - t)) / B;
    }
  }
  return { loss, correct };
}
