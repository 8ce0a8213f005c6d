/* The machinery shared by the fixture tests of ops against PyTorch (test_ref.c,
 * test_ref_grid.c). Include it after defining CASES(X): one X(name, number of
 * inputs, float32 check too, gdl expression over x[k] in ctx c) per case, and
 * FIXTURE (the .npz path), TOL64, TOL32 and MAXIN. For each case the fixture holds
 * the inputs in<k>, upstream weights w (absent for ops without gradients), the
 * output out, the gradients grad<k> of L = sum(w * out), the state of input k after
 * the call (after<k>, e.g. running statistics) and, for max pooling, PyTorch's
 * indices (compared with ref_indices, which a case's expression may set). */
#ifndef GDL_TESTS_REF_CASES_H
#define GDL_TESTS_REF_CASES_H

#include <string.h>

#include "gdl/io.h"
#include "test.h"

static gdl_tensor *ref_indices;

typedef gdl_tensor *(*build_fn)(gdl_ctx *c, gdl_tensor **x);

#define DEFINE_CASE(name, nin, f32, ...) \
  static gdl_tensor *build_##name(gdl_ctx *c, gdl_tensor **x) { return __VA_ARGS__; }
CASES(DEFINE_CASE)

typedef struct {
  const char *name;
  int nin;
  bool f32;
  build_fn build;
} ref_case;

#define TABLE_ROW(name, nin, f32, ...) {#name, nin, f32, build_##name},
static const ref_case cases[] = {CASES(TABLE_ROW)};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- comparing ------------------------------------------------------------------ */

static gdl_arrays *fix;

static gdl_tensor *fixture(const char *name, const char *what) {
  char key[160];
  snprintf(key, sizeof key, "%s.%s", name, what);
  return gdl_arrays_get(fix, key);
}

typedef struct {
  double maxdiff; /* largest |gdl - torch| over everything compared */
  int bad;        /* arrays out of tolerance */
} verdict;

/* Compares got (NULL = zeros of ref's shape) with ref, |got - ref| <= tol + tol |ref|;
 * prints the worst element of an array out of tolerance. */
static void compare(verdict *v, const char *name, const char *tag, const char *what,
                    const gdl_tensor *got, const gdl_tensor *ref, double tol) {
  char b1[96], b2[96];
  if (got && !gdl_shape_eq(gdl_tensor_shape(got), gdl_tensor_shape(ref))) {
    printf("FAIL %s%s  %s: shape %s, torch %s\n", name, tag, what,
           gdl_shape_str(gdl_tensor_shape(got), b1, sizeof b1),
           gdl_shape_str(gdl_tensor_shape(ref), b2, sizeof b2));
    v->bad++;
    return;
  }
  int64_t worst = -1, nbad = 0;
  double wexcess = 0;
  for (int64_t i = 0; i < gdl_tensor_numel(ref); i++) {
    double a = got ? gdl_tensor_get(got, i) : 0, b = gdl_tensor_get(ref, i);
    double d = fabs(a - b);
    if (a != b && !(d <= INFINITY)) d = INFINITY; /* NaN */
    if (d > v->maxdiff) v->maxdiff = d;
    double excess = d - (tol + tol * fabs(b));
    if (excess > 0) {
      nbad++;
      if (worst < 0 || excess > wexcess) wexcess = excess, worst = i;
    }
  }
  if (nbad) {
    printf("FAIL %s%s  %s: %lld of %lld elements differ; worst [%lld] gdl %.17g torch %.17g%s\n",
           name, tag, what, (long long)nbad, (long long)gdl_tensor_numel(ref), (long long)worst,
           got ? gdl_tensor_get(got, worst) : 0.0, gdl_tensor_get(ref, worst),
           got ? "" : " (gdl has none)");
    v->bad++;
  }
}

/* Runs one case in dtype t; returns true when everything matched. */
static bool run_case(const ref_case *rc, gdl_dtype t) {
  const char *tag = t == GDL_F32 ? " [f32]" : "";
  double tol = t == GDL_F32 ? TOL32 : TOL64;
  gdl_tensor *ref_out = fixture(rc->name, "out"), *ref_w = fixture(rc->name, "w");
  if (!ref_out) {
    printf("FAIL %s%s  not in %s\n", rc->name, tag, FIXTURE);
    return false;
  }
  gdl_ctx *c = gdl_ctx_new();
  gdl_tensor *x[MAXIN] = {0};
  char what[32];
  int nin = 0;
  for (; nin < MAXIN; nin++) {
    snprintf(what, sizeof what, "in%d", nin);
    gdl_tensor *src = fixture(rc->name, what);
    if (!src) break;
    gdl_dtype dt = gdl_dtype_is_float(src->dtype) ? t : src->dtype; /* index inputs keep theirs */
    x[nin] = gdl_tensor_new(c, dt, gdl_tensor_shape(src));
    gdl_tensor_copy(x[nin], src);
    snprintf(what, sizeof what, "grad%d", nin);
    x[nin]->requires_grad = fixture(rc->name, what) != NULL;
  }
  if (nin != rc->nin) {
    printf("FAIL %s%s  the fixture has %d inputs, the table %d\n", rc->name, tag, nin, rc->nin);
    gdl_ctx_free(c);
    return false;
  }

  verdict v = {0};
  ref_indices = NULL;
  gdl_tensor *out = rc->build(c, x);
  compare(&v, rc->name, tag, "out", out, ref_out, tol);
  gdl_tensor *ref_idx = fixture(rc->name, "indices");
  if (ref_idx) compare(&v, rc->name, tag, "indices", ref_indices, ref_idx, 0);
  if (ref_w && !v.bad) {
    gdl_tensor *w = gdl_tensor_new(c, t, gdl_tensor_shape(ref_w));
    gdl_tensor_copy(w, ref_w);
    gdl_tensor *L = gdl_sum(c, gdl_mul(c, out, w), GDL_AXIS_ALL, false);
    gdl_status s = gdl_backward(c, L);
    if (s != GDL_OK) {
      printf("FAIL %s%s  backward: %s\n", rc->name, tag, gdl_last_error());
      v.bad++;
    }
  }
  for (int k = 0; k < nin && !v.bad; k++) {
    snprintf(what, sizeof what, "grad%d", k);
    gdl_tensor *g = fixture(rc->name, what);
    if (g) compare(&v, rc->name, tag, what, x[k]->grad, g, tol);
    snprintf(what, sizeof what, "after%d", k);
    gdl_tensor *after = fixture(rc->name, what);
    if (after) compare(&v, rc->name, tag, what, x[k], after, tol);
  }
  if (!v.bad) printf("OK   %s%s  maxdiff=%.2e\n", rc->name, tag, v.maxdiff);
  gdl_ctx_free(c);
  return v.bad == 0;
}

/* Every case in the fixture has a row in the table (run_case checks the reverse),
 * so the script and this file stay in step. */
static void check_coverage(void) {
  int unknown = 0;
  for (int i = 0; i < gdl_arrays_count(fix); i++) {
    const char *key = gdl_arrays_name(fix, i), *dot = strchr(key, '.');
    size_t n = dot ? (size_t)(dot - key) : strlen(key);
    bool found = false;
    for (int k = 0; k < NCASES && !found; k++)
      found = strlen(cases[k].name) == n && !strncmp(cases[k].name, key, n);
    if (!found) printf("FAIL %s: a fixture array of %s with no case in the table\n", key, FIXTURE);
    unknown += !found;
  }
  CHECK(unknown == 0, "%d fixture arrays have no case", unknown);
}

/* Counts a case or comparison that has already printed its OK or FAIL lines. */
static void tally(bool ok) {
  if (ok) test_passed++;
  else test_failed++;
}

/* Runs every case in float64, and in float32 where the table says so. */
static void ref_run_cases(void) {
  fix = gdl_npz_load(FIXTURE);
  CHECK(fix != NULL, "cannot load %s: %s", FIXTURE, gdl_last_error());
  if (!fix) return;
  check_coverage();
  for (int k = 0; k < NCASES; k++) tally(run_case(&cases[k], GDL_F64));
  for (int k = 0; k < NCASES; k++)
    if (cases[k].f32) tally(run_case(&cases[k], GDL_F32));
  gdl_arrays_free(fix);
}


#endif
