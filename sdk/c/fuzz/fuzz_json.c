/* fuzz_json.c: libFuzzer harness for the json binding's checker and NODE-7 scanner, held equal to Node.js's JSON.parse and isInternal. */
#include "node_codec.h"
#include "oracle.h"

/*
 * With CORD_FUZZ_NODE (a node binary) and CORD_FUZZ_ORACLE (json_oracle.js)
 * in the environment, every input also goes to one Node.js process, which
 * judges the C answers by JSON.parse and Node.js's rule; a disagreement
 * aborts, and libFuzzer keeps the input. Without them the harness checks
 * what C alone can: no crash, no read outside the input (ASan), spans
 * inside the text.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  oracle_start(getenv("CORD_FUZZ_NODE"), NULL, getenv("CORD_FUZZ_ORACLE"));
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
  if (oracle_in >= 0 && size < (1u << 20)) {
    uint8_t answers[3] = {r == 0, r == 0 ? (uint8_t)m.kind : 0, r == 0 ? (uint8_t)m.handle_type : 0};
    char line[512];
    oracle_put32((uint32_t)size);
    oracle_write(data, size);
    oracle_write(answers, 3);
    oracle_put32((uint32_t)m.msg.off);
    oracle_put32((uint32_t)m.msg.len);
    oracle_read_line(line, sizeof line);
    if (strcmp(line, "ok")) {
      fprintf(stderr, "fuzz_json: Node.js and C disagree: %s\n", line);
      abort();
    }
  }
  return 0;
}
