/** Softmax cross-entropy over rows of logits, and its gradient. */

export interface LossResult {
  /** Summed over the batch. */
  loss: number;
  correct: number;
}

/**
 * p = softmax(beta * z); loss = -log p[label]; dL/dz = beta * (p - onehot(label)) / B (the mean loss
 * over the batch is what the step minimises).
 */
export function softmaxCrossEntropy(z: Float32Array, classes: number, beta: number, labels: Int32Array, grad: Float32Array): LossResult {
  const B = labels.length;
  let loss = 0;
  let correct = 0;
  for (let b = 0; b < B; b++) {
    const o = b * classes;
    let max = -Infinity;
    let arg = 0;
    for (let j = 0; j < classes; j++) if (z[o + j] > max) { max = z[o + j]; arg = j; }
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += Math.exp(beta * (z[o + j] - max));
    const label = labels[b];
    loss += -(beta * (z[o + label] - max) - Math.log(sum));
    if (arg === label) correct++;
    for (let j = 0; j < classes; j++) {
      const p = Math.exp(beta * (z[o + j] - max)) / sum;
      grad[o + j] = (beta * (p - (j === label ? 1 : 0))) / B;
    }
  }
  return { loss, correct };
}
