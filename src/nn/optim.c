/* SGD (momentum, Nesterov, weight decay), Adam and AdamW with PyTorch's update
 * rules; state lives in one slab per moment. */
#include <stdio.h>
#include <stdlib.h>

#include "nn/layer.h"

struct gdl_optim {
  gdl_model *m;
  gdl_optim_opts o;
  int64_t t; /* steps taken */
  gdl_tensor **m1, **m2; /* per parameter: momentum / first moment, second moment */
  gdl_tensor *step_tensor; /* t as a tensor, for checkpoints */
  char **names;
};

gdl_optim_opts gdl_optim_defaults(gdl_optim_kind kind) {
  gdl_optim_opts o = {.kind = kind, .lr = kind == GDL_OPTIM_SGD ? 0.01 : 1e-3, .beta1 = 0.9,
                      .beta2 = 0.999, .eps = 1e-8};
  if (kind == GDL_OPTIM_ADAMW) o.weight_decay = 0.01;
  return o;
}

gdl_optim *gdl_optim_new(gdl_model *m, gdl_optim_opts o) {
  gdl_optim *opt = calloc(1, sizeof *opt);
  int np = gdl_model_param_count(m);
  opt->m = m;
  opt->o = o;
  opt->m1 = calloc((size_t)np + 1, sizeof *opt->m1);
  opt->m2 = calloc((size_t)np + 1, sizeof *opt->m2);
  opt->names = calloc(2 * (size_t)np + 1, sizeof *opt->names);
  GDL_ASSERT(opt && opt->m1 && opt->m2 && opt->names, "out of memory");
  bool moments = o.kind != GDL_OPTIM_SGD || o.momentum != 0;
  for (int i = 0; i < np; i++) {
    gdl_tensor *p = gdl_model_param(m, i);
    if (moments) opt->m1[i] = gdl_tensor_alloc(p->dtype, gdl_tensor_shape(p));
    if (o.kind != GDL_OPTIM_SGD) opt->m2[i] = gdl_tensor_alloc(p->dtype, gdl_tensor_shape(p));
  }
  opt->step_tensor = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(1));
  return opt;
}

void gdl_optim_free(gdl_optim *o) {
  if (!o) return;
  for (int i = 0; i < gdl_model_param_count(o->m); i++) {
    gdl_tensor_free(o->m1[i]);
    gdl_tensor_free(o->m2[i]);
  }
  for (int i = 0; o->names[i]; i++) free(o->names[i]);
  free(o->names);
  free(o->m1);
  free(o->m2);
  gdl_tensor_free(o->step_tensor);
  free(o);
}

int64_t gdl_optim_steps(const gdl_optim *o) { return o->t; }

/* sqrt in T's precision (a float's square root rounds the same either way). */
#define sqrt_t(v) (sizeof(v) == sizeof(float) ? (__typeof__(v))sqrtf((float)(v)) : (__typeof__(v))sqrt((double)(v)))

void gdl_optim_step(gdl_optim *opt, double lr) {
  const gdl_optim_opts o = opt->o;
  opt->t++;
  double bc1 = 1 - pow(o.beta1, (double)opt->t), bc2 = 1 - pow(o.beta2, (double)opt->t);
  bool first = opt->t == 1;
  bool adamw = o.kind == GDL_OPTIM_ADAMW, sgd = o.kind == GDL_OPTIM_SGD;
  for (int i = 0; i < gdl_model_param_count(opt->m); i++) {
    gdl_tensor *p = gdl_model_param(opt->m, i);
    int64_t n = gdl_tensor_numel(p);
    GDL_FLOAT_SWITCH(p->dtype, T, {
      T *w = p->data, *g = p->grad->data;
      T *m1 = opt->m1[i] ? opt->m1[i]->data : NULL, *m2 = opt->m2[i] ? opt->m2[i]->data : NULL;
      /* The constants in T, hoisted: the loops below then vectorise. */
      const T wd = (T)o.weight_decay, keep = (T)(1 - lr * o.weight_decay), mom = (T)o.momentum, rate = (T)lr;
      if (sgd) {
        GDL_PARALLEL_FOR_IF(n > GDL_PAR_MIN)
        for (int64_t k = 0; k < n; k++) {
          T gk = g[k] + wd * w[k];
          if (m1) {
            m1[k] = first ? gk : mom * m1[k] + gk;
            gk = o.nesterov ? gk + mom * m1[k] : m1[k];
          }
          w[k] -= rate * gk;
        }
      } else {
        const T b1 = (T)o.beta1, c1 = (T)(1 - o.beta1), b2 = (T)o.beta2, c2 = (T)(1 - o.beta2);
        const T step = (T)(lr / bc1), bc = (T)bc2, eps = (T)o.eps;
        GDL_PARALLEL_FOR_IF(n > GDL_PAR_MIN)
        for (int64_t k = 0; k < n; k++) {
          T gk = g[k];
          if (adamw) w[k] *= keep;
          else gk += wd * w[k];
          m1[k] = b1 * m1[k] + c1 * gk;
          m2[k] = b2 * m2[k] + c2 * gk * gk;
          w[k] -= step * m1[k] / (sqrt_t(m2[k] / bc) + eps);
        }
      }
    });
  }
}

double gdl_clip_grad_norm(gdl_model *m, double max_norm) {
  double total = 0;
  for (int i = 0; i < gdl_model_param_count(m); i++) {
    gdl_tensor *g = gdl_model_param(m, i)->grad;
    int64_t n = gdl_tensor_numel(g);
    GDL_FLOAT_SWITCH(g->dtype, T, {
      const T *d = g->data;
      for (int64_t k = 0; k < n; k++) total += (double)d[k] * (double)d[k];
    });
  }
  double norm = sqrt(total);
  if (max_norm > 0 && norm > max_norm) {
    double s = max_norm / (norm + 1e-6);
    for (int i = 0; i < gdl_model_param_count(m); i++) {
      gdl_tensor *g = gdl_model_param(m, i)->grad;
      int64_t n = gdl_tensor_numel(g);
      GDL_FLOAT_SWITCH(g->dtype, T, {
        T *d = g->data;
        for (int64_t k = 0; k < n; k++) d[k] *= (T)s;
      });
    }
  }
  return norm;
}

static const char *state_name(gdl_optim *o, int slot, const char *param, const char *what) {
  char buf[160];
  snprintf(buf, sizeof buf, "optim.%s.%s", param, what);
  free(o->names[slot]);
  o->names[slot] = strdup(buf);
  return o->names[slot];
}

gdl_status gdl_optim_state(gdl_optim *o, gdl_arrays *out) {
  ((int64_t *)o->step_tensor->data)[0] = o->t;
  gdl_status st = gdl_arrays_put(out, "optim.step", o->step_tensor, false);
  for (int i = 0; !st && i < gdl_model_param_count(o->m); i++) {
    const char *pn = gdl_model_param_name(o->m, i);
    if (o->m1[i]) st = gdl_arrays_put(out, state_name(o, 2 * i, pn, "m"), o->m1[i], false);
    if (!st && o->m2[i]) st = gdl_arrays_put(out, state_name(o, 2 * i + 1, pn, "v"), o->m2[i], false);
  }
  return st;
}

gdl_status gdl_optim_load_state(gdl_optim *o, const gdl_arrays *in, const char *source) {
  gdl_tensor *t = gdl_arrays_get(in, "optim.step");
  if (!t || gdl_tensor_numel(t) != 1)
    return gdl_error(GDL_ERR_FORMAT, "%s: no optimiser step count 'optim.step'", source);
  for (int pass = 0; pass < 2; pass++) /* check all, then copy all */
    for (int i = 0; i < gdl_model_param_count(o->m); i++)
      for (int k = 0; k < 2; k++) {
        gdl_tensor *dst = k ? o->m2[i] : o->m1[i];
        if (!dst) continue;
        char name[160];
        snprintf(name, sizeof name, "optim.%s.%s", gdl_model_param_name(o->m, i), k ? "v" : "m");
        gdl_tensor *src = gdl_arrays_get(in, name);
        if (!src || !gdl_shape_eq(gdl_tensor_shape(src), gdl_tensor_shape(dst)))
          return gdl_error(GDL_ERR_FORMAT, "%s: optimiser state '%s' is missing or has the wrong shape",
                           source, name);
        if (pass) gdl_tensor_copy(dst, src);
      }
  o->t = (int64_t)gdl_tensor_get(t, 0);
  return GDL_OK;
}

double gdl_sched_lr(const gdl_sched *s, double epoch) {
  double lr = s->base_lr;
  switch (s->kind) {
    case GDL_SCHED_CONSTANT: break;
    case GDL_SCHED_STEP:
      if (s->step_epochs > 0) lr *= pow(s->gamma, floor(epoch / s->step_epochs));
      break;
    case GDL_SCHED_COSINE: {
      double span = s->total_epochs - s->warmup_epochs, t = epoch - s->warmup_epochs;
      if (span > 0 && t > 0) {
        double f = t < span ? t / span : 1;
        lr = s->min_lr + (s->base_lr - s->min_lr) * 0.5 * (1 + cos(3.14159265358979323846 * f));
      }
      break;
    }
  }
  if (s->warmup_epochs > 0 && epoch < s->warmup_epochs) lr = s->base_lr * epoch / s->warmup_epochs;
  return lr;
}
