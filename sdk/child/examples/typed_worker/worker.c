/* worker.c: a typed request/reply worker: each example.v1.Job request is decoded straight into a nanopb struct and answered with an example.v1.Result. */
#include <string.h>
#include <unistd.h>

#include "cord_child.h"
#include "worker.pb.h"

/* A Job of 16 numbers and a 31-byte label is under 150 bytes: the
 * spec's smallest frame limit is room enough. */
CORD_CHAN_BUFFER(rx, 256);
CORD_CHAN_BUFFER(tx, 256);

static void work(cord_chan_t *ch, const cord_chan_msg_t *m) {
  example_v1_Job job = example_v1_Job_init_zero;
  example_v1_Result res = example_v1_Result_init_zero;
  cord_chan_out_t out = {.payload = CORD_PAYLOAD_TYPED,
                         .type_name = "example.v1.Result",
                         .fields = example_v1_Result_fields,
                         .src = &res};
  int r = cord_chan_decode_typed(m, "example.v1.Job", example_v1_Job_fields, &job);

  if (r < 0) {
    /* A payload it does not handle is answered, never fatal (spec MSG-4). */
    cord_chan_out_t no = {.status = (uint32_t)-(r == CORD_EUNSUPPORTED ? CORD_EUNSUPPORTED : CORD_EFAILED)};
    cord_chan_reply(ch, m->id, &no);
    return;
  }
  for (pb_size_t i = 0; i < job.numbers_count; i++)
    res.sum += job.numbers[i];
  memcpy(res.label, job.label, sizeof res.label);
  /* res is encoded straight into the transmit buffer, with no copy. */
  cord_chan_reply(ch, m->id, &out);
}

int main(int argc, char **argv) {
  cord_chan_cfg_t cfg = {.rx = rx, .rx_len = sizeof rx, .tx = tx, .tx_len = sizeof tx};
  cord_chan_t ch;
  cord_chan_msg_t m;
  (void)argc;

  cord_chan_open_or_exit(&ch, &cfg, argv[0]);
  while (cord_chan_recv(&ch, &m) > 0) {
    for (unsigned i = 0; i < m.nfds; i++)
      close(m.fds[i]);
    if (m.type == CORD_CHAN_EV_MESSAGE && m.id)
      work(&ch, &m);
  }
  return cord_chan_close(&ch);
}
