/* gdl train / eval / predict. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- the [train] section --------------------------------------------------- */

typedef struct {
  gdl_train_opts o;
  gdl_dtype dtype;
  int64_t threads, eval_batch;
  const char *output;
} train_cfg;

static gdl_status read_train(gdl_section *s, train_cfg *t) {
  gdl_status st = cli_read_train(s, (cli_train_defaults){10, 64, 0, 10, 0.1}, &t->o, &t->dtype, &t->threads, &t->output);
  if (!st) st = gdl_section_int(s, "eval_batch_size", 1000, &t->eval_batch);
  if (!st && t->eval_batch < 1) st = gdl_section_error(s, "eval_batch_size", "must be at least 1");
  return st;
}

/* out/<config file name without .ini> unless [train] output says otherwise. */
static void default_output(const char *config, char *buf, size_t n) {
  const char *base = strrchr(config, '/');
  base = base ? base + 1 : config;
  size_t len = strlen(base);
  if (len > 4 && !strcmp(base + len - 4, ".ini")) len -= 4;
  snprintf(buf, n, "out/%.*s", (int)len, base);
}

/* ---- progress and logs -------------------------------------------------------- */

typedef struct {
  bool tty, quiet;
  double last_draw;
  gdl_epoch_log *log;
  int64_t nlog, caplog;
  const char *dir;
  gdl_status write_status;
} reporter;

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fmt_time(double s, char *buf, size_t n) {
  if (!(s >= 0) || s > 360000) s = 0;
  int t = (int)(s + 0.5);
  if (t >= 3600) snprintf(buf, n, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  else snprintf(buf, n, "%d:%02d", t / 60, t % 60);
}

static void on_progress(const gdl_progress *p, void *user) {
  reporter *r = user;
  if (!r->tty || r->quiet) return;
  double now = wall();
  if (now - r->last_draw < 0.1 && p->step + 1 < p->steps) return;
  r->last_draw = now;
  int width = 30, fill = (int)((double)width * (double)(p->step + 1) / (double)p->steps);
  char bar[64], eta[32];
  for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
  bar[width] = 0;
  fmt_time(p->eta_s, eta, sizeof eta);
  printf("\r\033[Kepoch %lld/%lld [%s] %3d%%  loss %.4f  %.0f samples/s  ETA %s", (long long)p->epoch + 1,
         (long long)p->epochs, bar, (int)(100 * (p->step + 1) / p->steps), p->loss, p->samples_per_s, eta);
  fflush(stdout);
}

static gdl_status write_logs(reporter *r) {
  size_t cap = 256 + (size_t)r->nlog * 160, w = 0;
  char *csv = malloc(cap);
  w += (size_t)snprintf(csv + w, cap - w, "epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,seconds\n");
  for (int64_t i = 0; i < r->nlog; i++) {
    gdl_epoch_log *e = &r->log[i];
    w += (size_t)snprintf(csv + w, cap - w, "%lld,%.6g,%.6f,%.6f,%.6f,%.6f,%.3f\n", (long long)e->epoch + 1, e->lr,
                          e->train_loss, e->train_acc, e->val_loss, e->val_acc, e->seconds);
  }
  char path[4200];
  snprintf(path, sizeof path, "%s/metrics.csv", r->dir);
  gdl_status st = cli_write_file(path, csv, w);
  free(csv);
  if (st || r->nlog < 1) return st;
  double *x = malloc(5 * sizeof(double) * (size_t)r->nlog), *tl = x + r->nlog, *vl = tl + r->nlog,
         *ta = vl + r->nlog, *va = ta + r->nlog;
  for (int64_t i = 0; i < r->nlog; i++) {
    x[i] = (double)r->log[i].epoch + 1;
    tl[i] = r->log[i].train_loss;
    vl[i] = r->log[i].val_loss;
    ta[i] = 100 * r->log[i].train_acc;
    va[i] = 100 * r->log[i].val_acc;
  }
  int n = (int)r->nlog;
  gdl_series loss[2] = {{"train", x, tl, n}, {"validation", x, vl, n}};
  gdl_series acc[2] = {{"train", x, ta, n}, {"validation", x, va, n}};
  gdl_plot_opts lo = {"Loss", "epoch", "cross-entropy", 0, 0}, ao = {"Accuracy", "epoch", "accuracy (%)", 0, 0};
  snprintf(path, sizeof path, "%s/loss.png", r->dir);
  st = gdl_plot_png(path, loss, 2, &lo);
  snprintf(path, sizeof path, "%s/accuracy.png", r->dir);
  if (!st) st = gdl_plot_png(path, acc, 2, &ao);
  free(x);
  return st;
}

static bool on_epoch(const gdl_epoch_log *e, void *user) {
  reporter *r = user;
  if (r->nlog == r->caplog) {
    r->caplog = r->caplog ? 2 * r->caplog : 64;
    r->log = realloc(r->log, (size_t)r->caplog * sizeof *r->log);
  }
  /* A resumed run replaces rows from the epoch it restarts at. */
  while (r->nlog > 0 && r->log[r->nlog - 1].epoch >= e->epoch) r->nlog--;
  r->log[r->nlog++] = *e;
  if (!r->quiet) {
    if (r->tty) printf("\r\033[K");
    printf("epoch %lld  lr %.3g  train_loss %.4f  train_acc %.4f  val_loss %.4f  val_acc %.4f  %.1fs\n",
           (long long)e->epoch + 1, e->lr, e->train_loss, e->train_acc, e->val_loss, e->val_acc, e->seconds);
    fflush(stdout);
  }
  r->write_status = write_logs(r);
  return r->write_status == GDL_OK;
}

/* Rows of an earlier run's metrics.csv, so a resumed run keeps its history. */
static void read_old_log(reporter *r) {
  char path[4200], line[512];
  snprintf(path, sizeof path, "%s/metrics.csv", r->dir);
  FILE *f = fopen(path, "r");
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    gdl_epoch_log e;
    long long ep;
    if (sscanf(line, "%lld,%lf,%lf,%lf,%lf,%lf,%lf", &ep, &e.lr, &e.train_loss, &e.train_acc, &e.val_loss,
               &e.val_acc, &e.seconds) != 7)
      continue;
    e.epoch = ep - 1;
    if (r->nlog == r->caplog) {
      r->caplog = r->caplog ? 2 * r->caplog : 64;
      r->log = realloc(r->log, (size_t)r->caplog * sizeof *r->log);
    }
    r->log[r->nlog++] = e;
  }
  fclose(f);
}

/* ---- train ---------------------------------------------------------------------------- */

static const char train_usage[] =
    "usage: gdl train CONFIG [--set section.key=value ...] [--resume] [--quiet] [--threads N]\n"
    "\n"
    "Trains the model described by CONFIG (INI; keys in docs/config.md) and writes to its\n"
    "output folder (default out/<config name>): checkpoint.safetensors (after every epoch),\n"
    "model.safetensors (final weights, PyTorch names), metrics.csv, loss.png, accuracy.png.\n"
    "The last line printed is machine-readable: test_accuracy=... test_loss=... epochs=... seconds=...\n"
    "  --set k=v   override a config key (section.key, or name#k.key for the k-th [name])\n"
    "  --resume    continue from the output folder's checkpoint\n"
    "  --quiet     no per-epoch lines\n";

/* Everything train, eval and predict share: config, data, model. */
typedef struct {
  gdl_config *cfg;
  train_cfg t;
  cli_data data;
  gdl_model *model;
  char outdir[4096];
} session;

static void session_close(session *s) {
  gdl_model_free(s->model);
  cli_data_free(&s->data);
  gdl_config_free(s->cfg);
}

static int session_open(session *s, const cli_args *a, bool need_data) {
  memset(s, 0, sizeof *s);
  if (!(s->cfg = cli_config_open(a->file, (char **)a->sets, a->nsets))) return 1;
  if (read_train(gdl_config_find(s->cfg, "train"), &s->t)) return 1;
  if (s->t.output) snprintf(s->outdir, sizeof s->outdir, "%s", s->t.output);
  else default_output(a->file, s->outdir, sizeof s->outdir);
  gdl_set_threads(a->threads ? a->threads : (int)s->t.threads);
  gdl_section *ds = gdl_config_find(s->cfg, "data");
  if (!need_data) { /* predict builds its model once it knows the input's shape */
    gdl_section_mark_used(ds);
    return 0;
  }
  if (cli_data_load(ds, s->t.o.seed, &s->data)) return 1;
  if (!s->data.train.x)
    return gdl_error(GDL_ERR_CONFIG, "%s: [data] dataset = none: there is nothing to train or evaluate on", a->file), 1;
  if (!(s->model = cli_model_build(s->cfg, s->data.sample_shape, s->t.dtype, s->t.o.seed))) return 1;
  if (gdl_config_check_unused(s->cfg)) return 1;
  gdl_shape out = gdl_model_out_shape(s->model);
  if (out.ndim != 1 || out.d[0] < s->data.num_classes)
    return gdl_error(GDL_ERR_SHAPE, "%s: the model's output per sample must be [%lld] (one score per class)",
                     a->file, (long long)s->data.num_classes), 1;
  return 0;
}

int cli_train(int argc, char **argv) {
  if (cli_graph_config(argc, argv)) return cli_graph_train(argc, argv); /* cli/graph.c */
  cli_args a;
  int rc = cli_parse_args(argc, argv, train_usage, "set resume quiet threads", &a);
  if (rc >= 0) return rc;
  session s;
  if (session_open(&s, &a, true)) {
    session_close(&s);
    return cli_fail();
  }
  reporter r = {.tty = isatty(1), .quiet = a.quiet, .dir = s.outdir};
  char ckpt[4200], final[4200];
  snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", s.outdir);
  snprintf(final, sizeof final, "%s/model.safetensors", s.outdir);
  if (cli_mkdirs(s.outdir)) {
    session_close(&s);
    return cli_fail();
  }
  if (a.resume) read_old_log(&r);
  gdl_train_opts o = s.t.o;
  o.on_progress = on_progress;
  o.on_epoch = on_epoch;
  o.user = &r;
  o.checkpoint = ckpt;
  o.resume = a.resume;
  if (s.data.augmenting) {
    o.augment = cli_augment_batch;
    o.augment_user = &s.data.augment;
  }
  if (!a.quiet)
    printf("%s: %lld training, %lld validation, %lld test samples; model %d layers, %lld parameters; %d threads\n",
           a.file, (long long)s.data.train.x->shape[0], (long long)(s.data.val.x ? s.data.val.x->shape[0] : 0),
           (long long)s.data.test.x->shape[0], gdl_model_layer_count(s.model), (long long)gdl_model_numel(s.model),
           gdl_get_threads());
  gdl_train_result res;
  gdl_status st = gdl_train(s.model, &s.data.train, s.data.val.x ? &s.data.val : NULL, &o, &res);
  if (!st && r.write_status) st = r.write_status;
  gdl_eval_result ev = {0};
  if (!st) st = gdl_evaluate(s.model, &s.data.test, s.t.eval_batch, &ev);
  if (!st) {
    gdl_arrays *state = gdl_arrays_new();
    st = gdl_model_state(s.model, state);
    if (!st) st = gdl_safetensors_save(final, state);
    gdl_arrays_free(state);
  }
  free(r.log);
  session_close(&s);
  if (st) return cli_fail();
  printf("test_accuracy=%.4f test_loss=%.4f val_accuracy=%.4f best_epoch=%lld epochs=%lld seconds=%.1f\n", ev.accuracy,
         ev.loss, res.best_val_acc, (long long)res.best_epoch + 1, (long long)res.epochs_run, res.seconds);
  return 0;
}

/* ---- eval ------------------------------------------------------------------------------ */

static const char eval_usage[] =
    "usage: gdl eval CONFIG --checkpoint FILE [--rotations SPEC] [--csv FILE] [--set section.key=value ...]\n"
    "                [--threads N]\n"
    "\n"
    "Loads the weights in FILE (a gdl checkpoint or any safetensors file with the model's\n"
    "parameter names) and prints the test set's metrics as one line:\n"
    "test_accuracy=... test_loss=... n=...\n"
    "  --rotations SPEC  evaluate on rotated copies of the test images (bilinear, about the\n"
    "                    centre, black outside): a list '0,90,180', a range 'FROM:TO:STEP'\n"
    "                    (degrees, TO excluded), or 'random' (a uniform angle per image);\n"
    "                    one line per angle: rotation=... test_accuracy=... test_loss=...\n"
    "  --csv FILE        also write the results as CSV (rotation,accuracy,loss)\n";

/* Angles from "a,b,c", "from:to:step" or "random" (NAN stands for random). */
static int parse_rotations(const char *spec, double *out, int max) {
  if (!strcmp(spec, "random")) return out[0] = NAN, 1;
  double a, b, st;
  char tail;
  if (sscanf(spec, "%lf:%lf:%lf%c", &a, &b, &st, &tail) == 3) {
    int n = 0;
    if (!(st > 0)) return -1;
    for (double v = a; v < b - 1e-9 && n < max; v += st) out[n++] = v;
    return n;
  }
  int n = 0;
  for (const char *p = spec; *p && n < max;) {
    char *end;
    out[n++] = strtod(p, &end);
    if (end == p || (*end && *end != ',')) return -1;
    p = *end ? end + 1 : end;
  }
  return n;
}

/* The test set as float images, normalised and rotated by deg (NAN: random per image). */
static gdl_tensor *rotated_test(const gdl_dataset *t, gdl_dtype dt, double deg, uint64_t seed) {
  gdl_tensor *x = gdl_tensor_alloc(dt, gdl_tensor_shape(t->x));
  if (!x) return NULL;
  int64_t n = gdl_tensor_numel(x);
  double scale = t->scale != 0 ? t->scale : 1;
  for (int64_t i = 0; i < n; i++) gdl_tensor_set(x, i, gdl_tensor_get(t->x, i) * scale + t->shift);
  if (isnan(deg)) {
    gdl_rng r = gdl_rng_make(seed);
    gdl_augment_rotate(x, 180, t->shift, &r);
  } else {
    gdl_image_rotate(x, deg, t->shift);
  }
  return x;
}

int cli_eval(int argc, char **argv) {
  if (cli_graph_config(argc, argv)) return cli_graph_eval(argc, argv); /* cli/graph.c */
  cli_args a;
  int rc = cli_parse_args(argc, argv, eval_usage, "set checkpoint threads rotations csv", &a);
  if (rc >= 0) return rc;
  if (!a.checkpoint) return cli_failf("eval: --checkpoint FILE is required\n\n%s", eval_usage), 2;
  double angles[1024];
  int nang = a.rotations ? parse_rotations(a.rotations, angles, 1024) : 0;
  if (nang < 0 || (a.rotations && nang == 0))
    return cli_failf("eval: --rotations '%s': expected a,b,c or FROM:TO:STEP or random", a.rotations), 2;
  session s;
  gdl_eval_result ev;
  gdl_status st = session_open(&s, &a, true) ? GDL_ERR_ARG : GDL_OK;
  if (!st) st = gdl_checkpoint_load(a.checkpoint, s.model, NULL, NULL, NULL);
  if (!st && nang && s.data.test.x->ndim != 4)
    st = gdl_error(GDL_ERR_ARG, "eval: --rotations needs image samples [C, H, W]");
  size_t cap = 64 + 64 * (size_t)(nang + 1), w = 0;
  char *csv = malloc(cap);
  w += (size_t)snprintf(csv, cap, nang ? "rotation,accuracy,loss\n" : "accuracy,loss\n");
  for (int k = 0; !st && k < (nang ? nang : 1); k++) {
    gdl_dataset d = s.data.test;
    if (nang) {
      if (!(d.x = rotated_test(&s.data.test, s.t.dtype, angles[k], s.t.o.seed))) st = GDL_ERR_NOMEM;
      d.scale = 1, d.shift = 0;
    }
    if (!st) st = gdl_evaluate(s.model, &d, s.t.eval_batch, &ev);
    if (nang) gdl_tensor_free(d.x);
    if (st) break;
    if (!nang) {
      printf("test_accuracy=%.4f test_loss=%.4f n=%lld\n", ev.accuracy, ev.loss, (long long)ev.n);
      w += (size_t)snprintf(csv + w, cap - w, "%.6f,%.6f\n", ev.accuracy, ev.loss);
    } else if (isnan(angles[k])) {
      printf("rotation=random test_accuracy=%.4f test_loss=%.4f n=%lld\n", ev.accuracy, ev.loss, (long long)ev.n);
      w += (size_t)snprintf(csv + w, cap - w, "random,%.6f,%.6f\n", ev.accuracy, ev.loss);
    } else {
      printf("rotation=%g test_accuracy=%.4f test_loss=%.4f n=%lld\n", angles[k], ev.accuracy, ev.loss, (long long)ev.n);
      w += (size_t)snprintf(csv + w, cap - w, "%g,%.6f,%.6f\n", angles[k], ev.accuracy, ev.loss);
    }
    fflush(stdout);
  }
  if (!st && a.csv) st = cli_write_file(a.csv, csv, w);
  free(csv);
  session_close(&s);
  return st ? cli_fail() : 0;
}

/* ---- predict ------------------------------------------------------------------------------ */

static const char predict_usage[] =
    "usage: gdl predict CONFIG --checkpoint FILE --input X.npz|X.npy --output Y.npz|Y.npy\n"
    "                   [--set section.key=value ...] [--threads N]\n"
    "\n"
    "Applies the model to the arrays in X (array 'x' of an .npz, or the .npy) exactly as given\n"
    "(no [data] scaling) and writes the outputs as array 'y' (or an .npy). The batch axis comes\n"
    "first; the rest must be the model's per-sample input shape.\n";

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

int cli_predict(int argc, char **argv) {
  cli_args a;
  int rc = cli_parse_args(argc, argv, predict_usage, "set checkpoint input output threads", &a);
  if (rc >= 0) return rc;
  if (!a.checkpoint || !a.input || !a.output)
    return cli_failf("predict: --checkpoint, --input and --output are required\n\n%s", predict_usage), 2;
  if (!ends_with(a.output, ".npz") && !ends_with(a.output, ".npy"))
    return cli_failf("predict: %s: the output must end in .npz or .npy", a.output), 2;
  session s;
  gdl_tensor *x = NULL, *y = NULL;
  gdl_arrays *in = NULL;
  gdl_status st = session_open(&s, &a, false) ? GDL_ERR_ARG : GDL_OK;
  if (!st) {
    if (ends_with(a.input, ".npy")) {
      if (!(x = gdl_npy_load(a.input))) st = GDL_ERR_FORMAT;
    } else if (!(in = gdl_npz_load(a.input))) {
      st = GDL_ERR_FORMAT;
    } else if (!(x = gdl_arrays_get(in, "x")) && gdl_arrays_count(in) == 1) {
      x = gdl_arrays_at(in, 0);
    } else if (!x) {
      st = gdl_error(GDL_ERR_FORMAT, "%s: no array 'x' (and more than one array)", a.input);
    }
  }
  if (!st && (x->ndim < 1 || (!gdl_dtype_is_float(x->dtype) && x->dtype != GDL_U8)))
    st = gdl_error(GDL_ERR_FORMAT, "%s: the input must be a float or uint8 array [N, ...], got %s", a.input,
                   gdl_dtype_name(x->dtype));
  if (!st && (st = gdl_tensor_check_finite(x, "x"))) st = gdl_error(st, "%s: %s", a.input, gdl_last_error());
  if (!st) {
    gdl_shape sample = gdl_tensor_shape(x);
    sample.ndim--;
    memmove(sample.d, sample.d + 1, sizeof(int64_t) * (size_t)sample.ndim);
    if (!(s.model = cli_model_build(s.cfg, sample, s.t.dtype, s.t.o.seed))) st = GDL_ERR_CONFIG;
  }
  if (!st) st = gdl_config_check_unused(s.cfg);
  if (!st) st = gdl_checkpoint_load(a.checkpoint, s.model, NULL, NULL, NULL);
  if (!st && !(y = gdl_predict(s.model, x, 1, 0, s.t.eval_batch))) st = GDL_ERR_NOMEM;
  if (!st) {
    if (ends_with(a.output, ".npy")) {
      st = gdl_npy_save(a.output, y);
    } else {
      gdl_arrays *out = gdl_arrays_new();
      gdl_arrays_put(out, "y", y, false);
      st = gdl_npz_save(a.output, out, false);
      gdl_arrays_free(out);
    }
  }
  if (in) gdl_arrays_free(in);
  else gdl_tensor_free(x);
  gdl_tensor_free(y);
  session_close(&s);
  return st ? cli_fail() : 0;
}
