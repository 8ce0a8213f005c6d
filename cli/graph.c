/* gdl train / eval for graph configs ([data] dataset = planetoid | npz-graph | tu):
 * node classification on one graph (masks; full batch or sampled mini-batches) and
 * graph classification over many small graphs (batches, stratified k-fold). The
 * output mirrors cli/train.c: epoch lines, metrics.csv, loss.png and accuracy.png,
 * model.safetensors, and a last machine-readable line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "gdl/graph.h"

static const char *const graph_datasets[] = {"planetoid", "npz-graph", "tu", NULL};
enum { PLANETOID, NPZ_GRAPH, TU };
static const char *const splits[] = {"gdl", "sklearn", NULL};
enum { SPLIT_GDL, SPLIT_SKLEARN };

/* The positional argument and the --set overrides of argv, without printing. */
static gdl_config *peek_config(int argc, char **argv) {
  const char *file = NULL;
  char *sets[64];
  int nsets = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2)) {
      if (!file) file = a;
      continue;
    }
    bool has_value = !strchr(a, '=') && strcmp(a, "--resume") && strcmp(a, "--quiet") && strcmp(a, "--help");
    const char *v = strchr(a, '=') ? strchr(a, '=') + 1 : has_value && i + 1 < argc ? argv[i + 1] : NULL;
    if (!strncmp(a, "--set", 5) && v && nsets < 64) sets[nsets++] = (char *)v;
    if (has_value) i++;
  }
  if (!file) return NULL;
  gdl_config *cfg = gdl_config_load(file);
  for (int i = 0; cfg && i < nsets; i++)
    if (gdl_config_override(cfg, sets[i])) {
      gdl_config_free(cfg);
      cfg = NULL;
    }
  gdl_clear_error();
  return cfg;
}

bool cli_graph_config(int argc, char **argv) {
  gdl_config *cfg = peek_config(argc, argv);
  if (!cfg) return false;
  const char *ds = NULL;
  gdl_section *s = gdl_config_find(cfg, "data");
  if (s) gdl_section_str(s, "dataset", NULL, &ds);
  bool yes = false;
  for (int i = 0; ds && graph_datasets[i]; i++) yes |= !strcmp(ds, graph_datasets[i]);
  gdl_config_free(cfg);
  gdl_clear_error();
  return yes;
}

/* ---- [train] --------------------------------------------------------------------------- */

typedef struct {
  gdl_graph_train_opts o;
  gdl_dtype dtype;
  int64_t threads;
  const char *output;
} gtrain_cfg;

static gdl_status read_gtrain(gdl_section *s, gtrain_cfg *t) {
  static const char *const selects[] = {"accuracy", "loss", "accuracy_and_loss", NULL};
  t->o = gdl_graph_train_defaults();
  int n, sel = 0;
  gdl_status st = cli_read_train(s, (cli_train_defaults){200, 32, 0.01, 50, 0.5}, &t->o.base, &t->dtype, &t->threads,
                                 &t->output);
  if (!st) st = gdl_section_ints(s, "weight_decay_layers", t->o.decay_layers, 16, &t->o.ndecay);
  if (!st) st = gdl_section_enum(s, "select", selects, 0, &sel);
  t->o.select = sel;
  if (!st) st = gdl_section_int(s, "steps_per_epoch", 0, &t->o.steps_per_epoch);
  if (!st && t->o.steps_per_epoch < 0) st = gdl_section_error(s, "steps_per_epoch", "must be 0 (one pass) or more");
  if (!st) st = gdl_section_ints(s, "fanout", t->o.fanout, 16, &n);
  t->o.nfanout = st ? 0 : n;
  if (st) return st;
  for (int i = 0; i < t->o.nfanout; i++)
    if (t->o.fanout[i] == 0 || t->o.fanout[i] < -1) return gdl_section_error(s, "fanout", "entries must be > 0 or -1 (all)");
  return GDL_OK;
}

/* ---- logs: epoch lines, metrics.csv, PNG curves ------------------------------------------------ */

typedef struct {
  bool quiet;
  const char *dir;
  gdl_epoch_log *log;
  int64_t nlog, cap;
  gdl_status write_status;
} glog;

static gdl_status write_logs(const char *dir, const gdl_epoch_log *log, int64_t n, const char *vname) {
  size_t cap = 256 + (size_t)n * 160, w = 0;
  char *csv = malloc(cap), path[4200];
  w += (size_t)snprintf(csv + w, cap - w, "epoch,lr,train_loss,train_accuracy,%s_loss,%s_accuracy,seconds\n", vname,
                        vname);
  for (int64_t i = 0; i < n; i++)
    w += (size_t)snprintf(csv + w, cap - w, "%lld,%.6g,%.6f,%.6f,%.6f,%.6f,%.3f\n", (long long)log[i].epoch + 1,
                          log[i].lr, log[i].train_loss, log[i].train_acc, log[i].val_loss, log[i].val_acc,
                          log[i].seconds);
  snprintf(path, sizeof path, "%s/metrics.csv", dir);
  gdl_status st = cli_write_file(path, csv, w);
  free(csv);
  if (st || n < 1) return st;
  double *x = malloc(5 * sizeof(double) * (size_t)n), *tl = x + n, *vl = tl + n, *ta = vl + n, *va = ta + n;
  for (int64_t i = 0; i < n; i++) {
    x[i] = (double)log[i].epoch + 1;
    tl[i] = log[i].train_loss, vl[i] = log[i].val_loss;
    ta[i] = 100 * log[i].train_acc, va[i] = 100 * log[i].val_acc;
  }
  gdl_series loss[2] = {{"train", x, tl, (int)n}, {vname, x, vl, (int)n}};
  gdl_series acc[2] = {{"train", x, ta, (int)n}, {vname, x, va, (int)n}};
  gdl_plot_opts lo = {"Loss", "epoch", "cross-entropy", 0, 0}, ao = {"Accuracy", "epoch", "accuracy (%)", 0, 0};
  snprintf(path, sizeof path, "%s/loss.png", dir);
  st = gdl_plot_png(path, loss, 2, &lo);
  snprintf(path, sizeof path, "%s/accuracy.png", dir);
  if (!st) st = gdl_plot_png(path, acc, 2, &ao);
  free(x);
  return st;
}

static bool on_epoch(const gdl_epoch_log *e, void *user) {
  glog *r = user;
  if (r->nlog == r->cap) {
    r->cap = r->cap ? 2 * r->cap : 256;
    r->log = realloc(r->log, (size_t)r->cap * sizeof *r->log);
  }
  while (r->nlog > 0 && r->log[r->nlog - 1].epoch >= e->epoch) r->nlog--;
  r->log[r->nlog++] = *e;
  if (!r->quiet) {
    printf("epoch %lld  lr %.3g  train_loss %.4f  train_acc %.4f  val_loss %.4f  val_acc %.4f  %.2fs\n",
           (long long)e->epoch + 1, e->lr, e->train_loss, e->train_acc, e->val_loss, e->val_acc, e->seconds);
    fflush(stdout);
  }
  /* PNGs cost more than a small graph's epoch: write every 25 epochs and at the end */
  if (r->dir && (e->epoch + 1) % 25 == 0) r->write_status = write_logs(r->dir, r->log, r->nlog, "val");
  return r->write_status == GDL_OK;
}

/* ---- the session: config, data, model ---------------------------------------------------------- */

typedef struct {
  gdl_config *cfg;
  gtrain_cfg t;
  int kind;
  gdl_graph *g;      /* node classification */
  gdl_graph_set *set; /* graph classification */
  int64_t folds, fold, num_classes, num_features;
  int *fold_of;
  char outdir[4096];
} gsession;

static void gsession_close(gsession *s) {
  gdl_graph_free(s->g);
  gdl_graph_set_free(s->set);
  free(s->fold_of);
  gdl_config_free(s->cfg);
}

/* Fold files (GIN's test_idx-<k>.txt, 0-based indices, k = 1..folds) into fold_of
 * (-1: never tested). */
static gdl_status read_fold_files(const char *dir, int64_t folds, int64_t n, int *fold_of) {
  for (int64_t i = 0; i < n; i++) fold_of[i] = -1;
  for (int64_t k = 0; k < folds; k++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/test_idx-%lld.txt", dir, (long long)k + 1);
    FILE *f = fopen(path, "r");
    if (!f) return gdl_error(GDL_ERR_IO, "%s: cannot open", path);
    long long v;
    int line = 0, rc;
    while ((rc = fscanf(f, "%lld", &v)) == 1) {
      line++;
      if (v < 0 || v >= n || fold_of[v] >= 0) {
        fclose(f);
        return gdl_error(GDL_ERR_FORMAT, "%s:%d: index %lld is out of range or in two folds", path, line, v);
      }
      fold_of[v] = (int)k;
    }
    bool bad = rc != EOF;
    fclose(f);
    if (bad) return gdl_error(GDL_ERR_FORMAT, "%s:%d: expected an integer", path, line + 1);
  }
  /* graphs in no test fold (3 of PROTEINS' 1113 in GIN's files) train in every fold */
  return GDL_OK;
}

static int gsession_open(gsession *s, const cli_args *a) {
  memset(s, 0, sizeof *s);
  if (!(s->cfg = cli_config_open(a->file, (char **)a->sets, a->nsets))) return 1;
  if (read_gtrain(gdl_config_find(s->cfg, "train"), &s->t)) return 1;
  if (s->t.output) {
    snprintf(s->outdir, sizeof s->outdir, "%s", s->t.output);
  } else {
    const char *base = strrchr(a->file, '/');
    base = base ? base + 1 : a->file;
    size_t len = strlen(base);
    if (len > 4 && !strcmp(base + len - 4, ".ini")) len -= 4;
    snprintf(s->outdir, sizeof s->outdir, "out/%.*s", (int)len, base);
  }
  gdl_set_threads(a->threads ? a->threads : (int)s->t.threads);
  gdl_section *d = gdl_config_find(s->cfg, "data");
  const char *path, *name, *folds_dir;
  bool normalize, use_attr;
  int64_t seed;
  int split;
  gdl_status st = gdl_section_enum(d, "dataset", graph_datasets, 0, &s->kind);
  if (!st) st = gdl_section_str(d, "name", s->kind == TU ? "MUTAG" : "cora", &name);
  if (st) return 1;
  char defpath[1024];
  if (s->kind == PLANETOID) snprintf(defpath, sizeof defpath, "../shared/data/planetoid/%s.npz", name);
  else if (s->kind == TU) snprintf(defpath, sizeof defpath, "../shared/data/tu/%s", name);
  else defpath[0] = 0;
  st = gdl_section_str(d, "path", defpath[0] ? defpath : NULL, &path);
  if (!st && !path) st = gdl_section_error(d, "path", "is required for dataset = npz-graph");
  if (!st) st = gdl_section_bool(d, "normalize_features", s->kind == PLANETOID, &normalize);
  if (st) return 1;
  if (s->kind != TU) {
    if (!(s->g = gdl_graph_load_npz(path))) return 1;
    if (!s->g->x || !s->g->y || !s->g->train_mask || !s->g->test_mask)
      return gdl_error(GDL_ERR_FORMAT, "%s: node classification needs x, y, train_mask and test_mask", path), 1;
    if (normalize) gdl_graph_normalize_features(s->g->x);
    s->num_features = s->g->x->shape[1];
    for (int64_t i = 0; i < s->g->num_nodes; i++)
      if (((int64_t *)s->g->y->data)[i] + 1 > s->num_classes) s->num_classes = ((int64_t *)s->g->y->data)[i] + 1;
  } else {
    st = gdl_section_bool(d, "use_node_attr", false, &use_attr);
    if (!st) st = gdl_section_int(d, "folds", 10, &s->folds);
    if (!st) st = gdl_section_int(d, "fold", -1, &s->fold);
    if (!st) st = gdl_section_enum(d, "split", splits, SPLIT_GDL, &split);
    if (!st) st = gdl_section_int(d, "split_seed", 0, &seed);
    if (!st && split == SPLIT_SKLEARN && (seed < 0 || seed > UINT32_MAX))
      st = gdl_section_error(d, "split_seed", "must lie in 0..2^32-1 for split = sklearn (numpy's seeds)");
    if (!st) st = gdl_section_str(d, "folds_dir", NULL, &folds_dir);
    if (!st && (s->folds < 2 || s->fold >= s->folds)) st = gdl_section_error(d, "folds", "need folds >= 2 and fold < folds");
    if (st) return 1;
    const char *slash = strrchr(path, '/');
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    if (!(s->set = gdl_graph_set_load_tu(dir, slash ? slash + 1 : path, use_attr))) return 1;
    if (normalize)
      for (int64_t i = 0; i < s->set->n; i++) gdl_graph_normalize_features(s->set->graphs[i]->x);
    s->num_features = s->set->num_features;
    s->num_classes = s->set->num_classes;
    s->fold_of = malloc((size_t)s->set->n * sizeof *s->fold_of);
    int64_t *y = malloc((size_t)s->set->n * sizeof *y);
    for (int64_t i = 0; i < s->set->n; i++) y[i] = ((int64_t *)s->set->graphs[i]->y->data)[0];
    if (folds_dir) st = read_fold_files(folds_dir, s->folds, s->set->n, s->fold_of);
    else if (split == SPLIT_SKLEARN)
      st = gdl_stratified_kfold_sklearn(y, s->set->n, (int)s->folds, (uint32_t)seed, s->fold_of);
    else st = gdl_stratified_kfold(y, s->set->n, (int)s->folds, (uint64_t)seed, s->fold_of);
    free(y);
    if (st) return 1;
  }
  return 0;
}

static gdl_model *build_model(gsession *s, uint64_t seed) {
  gdl_model *m = cli_model_build(s->cfg, GDL_SHAPE(s->num_features), s->t.dtype, seed);
  if (!m) return NULL;
  gdl_shape out = gdl_model_out_shape(m);
  if (out.ndim != 1 || out.d[0] < s->num_classes) {
    gdl_error(GDL_ERR_SHAPE, "%s: the model's output per %s must be [%lld] (one score per class)",
              gdl_config_file(s->cfg), s->kind == TU ? "graph" : "node", (long long)s->num_classes);
    gdl_model_free(m);
    return NULL;
  }
  return m;
}

static gdl_status save_model(const gdl_model *m, const char *path) {
  gdl_arrays *state = gdl_arrays_new();
  gdl_status st = gdl_model_state(m, state);
  if (!st) st = gdl_safetensors_save(path, state);
  gdl_arrays_free(state);
  return st;
}

/* ---- train ------------------------------------------------------------------------------------------ */

static int train_nodes(gsession *s, const cli_args *a) {
  gdl_model *m = build_model(s, s->t.o.base.seed);
  if (!m || gdl_config_check_unused(s->cfg)) return gdl_model_free(m), cli_fail();
  char ckpt[4200], final[4200];
  snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", s->outdir);
  snprintf(final, sizeof final, "%s/model.safetensors", s->outdir);
  glog r = {.quiet = a->quiet, .dir = s->outdir};
  gdl_graph_train_opts o = s->t.o;
  o.base.on_epoch = on_epoch;
  o.base.user = &r;
  o.base.checkpoint = ckpt;
  o.base.resume = a->resume;
  int64_t ntr = 0, nva = 0, nte = 0;
  for (int64_t i = 0; i < s->g->num_nodes; i++) {
    ntr += gdl_tensor_get(s->g->train_mask, i) != 0;
    nva += s->g->val_mask && gdl_tensor_get(s->g->val_mask, i) != 0;
    nte += gdl_tensor_get(s->g->test_mask, i) != 0;
  }
  if (!a->quiet)
    printf("%s: graph with %lld nodes, %lld edges, %lld features; %lld training, %lld validation, %lld test nodes;"
           " model %d layers, %lld parameters; %d threads\n",
           a->file, (long long)s->g->num_nodes, (long long)s->g->num_edges, (long long)s->num_features,
           (long long)ntr, (long long)nva, (long long)nte, gdl_model_layer_count(m), (long long)gdl_model_numel(m),
           gdl_get_threads());
  gdl_train_result res;
  gdl_eval_result ev = {0};
  gdl_status st = gdl_graph_train_nodes(m, s->g, &o, &res);
  if (!st && r.write_status) st = r.write_status;
  if (!st) st = write_logs(s->outdir, r.log, r.nlog, "val");
  if (!st) st = gdl_graph_eval_nodes(m, s->g, s->g->test_mask, &ev);
  if (!st) st = save_model(m, final);
  free(r.log);
  gdl_model_free(m);
  if (st) return cli_fail();
  printf("test_accuracy=%.4f test_loss=%.4f val_accuracy=%.4f best_epoch=%lld epochs=%lld seconds=%.2f\n",
         ev.accuracy, ev.loss, res.best_val_acc, (long long)res.best_epoch + 1, (long long)res.epochs_run,
         res.seconds);
  return 0;
}

static double mean_of(const double *v, int64_t n, double *sd) {
  double m = 0, q = 0;
  for (int64_t i = 0; i < n; i++) m += v[i];
  m /= (double)n;
  for (int64_t i = 0; i < n; i++) q += (v[i] - m) * (v[i] - m);
  *sd = n > 1 ? sqrt(q / (double)n) : 0;
  return m;
}

/* k-fold cross-validation: each fold trains on the other folds and is tested on its
 * own. The held-out fold's curve is logged (as PyG's and GIN's scripts do); reported:
 * the mean test accuracy after the last epoch, and the GIN paper's protocol (the
 * epoch whose mean over folds is best). */
static int train_graphs(gsession *s, const cli_args *a) {
  int64_t G = s->set->n, K = s->folds, E = s->t.o.base.epochs;
  int64_t lo = s->fold >= 0 ? s->fold : 0, hi = s->fold >= 0 ? s->fold + 1 : K, nf = hi - lo;
  int64_t *tr = malloc((size_t)G * sizeof *tr), *te = malloc((size_t)G * sizeof *te);
  double *curve = calloc((size_t)(nf * E), sizeof *curve), *final_acc = calloc((size_t)nf, sizeof *final_acc);
  double *final_loss = calloc((size_t)nf, sizeof *final_loss);
  gdl_epoch_log *mean_log = calloc((size_t)E, sizeof *mean_log);
  gdl_status st = GDL_OK;
  double t0 = clock_gettime(CLOCK_MONOTONIC, &(struct timespec){0}) ? 0 : 0;
  struct timespec ts0, ts1;
  clock_gettime(CLOCK_MONOTONIC, &ts0);
  if (!a->quiet)
    printf("%s: %lld graphs, %lld features, %lld classes; %lld-fold cross-validation%s; %d threads\n", a->file,
           (long long)G, (long long)s->num_features, (long long)s->num_classes, (long long)K,
           s->fold >= 0 ? " (one fold)" : "", gdl_get_threads());
  for (int64_t f = lo; f < hi && !st; f++) {
    int64_t ntr = 0, nte = 0;
    for (int64_t i = 0; i < G; i++) {
      if (s->fold_of[i] == f) te[nte++] = i;
      else tr[ntr++] = i;
    }
    gdl_model *m = build_model(s, s->t.o.base.seed * 1000 + (uint64_t)f);
    if (!m) {
      st = GDL_ERR_CONFIG;
      break;
    }
    if (f == lo && (st = gdl_config_check_unused(s->cfg))) {
      gdl_model_free(m);
      break;
    }
    glog r = {.quiet = true};
    gdl_graph_train_opts o = s->t.o;
    o.base.on_epoch = on_epoch;
    o.base.user = &r;
    o.base.restore_best = false; /* no validation split: the held-out fold only reports */
    o.base.patience = 0;
    gdl_train_result res;
    gdl_eval_result ev;
    st = gdl_graph_train_graphs(m, s->set, tr, ntr, te, nte, &o, &res);
    if (!st) st = gdl_graph_eval_graphs(m, s->set, te, nte, 256, &ev);
    if (!st) {
      int64_t k = f - lo;
      final_acc[k] = ev.accuracy;
      final_loss[k] = ev.loss;
      for (int64_t e = 0; e < r.nlog && e < E; e++) {
        curve[k * E + e] = r.log[e].val_acc;
        gdl_epoch_log *ml = &mean_log[e];
        ml->epoch = e;
        ml->lr = r.log[e].lr;
        ml->train_loss += r.log[e].train_loss / (double)nf;
        ml->train_acc += r.log[e].train_acc / (double)nf;
        ml->val_loss += r.log[e].val_loss / (double)nf;
        ml->val_acc += r.log[e].val_acc / (double)nf;
        ml->seconds += r.log[e].seconds;
      }
      if (!a->quiet) {
        printf("fold %lld/%lld  train %lld graphs  test %lld graphs  train_acc %.4f  test_loss %.4f  test_acc %.4f  %.1fs\n",
               (long long)f + 1, (long long)K, (long long)ntr, (long long)nte, r.nlog ? r.log[r.nlog - 1].train_acc : 0,
               ev.loss, ev.accuracy, res.seconds);
        fflush(stdout);
      }
      char path[4200];
      snprintf(path, sizeof path, "%s/model_fold%lld.safetensors", s->outdir, (long long)f + 1);
      st = save_model(m, path);
    }
    free(r.log);
    gdl_model_free(m);
  }
  (void)t0;
  if (!st) st = write_logs(s->outdir, mean_log, E, "test");
  clock_gettime(CLOCK_MONOTONIC, &ts1);
  double secs = (double)(ts1.tv_sec - ts0.tv_sec) + 1e-9 * (double)(ts1.tv_nsec - ts0.tv_nsec);
  if (!st) {
    double sd, sdg, sdl, acc = mean_of(final_acc, nf, &sd), loss = mean_of(final_loss, nf, &sdl);
    int64_t best = 0;
    double *col = malloc((size_t)nf * sizeof *col), bestm = -1;
    for (int64_t e = 0; e < E; e++) {
      for (int64_t k = 0; k < nf; k++) col[k] = curve[k * E + e];
      double mm = mean_of(col, nf, &sdg);
      if (mm > bestm) bestm = mm, best = e;
    }
    for (int64_t k = 0; k < nf; k++) col[k] = curve[k * E + best];
    double gin = mean_of(col, nf, &sdg);
    free(col);
    printf("test_accuracy=%.4f test_accuracy_std=%.4f test_loss=%.4f gin_protocol_accuracy=%.4f "
           "gin_protocol_std=%.4f gin_protocol_epoch=%lld folds=%lld epochs=%lld seconds=%.1f\n",
           acc, sd, loss, gin, sdg, (long long)best + 1, (long long)nf, (long long)E, secs);
  }
  free(tr), free(te), free(curve), free(final_acc), free(final_loss), free(mean_log);
  return st ? cli_fail() : 0;
}

static const char gtrain_usage[] =
    "usage: gdl train CONFIG [--set section.key=value ...] [--resume] [--quiet] [--threads N]\n"
    "\n"
    "Graph configs ([data] dataset = planetoid | npz-graph | tu; keys in docs/config.md,\n"
    "section Graphs). Node classification trains on train_mask and keeps the best\n"
    "validation epoch ([train] select: accuracy, loss or accuracy_and_loss); graph\n"
    "classification runs k-fold cross-validation.\n"
    "Writes metrics.csv, loss.png, accuracy.png and model.safetensors (model_fold<k> for\n"
    "cross-validation) to the output folder. The last line is machine-readable:\n"
    "test_accuracy=... test_loss=... epochs=... seconds=... (k-fold: also test_accuracy_std=...)\n";

int cli_graph_train(int argc, char **argv) {
  cli_args a;
  int rc = cli_parse_args(argc, argv, gtrain_usage, "set resume quiet threads", &a);
  if (rc >= 0) return rc;
  gsession s;
  if (gsession_open(&s, &a) || cli_mkdirs(s.outdir)) {
    gsession_close(&s);
    return cli_fail();
  }
  rc = s.kind == TU ? train_graphs(&s, &a) : train_nodes(&s, &a);
  gsession_close(&s);
  return rc;
}

/* ---- eval --------------------------------------------------------------------------------------------- */

static const char geval_usage[] =
    "usage: gdl eval CONFIG --checkpoint FILE [--set section.key=value ...] [--threads N]\n"
    "\n"
    "Graph configs: the test nodes (test_mask) or, for TU datasets, the graphs of the\n"
    "test fold [data] fold (default 0). Prints test_accuracy=... test_loss=... n=...\n";

int cli_graph_eval(int argc, char **argv) {
  cli_args a;
  int rc = cli_parse_args(argc, argv, geval_usage, "set checkpoint threads", &a);
  if (rc >= 0) return rc;
  if (!a.checkpoint) return cli_failf("eval: --checkpoint FILE is required\n\n%s", geval_usage), 2;
  gsession s;
  gdl_model *m = NULL;
  gdl_eval_result ev = {0};
  gdl_status st = gsession_open(&s, &a) ? GDL_ERR_ARG : GDL_OK;
  if (!st && !(m = build_model(&s, s.t.o.base.seed))) st = GDL_ERR_CONFIG;
  if (!st) st = gdl_config_check_unused(s.cfg);
  if (!st) st = gdl_checkpoint_load(a.checkpoint, m, NULL, NULL, NULL);
  if (!st && s.kind != TU) st = gdl_graph_eval_nodes(m, s.g, s.g->test_mask, &ev);
  if (!st && s.kind == TU) {
    int64_t n = 0, f = s.fold >= 0 ? s.fold : 0;
    int64_t *idx = malloc((size_t)s.set->n * sizeof *idx);
    for (int64_t i = 0; i < s.set->n; i++)
      if (s.fold_of[i] == f) idx[n++] = i;
    st = gdl_graph_eval_graphs(m, s.set, idx, n, 256, &ev);
    free(idx);
  }
  gdl_model_free(m);
  gsession_close(&s);
  if (st) return cli_fail();
  printf("test_accuracy=%.4f test_loss=%.4f n=%lld\n", ev.accuracy, ev.loss, (long long)ev.n);
  return 0;
}

/* gdl info on a graph config: the model for the dataset's node features. */
int cli_graph_info(const cli_args *a) {
  gsession s;
  gdl_model *m = NULL;
  gdl_status st = gsession_open(&s, a) ? GDL_ERR_ARG : GDL_OK;
  if (!st && !(m = build_model(&s, 1))) st = GDL_ERR_CONFIG;
  if (!st) st = gdl_config_check_unused(s.cfg);
  if (!st) cli_model_summary(a->file, m, GDL_SHAPE(s.num_features), s.kind == TU ? "node (graph classification)" : "node");
  gdl_model_free(m);
  gsession_close(&s);
  return st ? cli_fail() : 0;
}
