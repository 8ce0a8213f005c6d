/* The INI parser behind gdl/config.h: sections in file order, keys with their
 * line numbers and a used flag. Comments start with ';' or '#'. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "core/internal.h"
#include "gdl/config.h"

typedef struct {
  char *key, *value;
  int line; /* 0 for a key set by an override */
  bool used;
} entry;

struct gdl_section {
  gdl_config *cfg;
  char *name;
  int line;
  entry *e;
  int n, cap;
};

struct gdl_config {
  char *file;
  gdl_section **s;
  int n, cap;
};

static char *dup_range(const char *a, const char *b) {
  while (a < b && isspace((unsigned char)*a)) a++;
  while (b > a && isspace((unsigned char)b[-1])) b--;
  char *s = malloc((size_t)(b - a) + 1);
  GDL_ASSERT(s, "out of memory");
  memcpy(s, a, (size_t)(b - a));
  s[b - a] = 0;
  return s;
}

static gdl_section *add_section(gdl_config *c, char *name, int line) {
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 16;
    c->s = realloc(c->s, (size_t)c->cap * sizeof *c->s);
    GDL_ASSERT(c->s, "out of memory");
  }
  gdl_section *s = calloc(1, sizeof *s);
  GDL_ASSERT(s, "out of memory");
  s->cfg = c;
  s->name = name;
  s->line = line;
  c->s[c->n++] = s;
  return s;
}

static entry *find_entry(const gdl_section *s, const char *key) {
  for (int i = 0; s && i < s->n; i++)
    if (!strcmp(s->e[i].key, key)) return &s->e[i];
  return NULL;
}

static void set_entry(gdl_section *s, char *key, char *value, int line) {
  entry *e = find_entry(s, key);
  if (e) {
    free(key);
    free(e->value);
    e->value = value;
    e->line = line;
    return;
  }
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 8;
    s->e = realloc(s->e, (size_t)s->cap * sizeof *s->e);
    GDL_ASSERT(s->e, "out of memory");
  }
  s->e[s->n++] = (entry){key, value, line, false};
}

void gdl_config_free(gdl_config *c) {
  if (!c) return;
  for (int i = 0; i < c->n; i++) {
    gdl_section *s = c->s[i];
    for (int k = 0; k < s->n; k++) {
      free(s->e[k].key);
      free(s->e[k].value);
    }
    free(s->e);
    free(s->name);
    free(s);
  }
  free(c->s);
  free(c->file);
  free(c);
}

gdl_config *gdl_config_parse(const char *text, const char *filename) {
  gdl_config *c = calloc(1, sizeof *c);
  GDL_ASSERT(c, "out of memory");
  c->file = dup_range(filename, filename + strlen(filename));
  gdl_section *cur = NULL;
  int line = 0;
  for (const char *p = text; *p;) {
    const char *end = strchr(p, '\n');
    if (!end) end = p + strlen(p);
    line++;
    const char *a = p, *b = end;
    p = *end ? end + 1 : end;
    for (const char *q = a; q < b; q++) /* strip comments */
      if (*q == ';' || *q == '#') {
        b = q;
        break;
      }
    while (a < b && isspace((unsigned char)*a)) a++;
    while (b > a && isspace((unsigned char)b[-1])) b--;
    if (a == b) continue;
    if (*a == '[') {
      if (b[-1] != ']' || b - a < 3) {
        gdl_error(GDL_ERR_CONFIG, "%s:%d: malformed section header (expected [name])", filename, line);
        gdl_config_free(c);
        return NULL;
      }
      cur = add_section(c, dup_range(a + 1, b - 1), line);
      continue;
    }
    const char *eq = memchr(a, '=', (size_t)(b - a));
    if (!eq || eq == a) {
      gdl_error(GDL_ERR_CONFIG, "%s:%d: expected 'key = value', got '%.*s'", filename, line,
                (int)(b - a), a);
      gdl_config_free(c);
      return NULL;
    }
    if (!cur) {
      gdl_error(GDL_ERR_CONFIG, "%s:%d: key outside any [section]", filename, line);
      gdl_config_free(c);
      return NULL;
    }
    char *key = dup_range(a, eq);
    if (find_entry(cur, key)) {
      gdl_error(GDL_ERR_CONFIG, "%s:%d: [%s] key '%s' given twice", filename, line, cur->name, key);
      free(key);
      gdl_config_free(c);
      return NULL;
    }
    set_entry(cur, key, dup_range(eq + 1, b), line);
  }
  return c;
}

gdl_config *gdl_config_load(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    gdl_error(GDL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  GDL_ASSERT(buf, "out of memory");
  for (size_t r; (r = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
    n += r;
    if (n + 1 == cap) {
      buf = realloc(buf, cap *= 2);
      GDL_ASSERT(buf, "out of memory");
    }
  }
  bool err = ferror(f);
  fclose(f);
  buf[n] = 0;
  gdl_config *c = NULL;
  if (err) gdl_error(GDL_ERR_IO, "%s: read error", path);
  else if (strlen(buf) != n) gdl_error(GDL_ERR_CONFIG, "%s: not a text file (contains NUL bytes)", path);
  else c = gdl_config_parse(buf, path);
  free(buf);
  return c;
}

const char *gdl_config_file(const gdl_config *c) { return c->file; }
int gdl_config_count(const gdl_config *c) { return c->n; }
gdl_section *gdl_config_section(const gdl_config *c, int i) { return i >= 0 && i < c->n ? c->s[i] : NULL; }
const char *gdl_section_name(const gdl_section *s) { return s->name; }
int gdl_section_line(const gdl_section *s) { return s->line; }
bool gdl_section_has(const gdl_section *s, const char *key) { return find_entry(s, key) != NULL; }

gdl_section *gdl_config_find(const gdl_config *c, const char *name) {
  gdl_section *found = NULL;
  for (int i = 0; i < c->n; i++)
    if (!strcmp(c->s[i]->name, name)) {
      if (found) return NULL;
      found = c->s[i];
    }
  return found;
}

gdl_status gdl_config_override(gdl_config *c, const char *assignment) {
  const char *eq = strchr(assignment, '='), *dot = eq ? memchr(assignment, '.', (size_t)(eq - assignment)) : NULL;
  if (!eq || !dot || dot == assignment || eq == dot + 1)
    return gdl_error(GDL_ERR_CONFIG, "--set %s: expected section.key=value", assignment);
  char *sec = dup_range(assignment, dot), *hash = strchr(sec, '#');
  int want = 0, seen = 0;
  if (hash) {
    *hash = 0;
    want = atoi(hash + 1);
    if (want < 1) {
      free(sec);
      return gdl_error(GDL_ERR_CONFIG, "--set %s: section index after '#' counts from 1", assignment);
    }
  }
  gdl_section *target = NULL;
  for (int i = 0; i < c->n; i++) {
    if (strcmp(c->s[i]->name, sec)) continue;
    seen++;
    if (want ? seen == want : !target) target = c->s[i];
  }
  gdl_status st = GDL_OK;
  if (!want && seen > 1)
    st = gdl_error(GDL_ERR_CONFIG, "--set %s: %d sections are named [%s]; write %s#k to pick the k-th",
                   assignment, seen, sec, sec);
  else if (!target && (want || (strcmp(sec, "train") && strcmp(sec, "data"))))
    st = gdl_error(GDL_ERR_CONFIG, "--set %s: %s has no section [%s]%s", assignment, c->file, sec,
                   want ? " with that index" : "");
  if (st == GDL_OK) {
    if (!target) target = add_section(c, dup_range(sec, sec + strlen(sec)), 0);
    set_entry(target, dup_range(dot + 1, eq), dup_range(eq + 1, eq + strlen(eq)), 0);
  }
  free(sec);
  return st;
}

/* "file:line: [section] key: " */
static gdl_status vfail(gdl_section *s, const char *key, const char *fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  entry *e = key ? find_entry(s, key) : NULL;
  int line = e ? e->line : s->line;
  if (!key) return gdl_error(GDL_ERR_CONFIG, "%s:%d: [%s] %s", s->cfg->file, line, s->name, msg);
  if (e && !line) return gdl_error(GDL_ERR_CONFIG, "--set %s.%s: %s", s->name, key, msg);
  return gdl_error(GDL_ERR_CONFIG, "%s:%d: [%s] %s: %s", s->cfg->file, line, s->name, key, msg);
}

gdl_status gdl_section_error(gdl_section *s, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gdl_status st = vfail(s, key, fmt, ap);
  va_end(ap);
  return st;
}

static const char *lookup(gdl_section *s, const char *key) {
  entry *e = find_entry(s, key);
  if (!e) return NULL;
  e->used = true;
  return e->value;
}

gdl_status gdl_section_str(gdl_section *s, const char *key, const char *def, const char **out) {
  const char *v = lookup(s, key);
  *out = v ? v : def;
  return GDL_OK;
}

gdl_status gdl_section_int(gdl_section *s, const char *key, int64_t def, int64_t *out) {
  const char *v = lookup(s, key);
  if (!v) return *out = def, GDL_OK;
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (end == v || *end || errno) return gdl_section_error(s, key, "expected an integer, got '%s'", v);
  *out = x;
  return GDL_OK;
}

gdl_status gdl_section_double(gdl_section *s, const char *key, double def, double *out) {
  const char *v = lookup(s, key);
  if (!v) return *out = def, GDL_OK;
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || *end || errno || !isfinite(x))
    return gdl_section_error(s, key, "expected a finite number, got '%s'", v);
  *out = x;
  return GDL_OK;
}

gdl_status gdl_section_bool(gdl_section *s, const char *key, bool def, bool *out) {
  static const char *const words[] = {"false", "true", "no", "yes", "off", "on", "0", "1", NULL};
  const char *v = lookup(s, key);
  if (!v) return *out = def, GDL_OK;
  for (int i = 0; words[i]; i++)
    if (!strcasecmp(v, words[i])) return *out = i % 2, GDL_OK;
  return gdl_section_error(s, key, "expected true or false, got '%s'", v);
}

gdl_status gdl_section_enum(gdl_section *s, const char *key, const char *const *choices, int def,
                            int *out) {
  const char *v = lookup(s, key);
  if (!v) return *out = def, GDL_OK;
  char list[256] = "";
  for (int i = 0; choices[i]; i++) {
    if (!strcmp(v, choices[i])) return *out = i, GDL_OK;
    size_t w = strlen(list);
    snprintf(list + w, sizeof list - w, "%s%s", i ? ", " : "", choices[i]);
  }
  return gdl_section_error(s, key, "expected one of %s, got '%s'", list, v);
}

gdl_status gdl_section_ints(gdl_section *s, const char *key, int64_t *out, int max, int *n) {
  const char *v = lookup(s, key);
  *n = 0;
  if (!v) return GDL_OK;
  for (const char *p = v;;) {
    char *end;
    errno = 0;
    long long x = strtoll(p, &end, 10);
    if (end == p || errno) return gdl_section_error(s, key, "expected integers separated by commas, got '%s'", v);
    if (*n == max) return gdl_section_error(s, key, "at most %d values allowed", max);
    out[(*n)++] = x;
    while (isspace((unsigned char)*end)) end++;
    if (!*end) return GDL_OK;
    if (*end != ',') return gdl_section_error(s, key, "expected integers separated by commas, got '%s'", v);
    p = end + 1;
  }
}

void gdl_section_mark_used(gdl_section *s) {
  for (int k = 0; s && k < s->n; k++) s->e[k].used = true;
}

gdl_status gdl_config_check_unused(const gdl_config *c) {
  for (int i = 0; i < c->n; i++)
    for (int k = 0; k < c->s[i]->n; k++) {
      entry *e = &c->s[i]->e[k];
      if (e->used) continue;
      if (!e->line)
        return gdl_error(GDL_ERR_CONFIG, "--set %s.%s: unknown key '%s' in [%s]", c->s[i]->name,
                         e->key, e->key, c->s[i]->name);
      return gdl_error(GDL_ERR_CONFIG, "%s:%d: unknown key '%s' in [%s] (see docs/config.md)", c->file,
                       e->line, e->key, c->s[i]->name);
    }
  return GDL_OK;
}
