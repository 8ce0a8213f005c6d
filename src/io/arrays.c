/* gdl_arrays: an ordered list of name -> heap tensor (owned or borrowed) plus
 * string metadata; what .npz and .safetensors files hold. Lookups are linear:
 * files hold tens to hundreds of arrays, and insertion order must be kept. */
#include <stdlib.h>

#include "core/internal.h"
#include "io/file.h"

typedef struct {
  char *name;
  gdl_tensor *x;
  bool own;
} entry;

typedef struct {
  char *key, *value;
} meta;

struct gdl_arrays {
  entry *e;
  int n, cap;
  meta *m;
  int nm, capm;
};

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* Grows *p (elements of size es) so that index n fits. */
static bool grow(void **p, int *cap, int n, size_t es) {
  if (n < *cap) return true;
  int nc = *cap ? *cap * 2 : 8;
  void *q = realloc(*p, (size_t)nc * es);
  if (!q) return false;
  *p = q;
  *cap = nc;
  return true;
}

gdl_arrays *gdl_arrays_new(void) {
  gdl_arrays *a = calloc(1, sizeof *a);
  if (!a) gdl_error(GDL_ERR_NOMEM, "out of memory");
  return a;
}

void gdl_arrays_free(gdl_arrays *a) {
  if (!a) return;
  for (int i = 0; i < a->n; i++) {
    if (a->e[i].own) gdl_tensor_free(a->e[i].x);
    free(a->e[i].name);
  }
  for (int i = 0; i < a->nm; i++) {
    free(a->m[i].key);
    free(a->m[i].value);
  }
  free(a->e);
  free(a->m);
  free(a);
}

static int find(const gdl_arrays *a, const char *name) {
  for (int i = 0; i < a->n; i++)
    if (strcmp(a->e[i].name, name) == 0) return i;
  return -1;
}

/* With take, x belongs to the set from the call on, even when the call fails:
 * `gdl_arrays_put(a, "w", gdl_tensor_alloc(...), true)` never leaks. */
gdl_status gdl_arrays_put(gdl_arrays *a, const char *name, gdl_tensor *x, bool take) {
  if (!a || !name || !x) {
    if (take) gdl_tensor_free(x);
    return gdl_error(GDL_ERR_ARG, "arrays_put: %s is NULL", !a ? "the set" : !name ? "the name"
                                                                                  : "the tensor");
  }
  int i = find(a, name);
  if (i >= 0) {
    entry *e = &a->e[i];
    if (e->own && e->x != x) gdl_tensor_free(e->x);
    e->x = x;
    e->own = take;
    return GDL_OK;
  }
  char *nm = dup_str(name);
  if (!nm || !grow((void **)&a->e, &a->cap, a->n, sizeof *a->e)) {
    free(nm);
    if (take) gdl_tensor_free(x);
    return gdl_error(GDL_ERR_NOMEM, "arrays_put: out of memory adding '%s'", name);
  }
  a->e[a->n++] = (entry){nm, x, take};
  return GDL_OK;
}

int gdl_arrays_count(const gdl_arrays *a) { return a ? a->n : 0; }

const char *gdl_arrays_name(const gdl_arrays *a, int i) {
  return a && i >= 0 && i < a->n ? a->e[i].name : NULL;
}

gdl_tensor *gdl_arrays_at(const gdl_arrays *a, int i) {
  return a && i >= 0 && i < a->n ? a->e[i].x : NULL;
}

gdl_tensor *gdl_arrays_get(const gdl_arrays *a, const char *name) {
  if (!a || !name) return NULL;
  int i = find(a, name);
  return i >= 0 ? a->e[i].x : NULL;
}

/* A NULL value removes the key. */
gdl_status gdl_arrays_set_meta(gdl_arrays *a, const char *key, const char *value) {
  if (!a || !key) return gdl_error(GDL_ERR_ARG, "arrays_set_meta: %s is NULL", a ? "key" : "set");
  int i = 0;
  while (i < a->nm && strcmp(a->m[i].key, key) != 0) i++;
  if (!value) {
    if (i < a->nm) {
      free(a->m[i].key);
      free(a->m[i].value);
      memmove(&a->m[i], &a->m[i + 1], (size_t)(a->nm - i - 1) * sizeof *a->m);
      a->nm--;
    }
    return GDL_OK;
  }
  char *v = dup_str(value);
  if (!v) return gdl_error(GDL_ERR_NOMEM, "arrays_set_meta: out of memory");
  if (i < a->nm) {
    free(a->m[i].value);
    a->m[i].value = v;
    return GDL_OK;
  }
  char *k = dup_str(key);
  if (!k || !grow((void **)&a->m, &a->capm, a->nm, sizeof *a->m)) {
    free(k);
    free(v);
    return gdl_error(GDL_ERR_NOMEM, "arrays_set_meta: out of memory");
  }
  a->m[a->nm++] = (meta){k, v};
  return GDL_OK;
}

const char *gdl_arrays_meta(const gdl_arrays *a, const char *key) {
  if (!a || !key) return NULL;
  for (int i = 0; i < a->nm; i++)
    if (strcmp(a->m[i].key, key) == 0) return a->m[i].value;
  return NULL;
}

int gdl__arrays_meta_count(const gdl_arrays *a) { return a ? a->nm : 0; }

void gdl__arrays_meta_at(const gdl_arrays *a, int i, const char **key, const char **value) {
  *key = a->m[i].key;
  *value = a->m[i].value;
}
