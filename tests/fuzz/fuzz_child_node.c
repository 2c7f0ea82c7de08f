/* fuzz_child_node.c: libFuzzer harness of the child SDK's NODE-7 scanner, each input alone in an allocation of its exact size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int cord__node_internal(const uint8_t *p, size_t n);

/* The scanner decides whether a line is one of Node.js's internal
 * messages, on any bytes (a line Node sends, or one a program asks to
 * send): 0, 1 or 2, and never a byte read outside the line. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *exact = malloc(size ? size : 1);
  memcpy(exact, data, size);
  int r = cord__node_internal(exact, size);
  free(exact);
  if (r < 0 || r > 2)
    abort();
  return 0;
}
