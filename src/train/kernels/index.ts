/**
 * The backward kernels a session binds, as one object: these TypeScript kernels, or the WebAssembly ones
 * of ../wasm_kernels.ts, which take the same arguments and give the same results within float rounding.
 */
import { biasGrad, conv2dInputGrad, conv2dWeightGrad } from './conv.js';
import { depthwiseInputGrad, depthwiseWeightGrad } from './depthwise.js';
import { fcInputGrad, fcWeightGrad } from './fully_connected.js';
import { avgPoolInputGrad, maxPoolInputGrad } from './pool.js';
import { clampGradFromBits, clampGradFromValues, sumToGrad } from './elementwise.js';
import { batchNormalizeInputGrad } from '../../ops/batch_normalize.js';

export interface TrainKernels {
  conv2dInputGrad: typeof conv2dInputGrad;
  conv2dWeightGrad: typeof conv2dWeightGrad;
  biasGrad: typeof biasGrad;
  depthwiseInputGrad: typeof depthwiseInputGrad;
  depthwiseWeightGrad: typeof depthwiseWeightGrad;
  fcInputGrad: typeof fcInputGrad;
  fcWeightGrad: typeof fcWeightGrad;
  avgPoolInputGrad: typeof avgPoolInputGrad;
  maxPoolInputGrad: typeof maxPoolInputGrad;
  clampGradFromValues: typeof clampGradFromValues;
  clampGradFromBits: typeof clampGradFromBits;
  batchNormalizeInputGrad: typeof batchNormalizeInputGrad;
  sumToGrad: typeof sumToGrad;
}

export const JS_TRAIN_KERNELS: TrainKernels = {
  conv2dInputGrad, conv2dWeightGrad, biasGrad, depthwiseInputGrad, depthwiseWeightGrad, fcInputGrad, fcWeightGrad,
  avgPoolInputGrad, maxPoolInputGrad, clampGradFromValues, clampGradFromBits, batchNormalizeInputGrad, sumToGrad,
};
