import type { Node } from '../../graph/graph.js';
import { detectionGeometry, detectionOutputRows, detectionScratchBytes } from '../../ops/detection_postprocess.js';
import type { CArray } from '../c_syntax.js';
import { call, structArg, structDef } from './kernel_call.js';
import type { LayerCode, LayerContext } from './layer.js';
import { operandArg } from './broadcast_binary.js';

/** TFLite_Detection_PostProcess (float32) -> tm_detection_postprocess_f32, its working buffers in the layer's scratch. */
export function lowerDetectionPostProcess(ctx: LayerContext): LayerCode {
  const node = ctx.node as Node<'TFLite_Detection_PostProcess'>;
  const o = node.options;
  const ins = [0, 1, 2].map((i) => ctx.input(i)), outs = [0, 1, 2, 3].map((i) => ctx.output(i));
  if ([...ins, ...outs].some((t) => t.dtype !== 'float32')) throw ctx.unsupported('float32 tensors only (as in TFLite Micro)');
  if (!(o.nmsIouThreshold > 0 && o.nmsIouThreshold <= 1) || (o.useRegularNms ? o.detectionsPerClass <= 0 : o.maxClassesPerDetection <= 0)) {
    throw ctx.unsupported('IoU threshold outside (0, 1], or no detections per class / classes per detection');
  }
  // Scores are read after the outputs are cleared: no output may lie on an input.
  for (const i of ins) for (const t of outs) ctx.requireDisjoint(i, t, 'TFLite_Detection_PostProcess');
  const { numBoxes, withBackground } = detectionGeometry(node, ctx.graph);
  const scratch = ctx.scratchBuffer(detectionScratchBytes(o, numBoxes), 'uint8_t');
  const p = ctx.struct('tm_detection_params', 'params', {
    num_boxes: numBoxes, with_background: withBackground, num_classes: o.numClasses, label_offset: withBackground - o.numClasses, stride: ins[0].shape[2],
    max_detections: o.maxDetections, max_classes_per_detection: o.maxClassesPerDetection, detections_per_class: o.detectionsPerClass,
    regular_nms: o.useRegularNms ? 1 : 0, rows: detectionOutputRows(o),
    score_threshold: o.nmsScoreThreshold, iou_threshold: o.nmsIouThreshold, y_scale: o.yScale, x_scale: o.xScale, h_scale: o.hScale, w_scale: o.wScale,
  });
  const weights: CArray[] = [];
  const args = ins.map((t, i) => operandArg(ctx, weights, t, ['box_encodings', 'class_predictions', 'anchors'][i]));
  return {
    headers: ['tm_detection.h'], definitions: [structDef(p)], weights,
    statements: [call('tm_detection_postprocess_f32', structArg(p), ...args, scratch, ...outs.map((t) => ctx.ptr(t)))],
  };
}
