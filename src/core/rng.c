/* Counter-based random numbers: element i of a stream is a hash of (seed, i), so
 * any thread can produce any element and results never depend on thread count. */
#include "core/internal.h"

static uint64_t mix64(uint64_t z) { /* SplitMix64's finaliser */
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t hash2(uint64_t seed, uint64_t i) {
  return mix64(mix64(seed) + 0x9e3779b97f4a7c15ull * (i + 1));
}

static double to_unit(uint64_t u) { return (double)(u >> 11) * 0x1.0p-53; }

double gdl_hash_uniform(uint64_t seed, uint64_t i) { return to_unit(hash2(seed, i)); }

gdl_rng gdl_rng_make(uint64_t seed) { return (gdl_rng){.seed = seed, .counter = 0}; }

uint64_t gdl_rng_u64(gdl_rng *r) { return hash2(r->seed, r->counter++); }

double gdl_rng_uniform(gdl_rng *r) { return to_unit(gdl_rng_u64(r)); }

static double normal_at(uint64_t seed, uint64_t i) { /* Box-Muller on two hashes */
  double u1 = to_unit(hash2(seed, 2 * i)), u2 = to_unit(hash2(seed, 2 * i + 1));
  return sqrt(-2.0 * log1p(-u1)) * cos(6.283185307179586 * u2);
}

double gdl_rng_normal(gdl_rng *r) {
  double v = normal_at(r->seed ^ 0x5851f42d4c957f2dull, r->counter);
  r->counter++;
  return v;
}

uint64_t gdl_rng_below(gdl_rng *r, uint64_t n) {
  /* Lemire's multiply-shift; the bias for n << 2^64 is negligible. */
  return (uint64_t)(((unsigned __int128)gdl_rng_u64(r) * n) >> 64);
}

void gdl_rng_shuffle(gdl_rng *r, int64_t *a, int64_t n) {
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)gdl_rng_below(r, (uint64_t)i + 1), t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/* Both fills take a block of the stream and advance the counter past it. */
void gdl_rng_fill_uniform(gdl_rng *r, gdl_tensor *x, double lo, double hi) {
  int64_t n = gdl_tensor_numel(x);
  uint64_t seed = r->seed, base = r->counter;
  GDL_ASSERT(gdl_tensor_is_contiguous(x), "fill_uniform: tensor must be contiguous");
  GDL_FLOAT_SWITCH(x->dtype, T, {
    T *p = x->data;
    GDL_PARALLEL_FOR_IF(n > GDL_PAR_MIN)
    for (int64_t i = 0; i < n; i++) p[i] = (T)(lo + (hi - lo) * to_unit(hash2(seed, base + i)));
  });
  r->counter += (uint64_t)n;
}

void gdl_rng_fill_normal(gdl_rng *r, gdl_tensor *x, double mean, double std) {
  int64_t n = gdl_tensor_numel(x);
  uint64_t seed = r->seed ^ 0x5851f42d4c957f2dull, base = r->counter;
  GDL_ASSERT(gdl_tensor_is_contiguous(x), "fill_normal: tensor must be contiguous");
  GDL_FLOAT_SWITCH(x->dtype, T, {
    T *p = x->data;
    GDL_PARALLEL_FOR_IF(n > GDL_PAR_MIN)
    for (int64_t i = 0; i < n; i++) p[i] = (T)(mean + std * normal_at(seed, base + i));
  });
  r->counter += (uint64_t)n;
}
