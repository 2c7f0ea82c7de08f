/* oracle.h: what the fuzz harnesses share: a Node.js process that judges each input, spoken to over two pipes. */
#ifndef CORD_FUZZ_ORACLE_H
#define CORD_FUZZ_ORACLE_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The oracle's pipes: -1 while there is none. */
static int oracle_in = -1, oracle_out = -1;

/* Starts `node [flag] script`, if both are given. */
static void oracle_start(const char *node, const char *flag, const char *script) {
  int in[2], out[2];
  if (!node || !*node || !script || !*script || pipe(in) || pipe(out))
    return;
  if (fork() == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    if (flag)
      execl(node, node, flag, script, (char *)NULL);
    else
      execl(node, node, script, (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  signal(SIGPIPE, SIG_IGN);
  oracle_in = in[1];
  oracle_out = out[0];
}

/*
 * Writes and reads go straight to the descriptors and start again when a
 * signal interrupts them: libFuzzer's timer (SIGALRM) lands now and then
 * while a harness waits for Node.js, and stdio would take that for the end.
 */
static void oracle_write(const void *p, size_t n) {
  const uint8_t *b = p;
  while (n) {
    ssize_t w = write(oracle_in, b, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      fprintf(stderr, "fuzz: the Node.js oracle stopped reading\n");
      abort();
    }
    b += w, n -= (size_t)w;
  }
}

static void oracle_put32(uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  oracle_write(b, 4);
}

/* One line of the oracle's answer, without its newline. */
static void oracle_read_line(char *line, size_t cap) {
  size_t n = 0;
  while (n + 1 < cap) {
    ssize_t r = read(oracle_out, line + n, 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      fprintf(stderr, "fuzz: the Node.js oracle stopped\n");
      abort();
    }
    if (line[n] == '\n')
      break;
    n++;
  }
  line[n] = 0;
}

#endif
