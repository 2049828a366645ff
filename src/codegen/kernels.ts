export { csrcDir, readCsrc } from './csrc_source.js';

/** The kernel headers of the C library in csrc/kernels; a project gets only those its layers call. */
export type KernelHeader =
  | 'tm_common.h' | 'tm_gemm.h' | 'tm_conv2d.h' | 'tm_depthwise_conv2d.h' | 'tm_fully_connected.h'
  | 'tm_elementwise.h' | 'tm_pool2d.h' | 'tm_mean.h' | 'tm_softmax.h' | 'tm_quantize.h' | 'tm_pad.h' | 'tm_transpose.h'
  | 'tm_strided_slice.h' | 'tm_concatenation.h' | 'tm_lut.h' | 'tm_train_f32.h' | 'tm_binary.h' | 'tm_unary.h' | 'tm_gather.h' | 'tm_reduce.h' | 'tm_requantize.h' | 'tm_batch_matmul.h' | 'tm_transpose_conv.h' | 'tm_log_softmax.h' | 'tm_conv16x8.h' | 'tm_depthwise_inplace_f32.h' | 'tm_pool_extra.h' | 'tm_resize.h' | 'tm_softmax16.h' | 'tm_conv_grouped.h' | 'tm_conv_pointwise_inplace.h'
  | 'tm_train_grad_s8.h' | 'tm_train_loss.h' | 'tm_train_sgd.h' | 'tm_train_split_s8.h'
  | 'tm_add_n.h' | 'tm_div.h' | 'tm_l2norm.h' | 'tm_sigmoid16.h' | 'tm_svdf.h' | 'tm_lstm.h' | 'tm_detection.h';

const DEPENDS: Readonly<Record<KernelHeader, readonly KernelHeader[]>> = {
  'tm_common.h': [],
  'tm_gemm.h': ['tm_common.h'],
  'tm_conv2d.h': ['tm_gemm.h'],
  'tm_depthwise_conv2d.h': ['tm_gemm.h'],
  'tm_fully_connected.h': ['tm_gemm.h'],
  'tm_elementwise.h': ['tm_common.h'],
  'tm_pool2d.h': ['tm_common.h'],
  'tm_mean.h': ['tm_common.h'],
  'tm_softmax.h': ['tm_common.h'],
  'tm_quantize.h': ['tm_common.h'],
  'tm_pad.h': ['tm_common.h'],
  'tm_transpose.h': ['tm_common.h'],
  'tm_strided_slice.h': ['tm_common.h'],
  'tm_concatenation.h': ['tm_common.h'],
  'tm_lut.h': ['tm_common.h'],
  'tm_train_f32.h': ['tm_common.h'],
  'tm_train_grad_s8.h': ['tm_train_f32.h'],
  'tm_train_loss.h': ['tm_common.h'],
  'tm_train_sgd.h': ['tm_common.h'],
  'tm_train_split_s8.h': ['tm_train_grad_s8.h', 'tm_conv2d.h', 'tm_depthwise_conv2d.h'],
  'tm_binary.h': ['tm_elementwise.h'],
  'tm_unary.h': ['tm_common.h'],
  'tm_gather.h': ['tm_common.h'],
  'tm_reduce.h': ['tm_mean.h'],
  'tm_requantize.h': ['tm_common.h'],
  'tm_batch_matmul.h': ['tm_common.h'],
  'tm_transpose_conv.h': ['tm_common.h'],
  'tm_log_softmax.h': ['tm_softmax.h'],
  'tm_conv16x8.h': ['tm_batch_matmul.h'],
  'tm_depthwise_inplace_f32.h': ['tm_depthwise_conv2d.h'],
  'tm_pool_extra.h': ['tm_pool2d.h'],
  'tm_resize.h': ['tm_common.h'],
  'tm_softmax16.h': ['tm_softmax.h'],
  'tm_conv_grouped.h': ['tm_conv2d.h'],
  'tm_conv_pointwise_inplace.h': ['tm_conv2d.h'],
  'tm_add_n.h': ['tm_common.h'],
  'tm_div.h': ['tm_binary.h', 'tm_softmax.h'],
  'tm_l2norm.h': ['tm_softmax.h'],
  'tm_sigmoid16.h': ['tm_common.h'],
  'tm_svdf.h': ['tm_common.h'],
  'tm_detection.h': ['tm_common.h'],
  'tm_lstm.h': ['tm_unary.h', 'tm_sigmoid16.h', 'tm_batch_matmul.h'],
};

/** Every header of the library. */
export const KERNEL_HEADERS = Object.keys(DEPENDS) as KernelHeader[];

/** The headers and everything they include, in a stable order (dependencies first). */
export function withDependencies(headers: Iterable<KernelHeader>): KernelHeader[] {
  const out: KernelHeader[] = [];
  const visit = (h: KernelHeader) => {
    if (out.includes(h)) return;
    for (const d of DEPENDS[h]) visit(d);
    out.push(h);
  };
  for (const h of [...new Set(headers)].sort()) visit(h);
  return out;
}
