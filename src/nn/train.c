/* The training loop: seeded shuffling, mini-batches, cross-entropy, gradient
 * clipping, schedules, validation, early stopping, checkpoints and resuming.
 * Every random choice is a function of (seed, epoch, step), so a resumed run
 * retraces an uninterrupted one exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nn/layer.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

gdl_train_opts gdl_train_defaults(void) {
  gdl_train_opts o = {.epochs = 10, .batch_size = 64, .seed = 1, .restore_best = true};
  o.optim = gdl_optim_defaults(GDL_OPTIM_ADAM);
  o.sched = (gdl_sched){.kind = GDL_SCHED_CONSTANT, .base_lr = o.optim.lr};
  return o;
}

/* Rows idx[0..b) of ds into a batch x [b, ...] of dtype t and labels y [b]. */
static void make_batch(gdl_ctx *ctx, const gdl_dataset *ds, const int64_t *idx, int64_t b,
                       gdl_dtype t, gdl_tensor **xb, gdl_tensor **yb) {
  gdl_shape s = gdl_tensor_shape(ds->x);
  s.d[0] = b;
  *xb = gdl_tensor_new(ctx, t, s);
  int64_t row = ds->x->shape[0] ? gdl_tensor_numel(ds->x) / ds->x->shape[0] : 0;
  double scale = ds->scale != 0 ? ds->scale : 1, shift = ds->shift;
  bool raw = ds->x->dtype == GDL_U8;
  GDL_FLOAT_SWITCH(t, T, {
    T *dst = (*xb)->data;
    GDL_PARALLEL_FOR_IF(b * row > GDL_PAR_MIN)
    for (int64_t i = 0; i < b; i++) {
      T *d = dst + i * row;
      if (raw) {
        const uint8_t *src = (const uint8_t *)ds->x->data + idx[i] * row;
        for (int64_t k = 0; k < row; k++) d[k] = (T)(src[k] * scale + shift);
      } else if (ds->x->dtype == GDL_F32) {
        const float *src = (const float *)ds->x->data + idx[i] * row;
        for (int64_t k = 0; k < row; k++) d[k] = (T)(src[k] * scale + shift);
      } else {
        const double *src = (const double *)ds->x->data + idx[i] * row;
        for (int64_t k = 0; k < row; k++) d[k] = (T)(src[k] * scale + shift);
      }
    }
  });
  if (yb) {
    *yb = gdl_tensor_new(ctx, GDL_I64, GDL_SHAPE(b));
    for (int64_t i = 0; i < b; i++) ((int64_t *)(*yb)->data)[i] = (int64_t)gdl_tensor_get(ds->y, idx[i]);
  }
}

static int64_t count_correct(gdl_ctx *ctx, gdl_tensor *logits, gdl_tensor *y) {
  gdl_tensor *pred = gdl_argmax(ctx, logits, 1, false);
  int64_t c = 0;
  for (int64_t i = 0; i < y->shape[0]; i++) c += ((int64_t *)pred->data)[i] == ((int64_t *)y->data)[i];
  return c;
}

static gdl_status check_dataset(const gdl_model *m, const gdl_dataset *ds, const char *what) {
  char b1[96], b2[96];
  if (!ds->x || !ds->y || ds->x->ndim < 1 || ds->y->ndim != 1 || ds->y->shape[0] != ds->x->shape[0])
    return gdl_error(GDL_ERR_SHAPE, "%s set: x must be [N, ...] and y [N]", what);
  if (!gdl_tensor_is_contiguous(ds->x) || !gdl_tensor_is_contiguous(ds->y))
    return gdl_error(GDL_ERR_ARG, "%s set: arrays must be contiguous", what);
  if (ds->x->dtype != GDL_U8 && !gdl_dtype_is_float(ds->x->dtype))
    return gdl_error(GDL_ERR_ARG, "%s set: x must be float or uint8, got %s", what, gdl_dtype_name(ds->x->dtype));
  gdl_shape s = gdl_tensor_shape(ds->x), want = gdl_model_sample_shape(m);
  s.ndim--;
  memmove(s.d, s.d + 1, sizeof(int64_t) * (size_t)s.ndim);
  if (!gdl_shape_eq(s, want))
    return gdl_error(GDL_ERR_SHAPE, "%s set: samples have shape %s, the model expects %s", what,
                     gdl_shape_str(s, b1, sizeof b1), gdl_shape_str(want, b2, sizeof b2));
  gdl_shape out = gdl_model_out_shape(m);
  int64_t classes = out.ndim == 1 ? out.d[0] : 0;
  if (!classes) return gdl_error(GDL_ERR_SHAPE, "the model must output [classes] per sample for classification");
  for (int64_t i = 0; i < ds->y->shape[0]; i++) {
    double v = gdl_tensor_get(ds->y, i);
    if (v < 0 || v >= (double)classes || v != floor(v))
      return gdl_error(GDL_ERR_VALUE, "%s set: label %g of sample %lld is not a class in [0, %lld)", what, v,
                       (long long)i, (long long)classes);
  }
  return GDL_OK;
}

gdl_status gdl_evaluate(gdl_model *m, const gdl_dataset *ds, int64_t batch_size, gdl_eval_result *r) {
  gdl_status st = check_dataset(m, ds, "evaluation");
  if (st) return st;
  int64_t n = ds->x->shape[0];
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_ctx_set_grad(ctx, false);
  int64_t *idx = malloc((size_t)(batch_size > 0 ? batch_size : 1) * sizeof *idx);
  double loss = 0;
  int64_t correct = 0;
  for (int64_t at = 0; at < n; at += batch_size) {
    int64_t b = n - at < batch_size ? n - at : batch_size;
    for (int64_t i = 0; i < b; i++) idx[i] = at + i;
    gdl_tensor *xb, *yb;
    make_batch(ctx, ds, idx, b, gdl_model_dtype(m), &xb, &yb);
    gdl_tensor *logits = gdl_model_forward(m, ctx, xb, false);
    gdl_ce_opts ce = GDL_CE_DEFAULT;
    ce.reduction = GDL_LOSS_SUM;
    loss += gdl_tensor_get(gdl_cross_entropy(ctx, logits, yb, ce), 0);
    correct += count_correct(ctx, logits, yb);
    gdl_ctx_reset(ctx);
  }
  free(idx);
  gdl_ctx_free(ctx);
  r->n = n;
  r->loss = n ? loss / (double)n : NAN;
  r->accuracy = n ? (double)correct / (double)n : NAN;
  return GDL_OK;
}

gdl_tensor *gdl_predict(gdl_model *m, const gdl_tensor *x, double scale, double shift, int64_t batch_size) {
  gdl_dataset ds = {.x = (gdl_tensor *)x, .scale = scale, .shift = shift};
  int64_t n = x->shape[0];
  gdl_shape os = gdl_model_out_shape(m), full = {.ndim = os.ndim + 1};
  full.d[0] = n;
  memcpy(full.d + 1, os.d, sizeof(int64_t) * (size_t)os.ndim);
  gdl_tensor *out = gdl_tensor_alloc(gdl_model_dtype(m), full);
  if (!out) return NULL;
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_ctx_set_grad(ctx, false);
  int64_t *idx = malloc((size_t)(batch_size > 0 ? batch_size : 1) * sizeof *idx);
  size_t row = gdl_tensor_nbytes(out) / (size_t)(n ? n : 1);
  for (int64_t at = 0; at < n; at += batch_size) {
    int64_t b = n - at < batch_size ? n - at : batch_size;
    for (int64_t i = 0; i < b; i++) idx[i] = at + i;
    gdl_tensor *xb;
    make_batch(ctx, &ds, idx, b, gdl_model_dtype(m), &xb, NULL);
    gdl_tensor *y = gdl_tensor_contiguous(ctx, gdl_model_forward(m, ctx, xb, false));
    memcpy((char *)out->data + (size_t)at * row, y->data, (size_t)b * row);
    gdl_ctx_reset(ctx);
  }
  free(idx);
  gdl_ctx_free(ctx);
  return out;
}

/* Early-stopping state, kept in checkpoints so that resuming continues it. */
typedef struct {
  gdl_tensor *best;  /* [4]: best val acc, best epoch, epochs without improvement, spare */
  gdl_arrays *best_weights; /* "best.<name>" copies */
} stopper;

static uint64_t mix(uint64_t a, uint64_t b) {
  gdl_rng r = gdl_rng_make(a ^ 0xa0761d6478bd642full);
  r.counter = b;
  return gdl_rng_u64(&r);
}

static void snapshot_best(gdl_model *m, stopper *s) {
  gdl_arrays *state = gdl_arrays_new();
  gdl_model_state(m, state);
  for (int i = 0; i < gdl_arrays_count(state); i++) {
    char name[200];
    snprintf(name, sizeof name, "best.%s", gdl_arrays_name(state, i));
    gdl_tensor *dst = gdl_arrays_get(s->best_weights, name);
    if (!dst) gdl_arrays_put(s->best_weights, name, dst = gdl_tensor_clone(gdl_arrays_at(state, i)), true);
    else gdl_tensor_copy(dst, gdl_arrays_at(state, i));
  }
  gdl_arrays_free(state);
}

static void restore_best(gdl_model *m, stopper *s) {
  gdl_arrays *state = gdl_arrays_new();
  gdl_model_state(m, state);
  for (int i = 0; i < gdl_arrays_count(state); i++) {
    char name[200];
    snprintf(name, sizeof name, "best.%s", gdl_arrays_name(state, i));
    gdl_tensor *src = gdl_arrays_get(s->best_weights, name);
    if (src) gdl_tensor_copy(gdl_arrays_at(state, i), src);
  }
  gdl_arrays_free(state);
}

gdl_status gdl_train(gdl_model *m, const gdl_dataset *train, const gdl_dataset *val,
                     const gdl_train_opts *o, gdl_train_result *res) {
  gdl_status st = check_dataset(m, train, "training");
  if (!st && val) st = check_dataset(m, val, "validation");
  if (st) return st;
  if (o->batch_size < 1 || o->epochs < 0) return gdl_error(GDL_ERR_ARG, "train: batch_size must be >= 1 and epochs >= 0");
  int64_t n = train->x->shape[0], B = o->batch_size, steps = (n + B - 1) / B;
  gdl_optim *opt = gdl_optim_new(m, o->optim);
  gdl_ctx *ctx = gdl_ctx_new();
  int64_t *perm = malloc((size_t)(n ? n : 1) * sizeof *perm);
  stopper stop = {gdl_tensor_alloc(GDL_F64, GDL_SHAPE(4)), gdl_arrays_new()};
  double *best = stop.best->data;
  best[0] = -1;
  int64_t start = 0;
  uint64_t seed = o->seed;
  gdl_model_zero_grad(m);

  if (o->checkpoint && o->resume) {
    FILE *f = fopen(o->checkpoint, "rb");
    if (f) {
      fclose(f);
      gdl_arrays *extra = NULL;
      st = gdl_checkpoint_load(o->checkpoint, m, opt, &start, &seed);
      if (!st && (extra = gdl_safetensors_load(o->checkpoint))) {
        gdl_tensor *b = gdl_arrays_get(extra, "train.best");
        if (b && gdl_tensor_numel(b) == 4) gdl_tensor_copy(stop.best, b);
        for (int i = 0; i < gdl_arrays_count(extra); i++)
          if (!strncmp(gdl_arrays_name(extra, i), "best.", 5))
            gdl_arrays_put(stop.best_weights, gdl_arrays_name(extra, i), gdl_tensor_clone(gdl_arrays_at(extra, i)), true);
        gdl_arrays_free(extra);
      }
    }
  }

  double t0 = now_s(), seen_time = 0;
  int64_t epoch = start;
  bool stopped = val && o->patience > 0 && best[2] >= (double)o->patience; /* a resumed early stop */
  for (; !st && epoch < o->epochs && !stopped; epoch++) {
    double te = now_s(), loss_sum = 0;
    int64_t correct = 0, seen = 0;
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    gdl_rng shuffle = gdl_rng_make(mix(seed, (uint64_t)epoch));
    gdl_rng_shuffle(&shuffle, perm, n);
    double lr = 0;
    for (int64_t s = 0; s < steps; s++) {
      int64_t at = s * B, b = n - at < B ? n - at : B;
      uint64_t gstep = (uint64_t)(epoch * steps + s);
      gdl_ctx_reset(ctx);
      gdl_ctx_seed(ctx, mix(seed ^ 0x5bd1e995u, gstep));
      gdl_tensor *xb, *yb;
      make_batch(ctx, train, perm + at, b, gdl_model_dtype(m), &xb, &yb);
      if (o->augment) {
        gdl_rng ar = gdl_rng_make(mix(seed ^ 0x27d4eb2fu, gstep));
        o->augment(xb, &ar, o->augment_user);
      }
      gdl_tensor *logits = gdl_model_forward(m, ctx, xb, true);
      gdl_ce_opts ce = GDL_CE_DEFAULT;
      ce.label_smoothing = o->label_smoothing;
      gdl_tensor *loss = gdl_cross_entropy(ctx, logits, yb, ce);
      double lv = gdl_tensor_get(loss, 0);
      if (!isfinite(lv)) {
        st = gdl_error(GDL_ERR_VALUE, "train: the loss became %g at epoch %lld step %lld (lower the learning rate?)",
                       lv, (long long)epoch + 1, (long long)s + 1);
        break;
      }
      st = gdl_backward(ctx, loss);
      if (st) break;
      if (o->clip_norm > 0) gdl_clip_grad_norm(m, o->clip_norm);
      lr = gdl_sched_lr(&o->sched, (double)epoch + (double)(s + 1) / (double)steps);
      gdl_optim_step(opt, lr);
      gdl_model_zero_grad(m);
      loss_sum += lv * (double)b;
      correct += count_correct(ctx, logits, yb);
      seen += b;
      if (o->on_progress) {
        double el = now_s() - te;
        gdl_progress p = {epoch, o->epochs, s, steps, loss_sum / (double)seen, (double)seen / (el > 0 ? el : 1e-9),
                          now_s() - t0, 0};
        double per_epoch = el / ((double)(s + 1) / (double)steps);
        p.eta_s = per_epoch * (double)(o->epochs - epoch) - el;
        o->on_progress(&p, o->user);
      }
    }
    if (st) break;
    gdl_epoch_log log = {epoch, lr, loss_sum / (double)seen, (double)correct / (double)seen, NAN, NAN, 0};
    if (val) {
      gdl_eval_result ev;
      if ((st = gdl_evaluate(m, val, B > 256 ? B : 256, &ev))) break;
      log.val_loss = ev.loss;
      log.val_acc = ev.accuracy;
      if (ev.accuracy > best[0]) {
        best[0] = ev.accuracy;
        best[1] = (double)epoch;
        best[2] = 0;
        if (o->restore_best) snapshot_best(m, &stop);
      } else {
        best[2] += 1;
      }
      if (o->patience > 0 && best[2] >= (double)o->patience) stopped = true;
    }
    log.seconds = now_s() - te;
    seen_time += log.seconds;
    if (o->checkpoint) {
      gdl_arrays *extra = gdl_arrays_new();
      gdl_arrays_put(extra, "train.best", stop.best, false);
      for (int i = 0; i < gdl_arrays_count(stop.best_weights); i++)
        gdl_arrays_put(extra, gdl_arrays_name(stop.best_weights, i), gdl_arrays_at(stop.best_weights, i), false);
      st = gdl_checkpoint_save(o->checkpoint, m, opt, epoch + 1, seed, extra);
      gdl_arrays_free(extra);
      if (st) break;
    }
    if (o->on_epoch && !o->on_epoch(&log, o->user)) stopped = true;
  }
  if (!st && val && o->restore_best && gdl_arrays_count(stop.best_weights)) restore_best(m, &stop);
  if (res) {
    res->epochs_run = epoch;
    res->best_epoch = val ? (int64_t)best[1] : epoch - 1;
    res->best_val_acc = val ? best[0] : NAN;
    res->seconds = now_s() - t0;
  }
  gdl_arrays_free(stop.best_weights);
  gdl_tensor_free(stop.best);
  free(perm);
  gdl_ctx_free(ctx);
  gdl_optim_free(opt);
  return st;
}
