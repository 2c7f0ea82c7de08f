/* bench_util.c: the clock, percentiles and JSON output shared by the suite's C programs. */
#define _GNU_SOURCE
#include "bench_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int members;

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_begin(const char *name) {
  printf("{\"case\": \"%s\"", name);
  members = 1;
}

void bench_field(const char *key, double value) { printf(", \"%s\": %.6g", key, value); }

void bench_field_str(const char *key, const char *value) { printf(", \"%s\": \"%s\"", key, value); }

void bench_end(void) {
  printf("}\n");
  fflush(stdout);
  members = 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The value below which a fraction q of the sorted samples lie. */
static double quantile(const uint64_t *v, size_t n, double q) {
  size_t i = (size_t)(q * (double)(n - 1) + 0.5);
  return (double)v[i < n ? i : n - 1];
}

void bench_latencies(uint64_t *ns, size_t n) {
  double sum = 0;
  if (!n)
    bench_die("no latency samples");
  qsort(ns, n, sizeof *ns, cmp_u64);
  for (size_t i = 0; i < n; i++)
    sum += (double)ns[i];
  bench_field("p50_us", quantile(ns, n, 0.50) / 1e3);
  bench_field("p99_us", quantile(ns, n, 0.99) / 1e3);
  bench_field("p999_us", quantile(ns, n, 0.999) / 1e3);
  bench_field("min_us", (double)ns[0] / 1e3);
  bench_field("mean_us", sum / (double)n / 1e3);
}

size_t bench_rss(void) {
  unsigned long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
    bench_die("cannot read /proc/self/statm");
  fclose(f);
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

void bench_die(const char *fmt, ...) {
  va_list ap;
  if (members)
    printf("\n");
  fflush(stdout);
  fprintf(stderr, "bench: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  exit(1);
}
