/* Helpers shared by the subcommands: configs, models, files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

gdl_config *cli_config_open(const char *path, char **sets, int nsets) {
  gdl_config *cfg = gdl_config_load(path);
  if (!cfg) return NULL;
  for (int i = 0; i < nsets; i++)
    if (gdl_config_override(cfg, sets[i])) {
      gdl_config_free(cfg);
      return NULL;
    }
  return cfg;
}

gdl_model *cli_model_build(gdl_config *cfg, gdl_shape sample, gdl_dtype dtype, uint64_t seed) {
  gdl_model *m = gdl_model_new(dtype, sample, seed);
  if (gdl_model_add_config(m, cfg)) {
    gdl_model_free(m);
    return NULL;
  }
  if (gdl_model_layer_count(m) == 0) {
    gdl_error(GDL_ERR_CONFIG, "%s: no layer sections: the model is empty", gdl_config_file(cfg));
    gdl_model_free(m);
    return NULL;
  }
  return m;
}

gdl_status cli_mkdirs(const char *path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    bool end = !*p;
    if (*p == '/' || end) {
      *p = 0;
      if (mkdir(buf, 0777) && errno != EEXIST)
        return gdl_error(GDL_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
      if (end) break;
      *p = '/';
    }
  }
  return GDL_OK;
}

gdl_status cli_write_file(const char *path, const char *text, size_t n) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) return gdl_error(GDL_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  bool ok = fwrite(text, 1, n, f) == n;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path)) {
    int e = errno;
    remove(tmp);
    return gdl_error(GDL_ERR_IO, "%s: cannot write: %s", path, strerror(e));
  }
  return GDL_OK;
}

static bool accepts_opt(const char *accepts, const char *name) {
  size_t n = strlen(name);
  for (const char *p = strstr(accepts, name); p; p = strstr(p + 1, name))
    if ((p == accepts || p[-1] == ' ') && (p[n] == ' ' || !p[n])) return true;
  return false;
}

int cli_parse_args(int argc, char **argv, const char *usage, const char *accepts, cli_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      fputs(usage, stdout);
      return 0;
    }
    if (strncmp(arg, "--", 2)) {
      if (a->file) return cli_failf("%s: unexpected argument '%s'\n\n%s", argv[0], arg, usage), 2;
      a->file = arg;
      continue;
    }
    const char *name = arg + 2, *value = NULL;
    char key[32];
    const char *eq = strchr(name, '=');
    size_t klen = eq ? (size_t)(eq - name) : strlen(name);
    snprintf(key, sizeof key, "%.*s", (int)(klen < sizeof key ? klen : sizeof key - 1), name);
    if (!accepts_opt(accepts, key)) return cli_failf("%s: unknown option '%s'\n\n%s", argv[0], arg, usage), 2;
    bool flag = !strcmp(key, "resume") || !strcmp(key, "quiet");
    if (flag) {
      if (!strcmp(key, "resume")) a->resume = true;
      else a->quiet = true;
      continue;
    }
    if (eq) value = eq + 1;
    else if (i + 1 < argc) value = argv[++i];
    else return cli_failf("%s: option --%s needs a value", argv[0], key), 2;
    if (!strcmp(key, "set")) {
      if (a->nsets == 64) return cli_failf("%s: too many --set options", argv[0]), 2;
      a->sets[a->nsets++] = (char *)value;
    } else if (!strcmp(key, "checkpoint")) a->checkpoint = value;
    else if (!strcmp(key, "input")) a->input = value;
    else if (!strcmp(key, "output")) a->output = value;
    else if (!strcmp(key, "rotations")) a->rotations = value;
    else if (!strcmp(key, "csv")) a->csv = value;
    else if (!strcmp(key, "threads")) {
      char *end;
      long t = strtol(value, &end, 10);
      if (*end || t < 0 || t > 1024) return cli_failf("%s: --threads expects a count, got '%s'", argv[0], value), 2;
      a->threads = (int)t;
    }
  }
  if (!a->file) return cli_failf("%s: missing argument\n\n%s", argv[0], usage), 2;
  return -1;
}

/* ---- the [train] keys every task shares ------------------------------------------- */

gdl_status cli_read_train(gdl_section *s, cli_train_defaults d, gdl_train_opts *o, gdl_dtype *dtype,
                          int64_t *threads, const char **output) {
  static const char *const optims[] = {"sgd", "adam", "adamw", NULL};
  static const char *const scheds[] = {"constant", "step", "cosine", NULL};
  static const char *const dtypes[] = {"float32", "float64", NULL};
  *o = gdl_train_defaults();
  int optim, sched, dt;
  int64_t seed;
  gdl_status st = gdl_section_int(s, "epochs", d.epochs, &o->epochs);
  if (!st) st = gdl_section_int(s, "batch_size", d.batch_size, &o->batch_size);
  if (!st) st = gdl_section_int(s, "seed", 1, &seed);
  if (!st) st = gdl_section_enum(s, "optimizer", optims, 1, &optim);
  if (st) return st;
  o->seed = (uint64_t)seed;
  o->optim = gdl_optim_defaults((gdl_optim_kind)optim);
  gdl_optim_opts *p = &o->optim;
  if (d.lr > 0) p->lr = d.lr;
  st = gdl_section_double(s, "lr", p->lr, &p->lr);
  if (!st) st = gdl_section_double(s, "momentum", 0, &p->momentum);
  if (!st) st = gdl_section_bool(s, "nesterov", false, &p->nesterov);
  if (!st) st = gdl_section_double(s, "weight_decay", p->weight_decay, &p->weight_decay);
  if (!st) st = gdl_section_double(s, "beta1", p->beta1, &p->beta1);
  if (!st) st = gdl_section_double(s, "beta2", p->beta2, &p->beta2);
  if (!st) st = gdl_section_double(s, "eps", p->eps, &p->eps);
  if (!st) st = gdl_section_enum(s, "schedule", scheds, 0, &sched);
  o->sched = (gdl_sched){.kind = (gdl_sched_kind)sched, .base_lr = p->lr, .total_epochs = (double)o->epochs};
  if (!st) st = gdl_section_double(s, "step_epochs", d.step_epochs, &o->sched.step_epochs);
  if (!st) st = gdl_section_double(s, "gamma", d.gamma, &o->sched.gamma);
  if (!st) st = gdl_section_double(s, "min_lr", 0, &o->sched.min_lr);
  if (!st) st = gdl_section_double(s, "warmup_epochs", 0, &o->sched.warmup_epochs);
  if (!st) st = gdl_section_double(s, "clip_norm", 0, &o->clip_norm);
  if (!st) st = gdl_section_double(s, "label_smoothing", 0, &o->label_smoothing);
  if (!st) st = gdl_section_int(s, "patience", 0, &o->patience);
  if (!st) st = gdl_section_bool(s, "restore_best", true, &o->restore_best);
  if (!st) st = gdl_section_enum(s, "dtype", dtypes, 0, &dt);
  if (!st) st = gdl_section_int(s, "threads", 0, threads);
  if (!st) st = gdl_section_str(s, "output", NULL, output);
  if (st) return st;
  *dtype = dt ? GDL_F64 : GDL_F32;
  if (o->epochs < 1) return gdl_section_error(s, "epochs", "must be at least 1");
  if (o->batch_size < 1) return gdl_section_error(s, "batch_size", "must be at least 1");
  if (!(p->lr > 0)) return gdl_section_error(s, "lr", "must be positive");
  if (o->label_smoothing < 0 || o->label_smoothing > 1) return gdl_section_error(s, "label_smoothing", "must be in [0, 1]");
  if (*threads < 0) return gdl_section_error(s, "threads", "must be 0 (all cores) or more");
  return GDL_OK;
}
