/* A tiny test harness: CHECK counts, test_report prints "N passed, M failed". */
#ifndef GDL_TEST_H
#define GDL_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gdl.h"

static int test_passed, test_failed;

#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (cond) {                                            \
      test_passed++;                                       \
    } else {                                               \
      test_failed++;                                       \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);          \
      printf(__VA_ARGS__);                                 \
      printf("\n");                                        \
    }                                                      \
  } while (0)

/* |a - b| <= atol + rtol |b| */
#define CHECK_CLOSE(a, b, atol, rtol, ...) \
  CHECK(fabs((double)(a) - (double)(b)) <= (atol) + (rtol) * fabs((double)(b)), __VA_ARGS__)

static inline int test_report(void) {
  printf("%d passed, %d failed\n", test_passed, test_failed);
  return test_failed ? 1 : 0;
}

/* The project root, where ../shared/data is found (set by ctest's WORKING_DIRECTORY). */
#define TEST_DATA(path) "../shared/data/" path

/* The gdl command: $GDL_BIN/../gdl (ctest sets GDL_BIN to the tests' folder), else
 * <folder of argv0>/../gdl. */
static inline void test_gdl_binary(const char *argv0, char *buf, size_t n) {
  const char *bin = getenv("GDL_BIN"), *slash = strrchr(argv0, '/');
  if (bin && *bin) snprintf(buf, n, "%s/../gdl", bin);
  else if (slash) snprintf(buf, n, "%.*s/../gdl", (int)(slash - argv0), argv0);
  else snprintf(buf, n, "../gdl");
}

/* Runs `gdl predict CONFIG --checkpoint WEIGHTS --input INPUT --output <temp>/y.npz`
 * and returns the arrays it wrote (NULL, after a failed CHECK, if anything went wrong). */
static inline gdl_arrays *test_gdl_predict(const char *argv0, const char *config, const char *weights,
                                           const char *input) {
  char exe[4096], dir[] = "/tmp/gdl_test_predict.XXXXXX", out[4200], cmd[12800];
  test_gdl_binary(argv0, exe, sizeof exe);
  bool found = access(exe, X_OK) == 0;
  CHECK(found, "no gdl executable at %s (set GDL_BIN to the tests' build folder)", exe);
  if (!found || !mkdtemp(dir)) return NULL;
  snprintf(out, sizeof out, "%s/y.npz", dir);
  snprintf(cmd, sizeof cmd, "'%s' predict %s --checkpoint %s --input %s --output '%s'", exe, config, weights, input, out);
  int rc = system(cmd);
  bool ok = rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
  CHECK(ok, "`%s` failed (status %d)", cmd, rc);
  gdl_arrays *res = ok ? gdl_npz_load(out) : NULL;
  CHECK(!ok || res, "cannot load %s: %s", out, gdl_last_error());
  remove(out);
  rmdir(dir);
  return res;
}

#endif
