/* Stratified k-fold splits for graph classification: gdl's own, and scikit-learn's of
 * the GIN paper's time, so its folds can be reproduced without Python. */
#include <stdlib.h>

#include "graph/graph.h"

static gdl_status check_labels(const int64_t *y, int64_t n, int k, int64_t *classes) {
  if (k < 2 || k > n) return gdl_error(GDL_ERR_ARG, "kfold: need 2 <= k <= %lld samples, got k = %d", (long long)n, k);
  *classes = 0;
  for (int64_t i = 0; i < n; i++) {
    if (y[i] < 0) return gdl_error(GDL_ERR_VALUE, "kfold: negative label at %lld", (long long)i);
    if (y[i] + 1 > *classes) *classes = y[i] + 1;
  }
  return GDL_OK;
}

/* Samples of each class are shuffled (seeded) and dealt to folds round-robin,
 * continuing where the previous class stopped, so fold sizes differ by at most one
 * and every fold keeps the class proportions. */
gdl_status gdl_stratified_kfold(const int64_t *y, int64_t n, int k, uint64_t seed, int *fold) {
  int64_t C = 0;
  gdl_status st = check_labels(y, n, k, &C);
  if (st) return st;
  int64_t *idx = malloc((size_t)n * sizeof *idx);
  GDL_ASSERT(idx, "out of memory");
  gdl_rng r = gdl_rng_make(seed);
  int next = 0;
  for (int64_t c = 0; c < C; c++) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
      if (y[i] == c) idx[m++] = i;
    gdl_rng_shuffle(&r, idx, m);
    for (int64_t j = 0; j < m; j++) {
      fold[idx[j]] = next;
      next = (next + 1) % k;
    }
  }
  free(idx);
  return GDL_OK;
}

/* ---- numpy's legacy RandomState: MT19937 seeded by init_genrand, shuffle by bounded draws */

typedef struct {
  uint32_t s[624];
  int i;
} mt19937;

static void mt_seed(mt19937 *m, uint32_t seed) {
  m->s[0] = seed;
  for (int i = 1; i < 624; i++) m->s[i] = 1812433253u * (m->s[i - 1] ^ (m->s[i - 1] >> 30)) + (uint32_t)i;
  m->i = 624;
}

static uint32_t mt_next(mt19937 *m) {
  if (m->i == 624) {
    for (int j = 0; j < 624; j++) {
      uint32_t v = (m->s[j] & 0x80000000u) | (m->s[(j + 1) % 624] & 0x7fffffffu);
      m->s[j] = m->s[(j + 397) % 624] ^ (v >> 1) ^ (v & 1 ? 0x9908b0dfu : 0);
    }
    m->i = 0;
  }
  uint32_t v = m->s[m->i++];
  v ^= v >> 11;
  v ^= (v << 7) & 0x9d2c5680u;
  v ^= (v << 15) & 0xefc60000u;
  return v ^ (v >> 18);
}

/* Uniform in [0, max]: draws masked to max's bit length until one fits (numpy's
 * random_interval; max < 2^32 here). */
static uint32_t mt_interval(mt19937 *m, uint32_t max) {
  if (!max) return 0;
  uint32_t mask = max, v;
  for (int sh = 1; sh < 32; sh <<= 1) mask |= mask >> sh;
  while ((v = mt_next(m) & mask) > max) {}
  return v;
}

/* np.random.RandomState(seed).shuffle(arange(n)) */
static void numpy_shuffled_range(uint32_t seed, int64_t *a, int64_t n) {
  mt19937 m;
  mt_seed(&m, seed);
  for (int64_t i = 0; i < n; i++) a[i] = i;
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = mt_interval(&m, (uint32_t)i), t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/* scikit-learn <= 0.21, StratifiedKFold(k, shuffle=True, random_state=seed): each class
 * shuffles arange(max(count, k)) with its own RandomState(seed) (the int seed is handed
 * to one KFold per class), cuts it into k consecutive runs, the first max(count, k) % k
 * one longer, and run f names the class's samples (in dataset order) that go to fold f;
 * positions past count are dropped. 0.22 changed the algorithm. */
gdl_status gdl_stratified_kfold_sklearn(const int64_t *y, int64_t n, int k, uint32_t seed, int *fold) {
  int64_t C = 0;
  gdl_status st = check_labels(y, n, k, &C);
  if (st) return st;
  int64_t *members = malloc((size_t)n * sizeof *members), *perm = malloc((size_t)(n + k) * sizeof *perm);
  GDL_ASSERT(members && perm, "out of memory");
  for (int64_t c = 0; c < C; c++) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++)
      if (y[i] == c) members[count++] = i;
    if (!count) continue; /* np.unique skips absent labels */
    int64_t m = count > k ? count : k, pos = 0;
    numpy_shuffled_range(seed, perm, m);
    for (int f = 0; f < k; f++) {
      int64_t size = m / k + (f < m % k);
      for (int64_t j = pos; j < pos + size; j++)
        if (perm[j] < count) fold[members[perm[j]]] = f;
      pos += size;
    }
  }
  free(members);
  free(perm);
  return GDL_OK;
}
