/*
 * TFLite_Detection_PostProcess (TFLite Micro's detection_postprocess.cc, a custom op), float32: SSD box
 * decoding and non-max suppression, as the TypeScript op (src/ops/detection_postprocess.ts) computes it.
 * Boxes are decoded against the anchors in double, then float, as the reference. Fast NMS ranks each anchor
 * by its best class score and suppresses once over all anchors, writing the top max_classes_per_detection
 * classes of each kept anchor; regular NMS suppresses class by class (at most detections_per_class each)
 * and keeps the best max_detections overall. Orders as the reference's sorts: NMS candidates by decreasing
 * score, stable; partial sorts by (score descending, position ascending). The sorts are insertion sorts
 * (in place, stable): no buffer beyond the layer's scratch, whose layout tm_detection_scratch gives and the
 * op's scratchBytes sizes. Outputs past the detection count are zero.
 */
#ifndef TM_DETECTION_H
#define TM_DETECTION_H

#include <math.h>
#include "tm_common.h"

typedef struct {
  int32_t num_boxes, with_background, num_classes, label_offset, stride;
  int32_t max_detections, max_classes_per_detection, detections_per_class, regular_nms, rows;
  float score_threshold, iou_threshold;
  float y_scale, x_scale, h_scale, w_scale;
} tm_detection_params;

/* One regular-NMS detection: anchor, class, score. */
typedef struct {
  int32_t anchor, cls;
  float score;
} tm_detection_entry;

/* The scratch, carved in this order (4-byte aligned; its size is the op's scratchBytes). */
typedef struct {
  float *decoded;            /* 4 per box: ymin, xmin, ymax, xmax */
  float *column;             /* per box: the score NMS ranks */
  int32_t *candidates;       /* boxes at or above the score threshold, best first */
  int32_t *selected;         /* boxes NMS keeps, best first */
  tm_detection_entry *kept;  /* regular NMS: max_detections + detections_per_class */
  uint8_t *active;           /* per candidate */
} tm_detection_scratch;

TM_HELPER tm_detection_scratch tm_detection_carve(const tm_detection_params *p, uint8_t *scratch) {
  tm_detection_scratch s;
  const size_t n = (size_t)p->num_boxes;
  s.decoded = (float *)(void *)scratch;
  s.column = s.decoded + 4 * n;
  s.candidates = (int32_t *)(void *)(s.column + n);
  s.selected = s.candidates + n;
  s.kept = (tm_detection_entry *)(void *)(s.selected + n);
  s.active = (uint8_t *)(void *)(s.kept + (p->regular_nms ? p->max_detections + p->detections_per_class : 0));
  return s;
}

TM_HELPER float tm_detection_iou(const float *b, int32_t i, int32_t j) {
  const float *bi = b + 4 * i, *bj = b + 4 * j;
  const float area_i = (bi[2] - bi[0]) * (bi[3] - bi[1]);
  const float area_j = (bj[2] - bj[0]) * (bj[3] - bj[1]);
  if (area_i <= 0.0f || area_j <= 0.0f) return 0.0f;
  const float ymin = TM_MAX(bi[0], bj[0]), xmin = TM_MAX(bi[1], bj[1]);
  const float ymax = TM_MIN(bi[2], bj[2]), xmax = TM_MIN(bi[3], bj[3]);
  const float inter = TM_MAX(ymax - ymin, 0.0f) * TM_MAX(xmax - xmin, 0.0f);
  return inter / ((area_i + area_j) - inter);
}

/* NonMaxSuppressionSingleClassHelper over s->column: the kept boxes into s->selected, best first; their count. */
TM_HELPER int32_t tm_detection_nms(const tm_detection_params *p, const tm_detection_scratch *s, int32_t max_detections) {
  int32_t n = 0;
  for (int32_t i = 0; i < p->num_boxes; i++)
    if (s->column[i] >= p->score_threshold) s->candidates[n++] = i;
  for (int32_t i = 1; i < n; i++) { /* stable, by decreasing score */
    const int32_t c = s->candidates[i];
    int32_t j = i;
    for (; j > 0 && s->column[s->candidates[j - 1]] < s->column[c]; j--) s->candidates[j] = s->candidates[j - 1];
    s->candidates[j] = c;
  }
  const int32_t limit = TM_MIN(n, max_detections);
  memset(s->active, 1, (size_t)n);
  int32_t active = n, count = 0;
  for (int32_t i = 0; i < n; i++) {
    if (active == 0 || count >= limit) break;
    if (!s->active[i]) continue;
    s->selected[count++] = s->candidates[i];
    s->active[i] = 0;
    active--;
    for (int32_t j = i + 1; j < n; j++) {
      if (s->active[j] && tm_detection_iou(s->decoded, s->candidates[i], s->candidates[j]) > p->iou_threshold) {
        s->active[j] = 0;
        active--;
      }
    }
  }
  return count;
}

TM_HELPER float tm_detection_score(const tm_detection_params *p, const float *scores, int32_t anchor, int32_t cls) {
  return scores[anchor * p->with_background + cls + p->label_offset];
}

TM_HELPER void tm_detection_put(const tm_detection_scratch *s, int32_t row, int32_t anchor, int32_t cls, float score, float *boxes, float *classes, float *out_scores) {
  memcpy(boxes + 4 * row, s->decoded + 4 * anchor, 4 * sizeof(float));
  classes[row] = (float)cls;
  out_scores[row] = score;
}

TM_HELPER int32_t tm_detection_regular(const tm_detection_params *p, const tm_detection_scratch *s, const float *scores, float *boxes, float *classes, float *out_scores) {
  int32_t nk = 0;
  for (int32_t c = 0; c < p->num_classes; c++) {
    for (int32_t a = 0; a < p->num_boxes; a++) s->column[a] = tm_detection_score(p, scores, a, c);
    const int32_t count = tm_detection_nms(p, s, p->detections_per_class);
    for (int32_t k = 0; k < count; k++) {
      s->kept[nk].anchor = s->selected[k];
      s->kept[nk].cls = c;
      s->kept[nk].score = s->column[s->selected[k]];
      nk++;
    }
    for (int32_t i = 1; i < nk; i++) { /* (score descending, position ascending) = a stable sort by score */
      const tm_detection_entry e = s->kept[i];
      int32_t j = i;
      for (; j > 0 && s->kept[j - 1].score < e.score; j--) s->kept[j] = s->kept[j - 1];
      s->kept[j] = e;
    }
    nk = TM_MIN(nk, p->max_detections);
  }
  for (int32_t row = 0; row < nk; row++) tm_detection_put(s, row, s->kept[row].anchor, s->kept[row].cls, s->kept[row].score, boxes, classes, out_scores);
  return nk;
}

TM_HELPER int32_t tm_detection_fast(const tm_detection_params *p, const tm_detection_scratch *s, const float *scores, float *boxes, float *classes, float *out_scores) {
  const int32_t per_anchor = TM_MIN(p->max_classes_per_detection, p->num_classes);
  for (int32_t a = 0; a < p->num_boxes; a++) {
    float best = tm_detection_score(p, scores, a, 0);
    for (int32_t c = 1; c < p->num_classes; c++) best = TM_MAX(best, tm_detection_score(p, scores, a, c));
    s->column[a] = best;
  }
  const int32_t count = tm_detection_nms(p, s, p->max_detections);
  int32_t row = 0;
  for (int32_t k = 0; k < count; k++) {
    const int32_t a = s->selected[k];
    /* The anchor's classes in (score descending, class ascending) order, each the first one after the last. */
    int32_t prev = -1;
    for (int32_t j = 0; j < per_anchor; j++) {
      const float prev_score = prev < 0 ? 0.0f : tm_detection_score(p, scores, a, prev);
      int32_t pick = -1;
      float pick_score = 0.0f;
      for (int32_t c = 0; c < p->num_classes; c++) {
        const float v = tm_detection_score(p, scores, a, c);
        const int after = prev < 0 || v < prev_score || (v == prev_score && c > prev);
        if (after && (pick < 0 || v > pick_score)) {
          pick = c;
          pick_score = v;
        }
      }
      tm_detection_put(s, row++, a, pick, pick_score, boxes, classes, out_scores);
      prev = pick;
    }
  }
  return row;
}

TM_KERNEL void tm_detection_postprocess_f32(const tm_detection_params *p, const float *encodings, const float *scores, const float *anchors, uint8_t *scratch,
                                            float *boxes, float *classes, float *out_scores, float *count) {
  const tm_detection_scratch s = tm_detection_carve(p, scratch);
  for (int32_t i = 0; i < p->num_boxes; i++) {
    const float *e = encodings + i * p->stride, *an = anchors + 4 * i;
    const float yc = (float)((double)e[0] / (double)p->y_scale * (double)an[2] + (double)an[0]);
    const float xc = (float)((double)e[1] / (double)p->x_scale * (double)an[3] + (double)an[1]);
    const float hh = (float)(0.5 * exp((double)e[2] / (double)p->h_scale) * (double)an[2]);
    const float hw = (float)(0.5 * exp((double)e[3] / (double)p->w_scale) * (double)an[3]);
    float *d = s.decoded + 4 * i;
    d[0] = yc - hh;
    d[1] = xc - hw;
    d[2] = yc + hh;
    d[3] = xc + hw;
  }
  memset(boxes, 0, (size_t)p->rows * 4 * sizeof(float));
  memset(classes, 0, (size_t)p->rows * sizeof(float));
  memset(out_scores, 0, (size_t)p->rows * sizeof(float));
  count[0] = (float)(p->regular_nms ? tm_detection_regular(p, &s, scores, boxes, classes, out_scores) : tm_detection_fast(p, &s, scores, boxes, classes, out_scores));
}

#endif /* TM_DETECTION_H */
