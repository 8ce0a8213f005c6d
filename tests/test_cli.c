/* The gdl command end to end: help, a small training run on .npz data, resume,
 * eval, predict, info, and bad input of every kind: each must fail with one
 * message naming the file and the problem, a non-zero exit, and no output file. */
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static char gdl[2048], dir[256];
static char out[65536];

/* Runs `gdl <args>` (stdout+stderr into out); returns the exit status. */
static int run(const char *fmt, ...) {
  char args[4096], cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  snprintf(cmd, sizeof cmd, "cd %s && %s %s 2>&1", dir, gdl, args);
  FILE *p = popen(cmd, "r");
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = 0;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void write_text(const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static bool exists(const char *name) {
  char path[512];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return stat(path, &st) == 0;
}

/* Two separable classes in 6-D as train.npz / test.npz (x float32, y int64). */
static void write_data(const char *name, int64_t n, uint64_t seed, bool nan, int64_t label_max) {
  gdl_tensor *x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(n, 6)), *y = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(n));
  gdl_rng r = gdl_rng_make(seed);
  for (int64_t i = 0; i < n; i++) {
    int64_t c = (int64_t)gdl_rng_below(&r, (uint64_t)label_max + 1);
    ((int64_t *)y->data)[i] = c;
    for (int k = 0; k < 6; k++) ((float *)x->data)[i * 6 + k] = (float)(gdl_rng_normal(&r) + (k == c % 6 ? 3 : 0));
  }
  if (nan) ((float *)x->data)[7] = NAN;
  gdl_arrays *a = gdl_arrays_new();
  gdl_arrays_put(a, "x", x, true);
  gdl_arrays_put(a, "y", y, true);
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  gdl_npz_save(path, a, true);
  gdl_arrays_free(a);
}

static const char *config =
    "[data]\ndataset = npz\ntrain = train.npz\ntest = test.npz\nvalidation = 100\nnormalize = false\n"
    "[train]\nepochs = 3\nbatch_size = 32\nlr = 0.01\noutput = run\n"
    "[linear]\nout = 16\nactivation = relu\n[linear]\nout = 2\n";

#define EXPECT_FAIL(what, needle, ...)                                                         \
  do {                                                                                         \
    int rc_ = run(__VA_ARGS__);                                                                \
    CHECK(rc_ != 0 && strstr(out, needle) && !strstr(out, "Sanitizer") && rc_ < 128,          \
          "%s: expected a failure mentioning '%s', got rc %d: %s", what, needle, rc_, out);    \
  } while (0)

int main(int argc, char **argv) {
  const char *bin = getenv("GDL_BIN");
  char self[900];
  snprintf(self, sizeof self, "%s", argv[0]);
  char *slash = strrchr(self, '/');
  if (slash) *slash = 0;
  snprintf(gdl, sizeof gdl, "%s/../gdl", bin ? bin : self);
  if (gdl[0] != '/') {
    char cwd[512];
    snprintf(gdl, sizeof gdl, "%s/%s/../gdl", getcwd(cwd, sizeof cwd), bin ? bin : self);
  }
  snprintf(dir, sizeof dir, "/tmp/gdl_cli_XXXXXX");
  CHECK(mkdtemp(dir) != NULL, "temp dir");

  CHECK(run("--version") == 0 && strstr(out, GDL_VERSION), "--version: %s", out);
  CHECK(run("train --help") == 0 && strstr(out, "usage: gdl train"), "train --help");
  CHECK(run("eval --help") == 0 && run("predict --help") == 0 && run("info --help") == 0, "--help everywhere");
  CHECK(run("frobnicate") == 2 && strstr(out, "unknown command"), "unknown command");

  write_data("train.npz", 600, 1, false, 1);
  write_data("test.npz", 200, 2, false, 1);
  write_text("ok.ini", config);
  CHECK(run("train ok.ini --quiet") == 0 && strstr(out, "test_accuracy="), "train: %s", out);
  double acc = -1;
  const char *line = strstr(out, "test_accuracy=");
  if (line) sscanf(line, "test_accuracy=%lf", &acc);
  CHECK(acc > 0.9, "separable data learnt: test_accuracy %.3f", acc);
  CHECK(exists("run/model.safetensors") && exists("run/checkpoint.safetensors") && exists("run/metrics.csv") &&
            exists("run/loss.png") && exists("run/accuracy.png"),
        "train writes its outputs");
  CHECK(run("train ok.ini --quiet --resume --set train.epochs=4") == 0 && strstr(out, "epochs=4"),
        "resume to a fourth epoch: %s", out);
  CHECK(run("eval ok.ini --checkpoint run/model.safetensors") == 0 && strstr(out, "test_accuracy=") &&
            strstr(out, "n=200"),
        "eval: %s", out);
  CHECK(run("predict ok.ini --checkpoint run/model.safetensors --input test.npz --output pred.npz") == 0 &&
            exists("pred.npz"),
        "predict: %s", out);
  char pred[512];
  snprintf(pred, sizeof pred, "%s/pred.npz", dir);
  gdl_arrays *p = gdl_npz_load(pred);
  gdl_tensor *py = p ? gdl_arrays_get(p, "y") : NULL;
  CHECK(py && py->ndim == 2 && py->shape[0] == 200 && py->shape[1] == 2, "predictions are [200, 2]");
  gdl_arrays_free(p);
  CHECK(run("info ok.ini") == 0 && strstr(out, "total parameters: 146"), "info on a config: %s", out);
  CHECK(run("info run/model.safetensors") == 0 && strstr(out, "layers.0.weight") && strstr(out, "[16, 6]"),
        "info on weights: %s", out);
  char cwd[512], gcfg[1200];
  struct stat mutag;
  if (getcwd(cwd, sizeof cwd) && stat(TEST_DATA("tu/MUTAG"), &mutag) == 0) { /* input width from the data */
    snprintf(gcfg, sizeof gcfg, "[data]\ndataset = tu\npath = %s/" TEST_DATA("tu/MUTAG") "\nsplit = sklearn\n"
             "[gin]\nmlp = 8\n[global_add_pool]\n[linear]\nout = 2\n", cwd);
    write_text("gin.ini", gcfg);
    CHECK(run("info gin.ini") == 0 && strstr(out, "inputs [7] per node") && strstr(out, "graph_pool"),
          "info on a graph config: %s", out);
    EXPECT_FAIL("bad split", "split", "info gin.ini --set data.split=random");
  }

  /* ---- bad input ------------------------------------------------------------- */
  EXPECT_FAIL("missing config", "nope.ini", "train nope.ini");
  write_text("unknown_key.ini", "[data]\ndataset = npz\ntrain = train.npz\ntest = test.npz\nvalidation = 0\n[train]\nepohcs = 3\n[linear]\nout = 2\n");
  EXPECT_FAIL("unknown key", "unknown_key.ini:7", "train unknown_key.ini");
  write_text("unknown_section.ini", "[data]\ndataset = npz\ntrain = train.npz\ntest = test.npz\nvalidation = 0\n[convolution]\nout = 2\n");
  EXPECT_FAIL("unknown section", "unknown_section.ini:6", "train unknown_section.ini");
  write_text("bad_value.ini", "[data]\ndataset = npz\ntrain = train.npz\ntest = test.npz\nvalidation = 0\n[train]\nepochs = three\n[linear]\nout = 2\n");
  EXPECT_FAIL("bad value", "three", "train bad_value.ini");
  write_text("malformed.ini", "[data\n");
  EXPECT_FAIL("malformed", "malformed.ini:1", "train malformed.ini");
  EXPECT_FAIL("bad --set", "nosection", "train ok.ini --set nosection.k=1");
  EXPECT_FAIL("unknown option", "--frob", "train ok.ini --frob");
  write_text("missing_data.ini", "[data]\ndataset = npz\ntrain = none.npz\ntest = test.npz\n[linear]\nout = 2\n");
  EXPECT_FAIL("missing data file", "none.npz", "train missing_data.ini");
  write_data("nan.npz", 50, 3, true, 1);
  write_text("nan.ini", "[data]\ndataset = npz\ntrain = nan.npz\ntest = test.npz\nvalidation = 0\n[train]\noutput = nanrun\n[linear]\nout = 2\n");
  EXPECT_FAIL("NaN in data", "NaN", "train nan.ini");
  CHECK(!exists("nanrun"), "no output folder after a failure");
  write_data("labels.npz", 50, 4, false, 4);
  write_text("labels.ini", "[data]\ndataset = npz\ntrain = labels.npz\ntest = test.npz\nvalidation = 0\n[train]\noutput = lrun\n[linear]\nout = 2\n");
  EXPECT_FAIL("labels beyond the model's classes", "class", "train labels.ini");
  CHECK(!exists("lrun/model.safetensors"), "no model written after a failure");
  write_text("trunc.npz", "PK\003\004garbage");
  write_text("trunc.ini", "[data]\ndataset = npz\ntrain = trunc.npz\ntest = test.npz\n[linear]\nout = 2\n");
  EXPECT_FAIL("corrupt npz", "trunc.npz", "train trunc.ini");
  write_text("weights.safetensors", "\x10\0\0\0\0\0\0\0{\"a\":");
  EXPECT_FAIL("corrupt checkpoint", "weights.safetensors", "eval ok.ini --checkpoint weights.safetensors");
  write_text("wide.ini", "[data]\ndataset = npz\ntrain = train.npz\ntest = test.npz\nvalidation = 0\n[linear]\nout = 16\n[linear]\nout = 2\n");
  EXPECT_FAIL("weights of another shape", "[16, 6]", "eval wide.ini --set linear#1.out=8 --checkpoint run/model.safetensors");
  EXPECT_FAIL("predict input of the wrong shape", "layers.0.weight",
              "predict ok.ini --checkpoint run/model.safetensors --input labels.npz --output bad.npz --set linear#1.out=3");
  CHECK(!exists("bad.npz"), "no prediction file after a failure");
  EXPECT_FAIL("info on garbage", "garbage.bin", "info garbage.bin");
  EXPECT_FAIL("missing checkpoint", "absent.safetensors", "eval ok.ini --checkpoint absent.safetensors");

  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (test_failed == 0 && system(cmd)) printf("could not remove %s\n", dir);
  return test_report();
}
