/* Training loops for graphs: node classification on one graph (full batch, or
 * mini-batches of sampled subgraphs) and graph classification over a set of small
 * graphs (shuffled block-diagonal batches). Like gdl_train, every random choice is
 * a function of (seed, epoch, step): same seed, same run, on any thread count. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "graph/graph.h"
#include "nn/layer.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t mix(uint64_t a, uint64_t b) {
  gdl_rng r = gdl_rng_make(a ^ 0xa0761d6478bd642full);
  r.counter = b;
  return gdl_rng_u64(&r);
}

gdl_graph_train_opts gdl_graph_train_defaults(void) {
  gdl_graph_train_opts o;
  memset(&o, 0, sizeof o);
  o.base = gdl_train_defaults();
  return o;
}

/* ---- shared pieces ------------------------------------------------------------------ */

/* Calls b->on_progress after step s of an epoch that began at te (training at t0). */
static void progress(const gdl_train_opts *b, int64_t epoch, int64_t s, int64_t steps, double loss_sum, int64_t seen,
                     double te, double t0) {
  if (!b->on_progress) return;
  double el = now_s() - te;
  gdl_progress p = {epoch, b->epochs, s, steps, loss_sum / (double)seen, (double)seen / (el > 0 ? el : 1e-9),
                    now_s() - t0, el / ((double)(s + 1) / (double)steps) * (double)(b->epochs - epoch) - el};
  b->on_progress(&p, b->user);
}

typedef struct {
  gdl_model *m;
  gdl_optim *opt;
  const gdl_graph_train_opts *o;
  bool *decay; /* per trainable parameter: L2 added by hand */
  gdl_arrays *best;
  double best_acc, best_loss; /* validation metrics of the best (kept) epoch */
  double max_acc, min_loss;   /* the best of each so far (GDL_SELECT_ACCURACY_AND_LOSS) */
  int64_t best_epoch, bad_epochs;
} trainer;

static void trainer_init(trainer *t, gdl_model *m, const gdl_graph_train_opts *o) {
  memset(t, 0, sizeof *t);
  t->m = m;
  t->o = o;
  gdl_optim_opts oo = o->base.optim;
  int np = gdl_model_param_count(m);
  t->decay = calloc((size_t)np + 1, sizeof *t->decay);
  if (o->ndecay > 0) {
    for (int i = 0; i < np; i++) {
      int layer = atoi(gdl_model_param_name(m, i) + strlen("layers."));
      for (int k = 0; k < o->ndecay; k++) t->decay[i] |= o->decay_layers[k] == layer;
    }
    if (oo.kind != GDL_OPTIM_ADAMW) oo.weight_decay = 0;
  }
  t->opt = gdl_optim_new(m, oo);
  t->best = gdl_arrays_new();
  t->best_acc = t->max_acc = -1;
  t->best_loss = t->min_loss = INFINITY;
}

static void trainer_free(trainer *t) {
  gdl_optim_free(t->opt);
  gdl_arrays_free(t->best);
  free(t->decay);
}

/* Weight decay by hand, clipping, the update, zeroed gradients. */
static void trainer_step(trainer *t, double lr) {
  const gdl_graph_train_opts *o = t->o;
  if (o->ndecay > 0 && o->base.optim.kind != GDL_OPTIM_ADAMW && o->base.optim.weight_decay > 0)
    for (int i = 0; i < gdl_model_param_count(t->m); i++) {
      if (!t->decay[i]) continue;
      gdl_tensor *p = gdl_model_param(t->m, i);
      int64_t n = gdl_tensor_numel(p);
      double wd = o->base.optim.weight_decay;
      GDL_FLOAT_SWITCH(p->dtype, T, {
        T *g = p->grad->data;
        const T *w = p->data;
        for (int64_t k = 0; k < n; k++) g[k] += (T)wd * w[k];
      });
    }
  if (o->base.clip_norm > 0) gdl_clip_grad_norm(t->m, o->base.clip_norm);
  gdl_optim_step(t->opt, lr);
  gdl_model_zero_grad(t->m);
}

static void snapshot(trainer *t) {
  gdl_arrays *state = gdl_arrays_new();
  gdl_model_state(t->m, state);
  for (int i = 0; i < gdl_arrays_count(state); i++) {
    gdl_tensor *dst = gdl_arrays_get(t->best, gdl_arrays_name(state, i));
    if (!dst) gdl_arrays_put(t->best, gdl_arrays_name(state, i), gdl_tensor_clone(gdl_arrays_at(state, i)), true);
    else gdl_tensor_copy(dst, gdl_arrays_at(state, i));
  }
  gdl_arrays_free(state);
}

/* After an epoch's validation: tracks the best epoch (o->select); false when patience
 * ran out. */
static bool trainer_validated(trainer *t, int64_t epoch, double acc, double loss) {
  bool keep, progress;
  switch (t->o->select) {
  case GDL_SELECT_LOSS:
    keep = progress = loss < t->best_loss;
    break;
  case GDL_SELECT_ACCURACY_AND_LOSS: /* Velickovic et al.'s execute_cora.py */
    keep = acc >= t->max_acc && loss <= t->min_loss;
    progress = acc >= t->max_acc || loss <= t->min_loss;
    break;
  default:
    keep = progress = acc > t->best_acc || (acc == t->best_acc && loss < t->best_loss);
  }
  if (acc > t->max_acc) t->max_acc = acc;
  if (loss < t->min_loss) t->min_loss = loss;
  if (keep) {
    t->best_acc = acc;
    t->best_loss = loss;
    t->best_epoch = epoch;
    if (t->o->base.restore_best) snapshot(t);
  }
  t->bad_epochs = progress ? 0 : t->bad_epochs + 1;
  return !(t->o->base.patience > 0 && t->bad_epochs >= t->o->base.patience);
}

static void trainer_finish(trainer *t, bool validated) {
  if (validated && t->o->base.restore_best && gdl_arrays_count(t->best))
    gdl_model_load_state(t->m, t->best, "best epoch");
}

static gdl_status resume(trainer *t, int64_t *start) {
  const gdl_train_opts *b = &t->o->base;
  *start = 0;
  if (!b->checkpoint || !b->resume) return GDL_OK;
  FILE *f = fopen(b->checkpoint, "rb");
  if (!f) return GDL_OK;
  fclose(f);
  uint64_t seed;
  gdl_status st = gdl_checkpoint_load(b->checkpoint, t->m, t->opt, start, &seed);
  gdl_arrays *a = st ? NULL : gdl_safetensors_load(b->checkpoint);
  if (a) {
    gdl_tensor *s = gdl_arrays_get(a, "train.best");
    if (s && gdl_tensor_numel(s) >= 4) {
      t->best_acc = t->max_acc = gdl_tensor_get(s, 0);
      t->best_loss = t->min_loss = gdl_tensor_get(s, 1);
      t->best_epoch = (int64_t)gdl_tensor_get(s, 2);
      t->bad_epochs = (int64_t)gdl_tensor_get(s, 3);
    }
    if (s && gdl_tensor_numel(s) >= 6) {
      t->max_acc = gdl_tensor_get(s, 4);
      t->min_loss = gdl_tensor_get(s, 5);
    }
    for (int i = 0; i < gdl_arrays_count(a); i++)
      if (!strncmp(gdl_arrays_name(a, i), "best.", 5))
        gdl_arrays_put(t->best, gdl_arrays_name(a, i) + 5, gdl_tensor_clone(gdl_arrays_at(a, i)), true);
    gdl_arrays_free(a);
  }
  return st;
}

static gdl_status save(trainer *t, int64_t epoch) {
  const gdl_train_opts *b = &t->o->base;
  if (!b->checkpoint) return GDL_OK;
  gdl_arrays *extra = gdl_arrays_new();
  gdl_tensor *s = gdl_tensor_alloc(GDL_F64, GDL_SHAPE(6));
  double *d = s->data;
  d[0] = t->best_acc, d[1] = t->best_loss, d[2] = (double)t->best_epoch, d[3] = (double)t->bad_epochs;
  d[4] = t->max_acc, d[5] = t->min_loss;
  gdl_arrays_put(extra, "train.best", s, true);
  char name[256];
  for (int i = 0; i < gdl_arrays_count(t->best); i++) {
    snprintf(name, sizeof name, "best.%s", gdl_arrays_name(t->best, i));
    gdl_arrays_put(extra, name, gdl_arrays_at(t->best, i), false);
  }
  gdl_status st = gdl_checkpoint_save(b->checkpoint, t->m, t->opt, epoch, b->seed, extra);
  gdl_arrays_free(extra);
  return st;
}

/* Rows idx[0..n) of logits against labels: summed cross-entropy (recorded) and hits. */
static gdl_tensor *masked_loss(gdl_ctx *ctx, gdl_tensor *logits, const gdl_tensor *y, const int64_t *idx,
                               int64_t n, double smoothing, gdl_loss_reduction red, int64_t *correct) {
  gdl_tensor *ix = gdl_tensor_new(ctx, GDL_I64, GDL_SHAPE(n)), *yy = gdl_tensor_new(ctx, GDL_I64, GDL_SHAPE(n));
  for (int64_t i = 0; i < n; i++) {
    ((int64_t *)ix->data)[i] = idx ? idx[i] : i;
    ((int64_t *)yy->data)[i] = (int64_t)gdl_tensor_get(y, idx ? idx[i] : i);
  }
  gdl_tensor *lg = idx ? gdl_index_select(ctx, logits, 0, ix) : logits;
  gdl_ce_opts ce = GDL_CE_DEFAULT;
  ce.label_smoothing = smoothing;
  ce.reduction = red;
  gdl_tensor *loss = gdl_cross_entropy(ctx, lg, yy, ce);
  if (correct) {
    bool old = gdl_ctx_set_grad(ctx, false);
    gdl_tensor *pred = gdl_argmax(ctx, lg, 1, false);
    gdl_ctx_set_grad(ctx, old);
    for (int64_t i = 0; i < n; i++) *correct += ((int64_t *)pred->data)[i] == ((int64_t *)yy->data)[i];
  }
  return loss;
}

static gdl_status check_labels(const gdl_model *m, const gdl_tensor *y, const char *what) {
  gdl_shape out = gdl_model_out_shape(m);
  if (out.ndim != 1) return gdl_error(GDL_ERR_SHAPE, "%s: the model must output [classes] per node or graph", what);
  for (int64_t i = 0; i < gdl_tensor_numel(y); i++) {
    double v = gdl_tensor_get(y, i);
    if (v < 0 || v >= (double)out.d[0])
      return gdl_error(GDL_ERR_VALUE, "%s: label %g is not a class of the model's %lld outputs", what, v,
                       (long long)out.d[0]);
  }
  return GDL_OK;
}

/* ---- node classification --------------------------------------------------------------------- */

static int64_t *mask_indices(const gdl_tensor *mask, int64_t N, int64_t *n) {
  int64_t *idx = malloc((size_t)(N + 1) * sizeof *idx);
  *n = 0;
  for (int64_t i = 0; mask && i < N; i++)
    if (gdl_tensor_get(mask, i) != 0) idx[(*n)++] = i;
  return idx;
}

/* g->x in dtype t (cached on the graph). */
static gdl_tensor *features(gdl_graph *g, gdl_dtype t) {
  GDL_ASSERT(g->x, "graph without node features x");
  if (g->x->dtype == t) return g->x;
  char key[32];
  snprintf(key, sizeof key, "x.%d", (int)t);
  gdl_tensor *x = gdl__cache_get(g, key);
  if (!x) {
    x = gdl__gtensor(g, t, gdl_tensor_shape(g->x));
    gdl_tensor_copy(x, g->x);
    gdl__cache_put(g, key, x, (void (*)(void *))gdl_tensor_free);
  }
  return x;
}

gdl_status gdl_graph_eval_nodes(gdl_model *m, gdl_graph *g, const gdl_tensor *mask, gdl_eval_result *r) {
  int64_t n, correct = 0;
  int64_t *idx = mask_indices(mask, g->num_nodes, &n);
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_ctx_set_grad(ctx, false);
  gdl_tensor *logits = gdl_graph_forward(m, ctx, features(g, gdl_model_dtype(m)), g, false);
  double loss = n ? gdl_tensor_get(masked_loss(ctx, logits, g->y, idx, n, 0, GDL_LOSS_SUM, &correct), 0) : 0;
  gdl_ctx_free(ctx);
  free(idx);
  r->n = n;
  r->loss = n ? loss / (double)n : NAN;
  r->accuracy = n ? (double)correct / (double)n : NAN;
  return GDL_OK;
}

gdl_status gdl_graph_train_nodes(gdl_model *m, gdl_graph *g, const gdl_graph_train_opts *o, gdl_train_result *res) {
  const gdl_train_opts *b = &o->base;
  gdl_status st = gdl_graph_check(g, "train");
  if (!st && (!g->x || !g->y || !g->train_mask))
    st = gdl_error(GDL_ERR_ARG, "train: node classification needs x, y and train_mask");
  if (!st) st = check_labels(m, g->y, "train");
  if (!st && o->steps_per_epoch > 0)
    st = gdl_error(GDL_ERR_ARG, "train: steps_per_epoch is for graph classification (node tasks: fanout and batch_size)");
  if (st) return st;
  int64_t ntrain;
  int64_t *train = mask_indices(g->train_mask, g->num_nodes, &ntrain);
  bool sampled = o->nfanout > 0;
  int64_t B = sampled ? b->batch_size : ntrain, steps = sampled ? (ntrain + B - 1) / B : 1;
  trainer t;
  trainer_init(&t, m, o);
  gdl_sampler *smp = sampled ? gdl_sampler_new(g, o->fanout, o->nfanout) : NULL;
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_model_zero_grad(m);
  int64_t epoch;
  st = resume(&t, &epoch);
  double t0 = now_s();
  bool go = true;
  for (; !st && go && epoch < b->epochs; epoch++) {
    double te = now_s(), loss_sum = 0, lr = 0;
    int64_t correct = 0, seen = 0;
    gdl_rng shuffle = gdl_rng_make(mix(b->seed, (uint64_t)epoch));
    if (sampled) gdl_rng_shuffle(&shuffle, train, ntrain);
    for (int64_t s = 0; s < steps && !st; s++) {
      uint64_t gstep = (uint64_t)(epoch * steps + s);
      gdl_ctx_reset(ctx);
      gdl_ctx_seed(ctx, mix(b->seed ^ 0x5bd1e995u, gstep));
      int64_t at = s * B, nb = ntrain - at < B ? ntrain - at : B;
      gdl_graph *sub = sampled ? gdl_sampler_sample(smp, train + at, nb, mix(b->seed ^ 0x27d4eb2fu, gstep)) : g;
      gdl_tensor *logits = gdl_graph_forward(m, ctx, features(sub, gdl_model_dtype(m)), sub, true);
      gdl_tensor *loss = masked_loss(ctx, logits, sub->y, sampled ? NULL : train, nb, b->label_smoothing,
                                     GDL_LOSS_MEAN, &correct);
      double lv = gdl_tensor_get(loss, 0);
      if (!isfinite(lv))
        st = gdl_error(GDL_ERR_VALUE, "train: the loss became %g at epoch %lld (lower the learning rate?)", lv,
                       (long long)epoch + 1);
      if (!st) st = gdl_backward(ctx, loss);
      if (!st) {
        lr = gdl_sched_lr(&b->sched, (double)epoch + (double)(s + 1) / (double)steps);
        trainer_step(&t, lr);
      }
      if (sampled) gdl_graph_free(sub);
      loss_sum += lv * (double)nb;
      seen += nb;
      progress(b, epoch, s, steps, loss_sum, seen, te, t0);
    }
    if (st) break;
    gdl_epoch_log log = {epoch, lr, loss_sum / (double)seen, (double)correct / (double)seen, NAN, NAN, 0};
    if (g->val_mask) {
      gdl_eval_result ev;
      gdl_graph_eval_nodes(m, g, g->val_mask, &ev);
      log.val_loss = ev.loss;
      log.val_acc = ev.accuracy;
      go = trainer_validated(&t, epoch, ev.accuracy, ev.loss);
    }
    log.seconds = now_s() - te;
    st = save(&t, epoch + 1);
    if (!st && b->on_epoch && !b->on_epoch(&log, b->user)) go = false;
  }
  if (!st) trainer_finish(&t, g->val_mask != NULL);
  if (res) {
    res->epochs_run = epoch;
    res->best_epoch = g->val_mask ? t.best_epoch : epoch - 1;
    res->best_val_acc = g->val_mask ? t.best_acc : NAN;
    res->seconds = now_s() - t0;
  }
  gdl_ctx_free(ctx);
  gdl_sampler_free(smp);
  trainer_free(&t);
  free(train);
  return st;
}

/* ---- graph classification --------------------------------------------------------------------- */

static gdl_graph *make_batch(const gdl_graph_set *s, const int64_t *idx, int64_t n) {
  gdl_graph **gs = malloc((size_t)(n + 1) * sizeof *gs);
  for (int64_t i = 0; i < n; i++) gs[i] = s->graphs[idx[i]];
  gdl_graph *b = gdl_graph_batch(gs, n);
  free(gs);
  return b;
}

gdl_status gdl_graph_eval_graphs(gdl_model *m, const gdl_graph_set *s, const int64_t *idx, int64_t n,
                                 int64_t batch_size, gdl_eval_result *r) {
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_ctx_set_grad(ctx, false);
  double loss = 0;
  int64_t correct = 0;
  if (batch_size < 1) batch_size = 256;
  for (int64_t at = 0; at < n; at += batch_size) {
    int64_t nb = n - at < batch_size ? n - at : batch_size;
    gdl_graph *b = make_batch(s, idx + at, nb);
    gdl_tensor *logits = gdl_graph_forward(m, ctx, features(b, gdl_model_dtype(m)), b, false);
    loss += gdl_tensor_get(masked_loss(ctx, logits, b->y, NULL, nb, 0, GDL_LOSS_SUM, &correct), 0);
    gdl_ctx_reset(ctx);
    gdl_graph_free(b);
  }
  gdl_ctx_free(ctx);
  r->n = n;
  r->loss = n ? loss / (double)n : NAN;
  r->accuracy = n ? (double)correct / (double)n : NAN;
  return GDL_OK;
}

gdl_status gdl_graph_train_graphs(gdl_model *m, const gdl_graph_set *set, const int64_t *train_idx, int64_t ntrain,
                                  const int64_t *val, int64_t nval, const gdl_graph_train_opts *o,
                                  gdl_train_result *res) {
  const gdl_train_opts *b = &o->base;
  if (ntrain < 1 || b->batch_size < 1) return gdl_error(GDL_ERR_ARG, "train: no training graphs or batch_size < 1");
  for (int64_t i = 0; i < set->n; i++) {
    gdl_status st = check_labels(m, set->graphs[i]->y, "train");
    if (st) return st;
  }
  int64_t B = b->batch_size, steps = o->steps_per_epoch > 0 ? o->steps_per_epoch : (ntrain + B - 1) / B;
  bool draw = o->steps_per_epoch > 0; /* random batches (GIN's iters_per_epoch) instead of one pass */
  if (draw && B > ntrain) B = ntrain;
  int64_t *perm = malloc((size_t)ntrain * sizeof *perm);
  trainer t;
  trainer_init(&t, m, o);
  gdl_ctx *ctx = gdl_ctx_new();
  gdl_model_zero_grad(m);
  int64_t epoch;
  gdl_status st = resume(&t, &epoch);
  double t0 = now_s();
  bool go = true;
  for (; !st && go && epoch < b->epochs; epoch++) {
    double te = now_s(), loss_sum = 0, lr = 0;
    int64_t correct = 0, seen = 0;
    memcpy(perm, train_idx, (size_t)ntrain * sizeof *perm);
    gdl_rng shuffle = gdl_rng_make(mix(b->seed, (uint64_t)epoch));
    gdl_rng_shuffle(&shuffle, perm, ntrain);
    for (int64_t s = 0; s < steps && !st; s++) {
      uint64_t gstep = (uint64_t)(epoch * steps + s);
      gdl_ctx_reset(ctx);
      gdl_ctx_seed(ctx, mix(b->seed ^ 0x5bd1e995u, gstep));
      int64_t at = s * B, nb = ntrain - at < B ? ntrain - at : B;
      if (draw) { /* B distinct graphs: a partial Fisher-Yates shuffle */
        at = 0, nb = B;
        for (int64_t i = 0; i < B; i++) {
          int64_t j = i + (int64_t)(gdl_rng_u64(&shuffle) % (uint64_t)(ntrain - i)), tmp = perm[i];
          perm[i] = perm[j], perm[j] = tmp;
        }
      }
      gdl_graph *bg = make_batch(set, perm + at, nb);
      gdl_tensor *logits = gdl_graph_forward(m, ctx, features(bg, gdl_model_dtype(m)), bg, true);
      gdl_tensor *loss = masked_loss(ctx, logits, bg->y, NULL, nb, b->label_smoothing, GDL_LOSS_MEAN, &correct);
      double lv = gdl_tensor_get(loss, 0);
      if (!isfinite(lv))
        st = gdl_error(GDL_ERR_VALUE, "train: the loss became %g at epoch %lld (lower the learning rate?)", lv,
                       (long long)epoch + 1);
      if (!st) st = gdl_backward(ctx, loss);
      if (!st) {
        lr = gdl_sched_lr(&b->sched, (double)epoch + (double)(s + 1) / (double)steps);
        trainer_step(&t, lr);
      }
      gdl_ctx_reset(ctx);
      gdl_graph_free(bg);
      loss_sum += lv * (double)nb;
      seen += nb;
      progress(b, epoch, s, steps, loss_sum, seen, te, t0);
    }
    if (st) break;
    gdl_epoch_log log = {epoch, lr, loss_sum / (double)seen, (double)correct / (double)seen, NAN, NAN, 0};
    if (val && nval) {
      gdl_eval_result ev;
      gdl_graph_eval_graphs(m, set, val, nval, 256, &ev);
      log.val_loss = ev.loss;
      log.val_acc = ev.accuracy;
      go = trainer_validated(&t, epoch, ev.accuracy, ev.loss);
    }
    log.seconds = now_s() - te;
    st = save(&t, epoch + 1);
    if (!st && b->on_epoch && !b->on_epoch(&log, b->user)) go = false;
  }
  if (!st) trainer_finish(&t, val && nval);
  if (res) {
    res->epochs_run = epoch;
    res->best_epoch = val && nval ? t.best_epoch : epoch - 1;
    res->best_val_acc = val && nval ? t.best_acc : NAN;
    res->seconds = now_s() - t0;
  }
  gdl_ctx_free(ctx);
  trainer_free(&t);
  free(perm);
  return st;
}
