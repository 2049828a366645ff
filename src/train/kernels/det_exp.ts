/**
 * e^x for the loss, the same sequence of IEEE double operations as tm_train_exp in
 * csrc/kernels/tm_train_loss.h, so the Node trainer and a training step compiled to C agree to the bit
 * (Math.exp and libm's exp each round their own way). For x <= 0; 0 below e^-708.
 */
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

export function detExp(x: number): number {
  if (x < -708.0) return 0.0;
  if (x > 709.0) x = 709.0;
  const k = Math.floor(x * 1.4426950408889634 + 0.5);
  const r = (x - k * 0.69314718036912382) - k * 1.9082149292705877e-10;
  let p = 2.08767569878680990e-09;
  p = p * r + 2.50521083854417188e-08;
  p = p * r + 2.75573192239858907e-07;
  p = p * r + 2.75573192239858883e-06;
  p = p * r + 2.48015873015873016e-05;
  p = p * r + 1.98412698412698413e-04;
  p = p * r + 1.38888888888888894e-03;
  p = p * r + 8.33333333333333322e-03;
  p = p * r + 4.16666666666666644e-02;
  p = p * r + 1.66666666666666657e-01;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^k from its bits (little-endian: the high word holds the exponent).
  words[0] = 0;
  words[1] = (k + 1023) << 20;
  return p * bits[0];
}
