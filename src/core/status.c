/* Status codes, the thread-local error detail, and aborts for programmer errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdl/core.h"

static _Thread_local char last_error[1024];

const char *gdl_strerror(gdl_status s) {
  switch (s) {
#define GDL__STATUS_CASE(name, code, msg) \
  case GDL_##name:                        \
    return msg;
    GDL_STATUS_MAP(GDL__STATUS_CASE)
#undef GDL__STATUS_CASE
  }
  return "unknown status";
}

const char *gdl_last_error(void) { return last_error; }

void gdl_clear_error(void) { last_error[0] = 0; }

gdl_status gdl_error(gdl_status s, const char *fmt, ...) {
  /* Format into a scratch buffer first: callers may pass gdl_last_error() itself
   * to wrap the previous message with more context. */
  char buf[sizeof last_error];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  memcpy(last_error, buf, sizeof buf);
  return s;
}

void gdl__abort(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "gdl: %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}
