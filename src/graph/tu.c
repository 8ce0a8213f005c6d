/* The TU Dortmund graph-kernel benchmark format (MUTAG, PROTEINS, NCI109, ...):
 *
 *   DS_A.txt               "row, col" per directed edge, 1-based node ids
 *   DS_graph_indicator.txt graph id (1-based) of every node, non-decreasing
 *   DS_graph_labels.txt    one label per graph (mapped to 0..C-1 in sorted order)
 *   DS_node_labels.txt     optional, one label per node -> one-hot node features
 *   DS_node_attributes.txt optional, comma-separated floats per node (use_node_attr)
 *   DS_edge_labels.txt     optional, one label per edge -> one-hot edge_attr
 *
 * As PyG's TUDataset: self loops are removed and duplicate edges merged. Errors name
 * the file and line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "graph/graph.h"

typedef struct {
  char path[1200];
  char *text;
  size_t n;
} textfile;

static gdl_status read_text(const char *dir, const char *name, const char *suffix, bool optional, textfile *f,
                            bool *found) {
  snprintf(f->path, sizeof f->path, "%s/%s_%s.txt", dir, name, suffix);
  f->text = NULL;
  *found = false;
  FILE *fp = fopen(f->path, "rb");
  if (!fp) {
    if (optional && errno == ENOENT) return GDL_OK;
    return gdl_error(GDL_ERR_IO, "%s: cannot open: %s", f->path, strerror(errno));
  }
  fseek(fp, 0, SEEK_END);
  long len = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  f->text = malloc((size_t)(len > 0 ? len : 0) + 1);
  f->n = len > 0 ? fread(f->text, 1, (size_t)len, fp) : 0;
  f->text[f->n] = 0;
  fclose(fp);
  *found = true;
  if (memchr(f->text, 0, f->n)) return gdl_error(GDL_ERR_FORMAT, "%s: binary data in a text file", f->path);
  return GDL_OK;
}

/* Lines of numbers: *rows lines with cols values each (cols fixed by the first line
 * when *cols is 0), as doubles. */
static gdl_status parse_numbers(textfile *f, int64_t *rows, int64_t *cols, double **out, bool integers) {
  int64_t cap = 1024, n = 0, r = 0, want = *cols;
  double *v = malloc((size_t)cap * sizeof *v);
  char *p = f->text;
  int64_t line = 0;
  while (*p) {
    line++;
    char *eol = strchr(p, '\n');
    if (eol) *eol = 0;
    int64_t k = 0;
    char *q = p;
    while (*q == ' ' || *q == '\t' || *q == '\r') q++;
    if (*q) {
      for (;;) {
        char *end;
        errno = 0;
        double x = strtod(q, &end);
        if (end == q || errno || !isfinite(x) || (integers && x != floor(x))) {
          free(v);
          return gdl_error(GDL_ERR_FORMAT, "%s:%lld: expected %s, got '%.40s'", f->path, (long long)line,
                           integers ? "integers" : "numbers", p);
        }
        if (n == cap) v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
        v[n++] = x;
        k++;
        q = end;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (*q == ',') q++;
        else if (!*q) break;
        while (*q == ' ' || *q == '\t') q++;
      }
      if (!want) want = k;
      if (k != want) {
        free(v);
        return gdl_error(GDL_ERR_FORMAT, "%s:%lld: expected %lld values, got %lld", f->path, (long long)line,
                         (long long)want, (long long)k);
      }
      r++;
    }
    if (!eol) break;
    p = eol + 1;
  }
  *rows = r;
  *cols = want;
  *out = v;
  return GDL_OK;
}

static gdl_status need_rows(textfile *f, int64_t got, int64_t want, const char *what) {
  if (got == want) return GDL_OK;
  return gdl_error(GDL_ERR_FORMAT, "%s: %lld lines, expected %lld (one per %s): truncated or wrong file?", f->path,
                   (long long)got, (long long)want, what);
}

void gdl_graph_set_free(gdl_graph_set *s) {
  if (!s) return;
  for (int64_t i = 0; i < s->n; i++) gdl_graph_free(s->graphs[i]);
  free(s->graphs);
  free(s);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

gdl_graph_set *gdl_graph_set_load_tu(const char *dir, const char *name, bool use_node_attr) {
  textfile fi = {0}, fa = {0}, fg = {0}, fn = {0}, fat = {0}, fe = {0};
  double *ind = NULL, *A = NULL, *gl = NULL, *nl = NULL, *na = NULL, *el = NULL, *uniq = NULL;
  int64_t N = 0, E = 0, G = 0, rows, cols;
  bool found, has_nl = false, has_na = false, has_el = false;
  int64_t na_cols = 0, nl_min = 0, nl_classes = 0, el_min = 0, el_classes = 0, C = 0;
  gdl_graph_set *set = NULL;
  gdl_status st = read_text(dir, name, "graph_indicator", false, &fi, &found);
  if (!st) st = parse_numbers(&fi, &N, &(int64_t){1}, &ind, true);
  for (int64_t i = 0; !st && i < N; i++) {
    if (ind[i] < 1 || (i && ind[i] < ind[i - 1]) || ind[i] > (i ? ind[i - 1] + 1 : 1))
      st = gdl_error(GDL_ERR_FORMAT, "%s:%lld: graph ids must start at 1 and grow by steps of at most 1, got %g",
                     fi.path, (long long)i + 1, ind[i]);
    else G = (int64_t)ind[i];
  }
  if (!st && !N) st = gdl_error(GDL_ERR_FORMAT, "%s: empty: no nodes", fi.path);
  if (!st) st = read_text(dir, name, "A", false, &fa, &found);
  if (!st) st = parse_numbers(&fa, &E, &(int64_t){2}, &A, true);
  for (int64_t e = 0; !st && e < E; e++)
    for (int k = 0; k < 2 && !st; k++)
      if (A[2 * e + k] < 1 || A[2 * e + k] > (double)N)
        st = gdl_error(GDL_ERR_FORMAT, "%s:%lld: node %g is outside 1..%lld", fa.path, (long long)e + 1,
                       A[2 * e + k], (long long)N);
      else if (k && ind[(int64_t)A[2 * e] - 1] != ind[(int64_t)A[2 * e + 1] - 1])
        st = gdl_error(GDL_ERR_FORMAT, "%s:%lld: the edge joins two different graphs", fa.path, (long long)e + 1);
  if (!st) st = read_text(dir, name, "graph_labels", false, &fg, &found);
  if (!st) st = parse_numbers(&fg, &rows, &(int64_t){1}, &gl, true);
  if (!st) st = need_rows(&fg, rows, G, "graph");
  if (!st) { /* labels -> 0..C-1 in sorted order */
    uniq = malloc((size_t)G * sizeof *uniq);
    memcpy(uniq, gl, (size_t)G * sizeof *uniq);
    qsort(uniq, (size_t)G, sizeof *uniq, cmp_double);
    for (int64_t i = 0; i < G; i++)
      if (!i || uniq[i] != uniq[C - 1]) uniq[C++] = uniq[i];
  }
  if (!st) st = read_text(dir, name, "node_labels", true, &fn, &has_nl);
  if (!st && has_nl) {
    cols = 1;
    st = parse_numbers(&fn, &rows, &cols, &nl, true);
    if (!st) st = need_rows(&fn, rows, N, "node");
    if (!st) {
      double lo = nl[0], hi = nl[0];
      for (int64_t i = 0; i < N; i++) lo = fmin(lo, nl[i]), hi = fmax(hi, nl[i]);
      nl_min = (int64_t)lo;
      nl_classes = (int64_t)hi - nl_min + 1;
      if (nl_classes > 100000) st = gdl_error(GDL_ERR_FORMAT, "%s: labels span %lld values", fn.path, (long long)nl_classes);
    }
  }
  if (!st && use_node_attr) st = read_text(dir, name, "node_attributes", true, &fat, &has_na);
  if (!st && has_na) {
    st = parse_numbers(&fat, &rows, &na_cols, &na, false);
    if (!st) st = need_rows(&fat, rows, N, "node");
  }
  if (!st) st = read_text(dir, name, "edge_labels", true, &fe, &has_el);
  if (!st && has_el) {
    st = parse_numbers(&fe, &rows, &(int64_t){1}, &el, true);
    if (!st) st = need_rows(&fe, rows, E, "edge");
    if (!st) {
      double lo = el[0], hi = el[0];
      for (int64_t i = 0; i < E; i++) lo = fmin(lo, el[i]), hi = fmax(hi, el[i]);
      el_min = (int64_t)lo;
      el_classes = E ? (int64_t)hi - el_min + 1 : 0;
      if (el_classes > 100000) st = gdl_error(GDL_ERR_FORMAT, "%s: labels span %lld values", fe.path, (long long)el_classes);
    }
  }
  if (!st) {
    int64_t F = (has_nl ? nl_classes : 0) + (has_na ? na_cols : 0);
    bool ones = F == 0;
    if (ones) F = 1;
    set = calloc(1, sizeof *set);
    set->n = G;
    set->graphs = calloc((size_t)G, sizeof *set->graphs);
    set->num_classes = C;
    set->num_features = F;
    set->num_edge_features = el_classes;
    int64_t *nptr = calloc((size_t)G + 1, sizeof *nptr), *eptr = calloc((size_t)G + 2, sizeof *eptr);
    int64_t *eorder = malloc((size_t)(E + 1) * sizeof *eorder);
    for (int64_t i = 0; i < N; i++) nptr[(int64_t)ind[i]]++;
    for (int64_t k = 0; k < G; k++) nptr[k + 1] += nptr[k];
    for (int64_t e = 0; e < E; e++) eptr[(int64_t)ind[(int64_t)A[2 * e] - 1]]++;
    for (int64_t k = 0; k < G; k++) eptr[k + 1] += eptr[k];
    int64_t *fill = calloc((size_t)G + 2, sizeof *fill);
    for (int64_t e = 0; e < E; e++) {
      int64_t k = (int64_t)ind[(int64_t)A[2 * e] - 1] - 1;
      eorder[eptr[k] + fill[k]++] = e;
    }
    for (int64_t k = 0; k < G; k++) {
      int64_t n0 = nptr[k], n = nptr[k + 1] - n0, m = eptr[k + 1] - eptr[k];
      int64_t *s = malloc((size_t)(m + 1) * sizeof *s), *d = malloc((size_t)(m + 1) * sizeof *d);
      for (int64_t q = 0; q < m; q++) {
        int64_t e = eorder[eptr[k] + q];
        s[q] = (int64_t)A[2 * e] - 1 - n0;
        d[q] = (int64_t)A[2 * e + 1] - 1 - n0;
      }
      gdl_graph *g = gdl_graph_from_edges(n, m, s, d);
      free(s);
      free(d);
      if (has_el) {
        g->edge_attr = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(m, el_classes));
        for (int64_t q = 0; q < m; q++)
          ((float *)g->edge_attr->data)[q * el_classes + (int64_t)el[eorder[eptr[k] + q]] - el_min] = 1;
      }
      g->x = gdl_tensor_alloc(GDL_F32, GDL_SHAPE(n, F));
      float *X = g->x->data;
      for (int64_t i = 0; i < n; i++) {
        if (ones) X[i] = 1;
        if (has_nl) X[i * F + (int64_t)nl[n0 + i] - nl_min] = 1;
        for (int64_t j = 0; j < (has_na ? na_cols : 0); j++)
          X[i * F + (has_nl ? nl_classes : 0) + j] = (float)na[(n0 + i) * na_cols + j];
      }
      g->y = gdl_tensor_alloc(GDL_I64, GDL_SHAPE(1));
      int64_t lab = 0;
      while (uniq[lab] != gl[k]) lab++;
      ((int64_t *)g->y->data)[0] = lab;
      /* as PyG: no self loops, duplicates merged */
      gdl_graph *h = gdl_graph_remove_self_loops(g), *c = gdl_graph_coalesce(h);
      gdl_graph_free(g);
      gdl_graph_free(h);
      set->graphs[k] = c;
    }
    free(nptr), free(eptr), free(eorder), free(fill);
  }
  free(ind), free(A), free(gl), free(nl), free(na), free(el), free(uniq);
  free(fi.text), free(fa.text), free(fg.text), free(fn.text), free(fat.text), free(fe.text);
  if (st) {
    gdl_graph_set_free(set);
    return NULL;
  }
  return set;
}
