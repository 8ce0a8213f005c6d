/* A tiny test harness: CHECK counts, test_report prints "N passed, M failed". */
#ifndef GDL_TEST_H
#define GDL_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

#endif
