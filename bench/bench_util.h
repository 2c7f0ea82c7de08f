/* bench_util.h: what the suite's C programs share: a clock, latency percentiles, and one JSON line per result. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);

/*
 * Starts the one JSON object a run prints on standard output, with the
 * case's name; bench_field*() add members and bench_end() closes the line.
 * The orchestrator (bench/run) reads nothing else from standard output.
 */
void bench_begin(const char *name);
void bench_field(const char *key, double value);
void bench_field_str(const char *key, const char *value);
void bench_end(void);

/* Adds p50_us, p99_us, p999_us, min_us and mean_us of n latencies (in
 * nanoseconds; sorted in place) to the open object. */
void bench_latencies(uint64_t *ns, size_t n);

/* Resident memory of the calling process, in bytes (/proc/self/statm). */
size_t bench_rss(void);

/* Exits with a message on standard error: a run that cannot measure what
 * it was asked must not print a figure. */
__attribute__((noreturn, format(printf, 1, 2))) void bench_die(const char *fmt, ...);

#endif /* BENCH_UTIL_H */
