/* fuzz_json.c: libFuzzer harness for the json binding's checker and NODE-7 scanner, held equal to Node.js's JSON.parse and isInternal. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node_codec.h"

/*
 * With CORD_FUZZ_NODE (a node binary) and CORD_FUZZ_ORACLE (json_oracle.js)
 * in the environment, every input also goes to one Node.js process, which
 * judges the C answers by JSON.parse and Node.js's rule; a disagreement
 * aborts, and libFuzzer keeps the input. Without them the harness checks
 * what C alone can: no crash, no read outside the input (ASan), spans
 * inside the text.
 */
static FILE *to_node, *from_node;

static void start_oracle(void) {
  const char *node = getenv("CORD_FUZZ_NODE"), *oracle = getenv("CORD_FUZZ_ORACLE");
  int in[2], out[2];
  pid_t pid;
  if (!node || !oracle || !*node || pipe(in) || pipe(out))
    return;
  pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    execl(node, node, oracle, (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  signal(SIGPIPE, SIG_IGN);
  to_node = fdopen(in[1], "w");
  from_node = fdopen(out[0], "r");
}

static void put32(uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  fwrite(b, 1, 4, to_node);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  start_oracle();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t need = CORD__JSON_SCRATCH(size);
  void *scratch = need ? malloc(need) : NULL;
  cord__json_err_t e = {0, NULL};
  cord__node_msg_t m;
  int r = cord__json_check(data, size, scratch, need, &e);
  free(scratch);
  if (r != 0 && (r != CORD_ENODE || e.offset > size || !e.reason))
    abort(); /* with enough scratch, the only refusal is "not JSON", inside the text */
  cord__node_scan(data, size, &m);
  if (m.cmd.off + m.cmd.len > size || m.msg.off + m.msg.len > size || m.type.off + m.type.len > size)
    abort();
  if (to_node && size < (1u << 20)) {
    char line[512];
    put32((uint32_t)size);
    fwrite(data, 1, size, to_node);
    fputc(r == 0, to_node);
    fputc(r == 0 ? (int)m.kind : 0, to_node);
    fputc(r == 0 ? (int)m.handle_type : 0, to_node);
    put32((uint32_t)m.msg.off);
    put32((uint32_t)m.msg.len);
    fflush(to_node);
    if (!fgets(line, sizeof line, from_node)) {
      fprintf(stderr, "fuzz_json: the Node.js oracle stopped\n");
      abort();
    }
    if (strcmp(line, "ok\n")) {
      fprintf(stderr, "fuzz_json: Node.js and C disagree: %s", line);
      abort();
    }
  }
  return 0;
}
