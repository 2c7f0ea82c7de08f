/* test_node_internal.c: NODE-7: which JSON texts are Node.js's internal messages, decided by a scan no valid text can fail, and checked against Node.js itself. */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include "node_codec.h"
#include "node_peer.h"

typedef struct {
  const char *text;
  cord__node_kind_t kind;
} case_t;

/* Texts and what Node.js makes of them; every one is also sent to a real Node.js below. */
static const case_t cases[] = {
    {"{\"cmd\":\"NODE_X\"}", CORD__NODE_OTHER},
    {"{\"cmd\":\"NODE_\"}", CORD__NODE_USER}, /* 5 characters: not more than 5 */
    {"{\"cmd\":\"node_x\"}", CORD__NODE_USER},
    {"{\"cmd\":\"NODE_HANDLE\"}", CORD__NODE_HANDLE},
    {"{\"cmd\":\"NODE_CLUSTER\",\"act\":\"online\"}", CORD__NODE_OTHER},
    {"{\"\\u0063md\":\"NODE_X\"}", CORD__NODE_OTHER},           /* escapes count as decoded */
    {"{\"cmd\":\"\\u004eODE_X\"}", CORD__NODE_OTHER},
    {"{\"cmd\":\"NODE\\u005fHANDLE\"}", CORD__NODE_HANDLE},
    {"{\"cmd\":\"NODE_\\ud800\"}", CORD__NODE_OTHER},           /* one UTF-16 unit more */
    {"{\"cmd\":\"NODE_\xc3\xa9\"}", CORD__NODE_OTHER},
    {"{\"cmd\":\"NODE_\\u0000\"}", CORD__NODE_OTHER},
    {"{\"cmd\":\"NODE\\\\_X\"}", CORD__NODE_USER},
    {"{\"cmd\":\"NODE_X\",\"cmd\":\"x\"}", CORD__NODE_USER},    /* the last key wins */
    {"{\"cmd\":\"x\",\"cmd\":\"NODE_X\"}", CORD__NODE_OTHER},
    {"{\"a\":{\"cmd\":\"NODE_X\"}}", CORD__NODE_USER},          /* only the top level counts */
    {"[{\"cmd\":\"NODE_X\"}]", CORD__NODE_USER},
    {"\"NODE_X\"", CORD__NODE_USER},
    {"{\"cmd\":[\"NODE_X\"]}", CORD__NODE_USER},
    {"{\"cmd\":null}", CORD__NODE_USER},
    {" { \"a\\\"cmd\" : 1 , \"cmd\" : \"NODE_Y\" } ", CORD__NODE_OTHER},
    {"{\"x\":\"}\\\"{\",\"cmd\":\"NODE_Y\"}", CORD__NODE_OTHER},
    /* The texts of defect 2: valid JSON that a library refused, so they leaked. */
    {"{\"cmd\":\"NODE_X\",\"n\":18446744073709552000}", CORD__NODE_OTHER},
    {"{\"cmd\":\"NODE_X\",\"s\":\"\\ud800\"}", CORD__NODE_OTHER},
    {"{\"n\":1E400,\"cmd\":\"NODE_X\"}", CORD__NODE_OTHER},
};

Test(node_internal, the_rule_on_each_case) {
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cord__node_msg_t m;
    cr_expect_eq(cord__json_check(cases[i].text, strlen(cases[i].text), NULL, 0, NULL), 0, "[%s] is JSON",
                 cases[i].text);
    cr_expect_eq(cord__node_scan(cases[i].text, strlen(cases[i].text), &m), cases[i].kind, "[%s]: kind %d",
                 cases[i].text, m.kind);
  }
}

Test(node_internal, acks_and_deep_nesting) {
  cord__node_msg_t m;
  cr_expect_eq(cord__node_scan("{\"cmd\":\"NODE_HANDLE_ACK\"}", 25, &m), CORD__NODE_HANDLE_ACK);
  cr_expect_eq(cord__node_scan("{\"cmd\":\"NODE_HANDLE_NACK\"}", 26, &m), CORD__NODE_HANDLE_NACK);
  /* 2,100 levels inside an internal message (defect 2) and 100,000. */
  size_t levels[] = {2100, 100000};
  for (size_t l = 0; l < 2; l++) {
    size_t d = levels[l], n = 0;
    char *t = malloc(2 * d + 64);
    n += (size_t)sprintf(t, "{\"deep\":");
    memset(t + n, '[', d), n += d;
    memset(t + n, ']', d), n += d;
    n += (size_t)sprintf(t + n, ",\"cmd\":\"NODE_X\"}");
    cr_expect_eq(cord__node_scan(t, n, &m), CORD__NODE_OTHER, "depth %zu", d);
    free(t);
  }
}

static int span_is(const char *text, cord__span_t s, const char *want) {
  return s.len == strlen(want) && !memcmp(text + s.off, want, s.len);
}

Test(node_internal, node_handle_msg_and_type) {
  const char *t = "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Server\",\"msg\":{\"a\":[1,\"}]\"],\"b\":{}}}";
  cord__node_msg_t m;
  cr_assert_eq(cord__node_scan(t, strlen(t), &m), CORD__NODE_HANDLE);
  cr_expect(span_is(t, m.msg, "{\"a\":[1,\"}]\"],\"b\":{}}"), "msg span [%.*s]", (int)m.msg.len, t + m.msg.off);
  cr_expect(span_is(t, m.type, "\"net.Server\""));
  cr_expect_eq(m.handle_type, CORD__HANDLE_NET_SERVER);

  t = "{ \"msg\" : 7 , \"type\":\"net\\u002eSocket\",\"cmd\":\"NODE_HANDLE\",\"msg\":\"last\"}";
  cr_assert_eq(cord__node_scan(t, strlen(t), &m), CORD__NODE_HANDLE);
  cr_expect(span_is(t, m.msg, "\"last\""));
  cr_expect_eq(m.handle_type, CORD__HANDLE_NET_SOCKET);

  t = "{\"cmd\":\"NODE_HANDLE\",\"type\":\"dgram.Socket\",\"dgramType\":\"udp4\",\"msg\":null}";
  cr_assert_eq(cord__node_scan(t, strlen(t), &m), CORD__NODE_HANDLE);
  cr_expect(span_is(t, m.msg, "null"));
  cr_expect_eq(m.handle_type, CORD__HANDLE_DGRAM_SOCKET);

  t = "{\"cmd\":\"NODE_HANDLE\",\"type\":1}";
  cr_assert_eq(cord__node_scan(t, strlen(t), &m), CORD__NODE_HANDLE);
  cr_expect_eq(m.msg.len, 0, "no msg member");
  cr_expect_eq(m.handle_type, CORD__HANDLE_OTHER);

  t = "{\"cmd\":\"NODE_X\",\"msg\":1}"; /* spans are for NODE_HANDLE only */
  cr_assert_eq(cord__node_scan(t, strlen(t), &m), CORD__NODE_OTHER);
  cr_expect_eq(m.msg.len, 0);
}

Test(node_internal, nothing_outside_the_text) {
  /* Texts cut at every length: any kind, no read past the end (ASan). */
  const char *t = "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":{\"a\":\"\\u00e9\\\"\"}}";
  size_t n = strlen(t);
  for (size_t k = 0; k <= n; k++) {
    char *c = malloc(k ? k : 1);
    memcpy(c, t, k);
    cord__node_msg_t m;
    cord__node_scan(c, k, &m);
    cr_expect(m.msg.off + m.msg.len <= k && m.cmd.off + m.cmd.len <= k && m.type.off + m.type.len <= k);
    free(c);
  }
}

/* Reads one line from fd into buf within the tests' bound on a hang. */
static void read_line(int fd, char *buf, size_t cap) {
  size_t n = 0;
  while (n + 1 < cap) {
    struct pollfd p = {fd, POLLIN, 0};
    cr_assert_eq(poll(&p, 1, WAIT_MS), 1, "node did not answer");
    cr_assert_eq(read(fd, buf + n, 1), 1, "node's output ended");
    if (buf[n] == '\n')
      break;
    n++;
  }
  buf[n] = 0;
}

/* Every case above, sent to a real Node.js child on its json channel:
 * it reports whether it emitted 'message' or 'internalMessage'. */
Test(node_internal, node_agrees, .timeout = 120) {
  int sock, out[2];
  cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
  pid_t pid = spawn_node_peer(NODE_INTERNAL_PEER_JS, "json", out[1], &sock);
  close(out[1]);
  char line[256];
  read_line(out[0], line, sizeof line);
  cr_assert_str_eq(line, "ready");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t n = strlen(cases[i].text);
    cr_assert_eq(write(sock, cases[i].text, n), (ssize_t)n);
    cr_assert_eq(write(sock, "\n", 1), 1);
    read_line(out[0], line, sizeof line);
    int internal = !strncmp(line, "internal", 8);
    cr_expect_eq(internal, cases[i].kind != CORD__NODE_USER, "[%s]: node says %s", cases[i].text, line);
  }
  close(sock); /* end of file: the child's channel closes and it exits */
  expect_node_exit_0(pid);
  close(out[0]);
}

/* The same rule on `advanced` messages (as Node.js's advanced channel wrote them). */
static const struct {
  uint8_t bytes[64];
  size_t len;
  cord__node_kind_t kind;
} v8_cases[] = {
    {{0xff, 0x0f, 0x6f, 0x22, 0x03, 0x63, 0x6d, 0x64, 0x22, 0x0b, 0x4e, 0x4f, 0x44, 0x45, 0x5f, 0x48, 0x41, 0x4e, 0x44,
      0x4c, 0x45, 0x22, 0x04, 0x74, 0x79, 0x70, 0x65, 0x22, 0x0a, 0x6e, 0x65, 0x74, 0x2e, 0x53, 0x6f, 0x63, 0x6b, 0x65,
      0x74, 0x22, 0x03, 0x6d, 0x73, 0x67, 0x6f, 0x22, 0x03, 0x73, 0x65, 0x71, 0x49, 0x02, 0x7b, 0x01, 0x7b, 0x03},
     56, CORD__NODE_HANDLE}, /* {cmd: 'NODE_HANDLE', type: 'net.Socket', msg: {seq: 1}} */
    {{0xff, 0x0f, 0x6f, 0x22, 0x03, 0x63, 0x6d, 0x64, 0x22, 0x05, 0x4e, 0x4f, 0x44, 0x45, 0x5f, 0x7b, 0x01},
     17, CORD__NODE_USER}, /* {cmd: 'NODE_'} */
    {{0xff, 0x0f, 0x41, 0x01, 0x49, 0x02, 0x22, 0x03, 0x63, 0x6d, 0x64, 0x22, 0x06, 0x4e, 0x4f, 0x44, 0x45, 0x5f, 0x58,
      0x24, 0x01, 0x01},
     22, CORD__NODE_OTHER}, /* an array with a cmd property */
    {{0xff, 0x0f, 0x6f, 0x22, 0x03, 0x63, 0x6d, 0x64, 0x73, 0x22, 0x06, 0x4e, 0x4f, 0x44, 0x45, 0x5f, 0x58, 0x7b, 0x01},
     19, CORD__NODE_USER}, /* {cmd: new String('NODE_X')}: not a string */
    {{0xff, 0x0f, 0x6f, 0x22, 0x03, 0x63, 0x6d, 0x64, 0x63, 0x0c, 0x4e, 0x00, 0x4f, 0x00, 0x44, 0x00, 0x45, 0x00, 0x5f,
      0x00, 0xac, 0x20, 0x7b, 0x01},
     24, CORD__NODE_OTHER}, /* {cmd: 'NODE_\u20ac'}, in UTF-16 */
};

Test(node_internal, advanced_messages) {
  cord_arena_t a;
  cord_arena_init(&a, 0);
  for (size_t i = 0; i < sizeof v8_cases / sizeof *v8_cases; i++) {
    const cord_value_t *v, *msg;
    cord__handle_type_t type;
    cr_assert_eq(cord_v8_decode(&a, v8_cases[i].bytes, v8_cases[i].len, 0, &v, NULL), 0, "case %zu", i);
    cr_expect_eq(cord__node_value_kind(v, &msg, &type), v8_cases[i].kind, "case %zu", i);
    if (v8_cases[i].kind == CORD__NODE_HANDLE) {
      cr_expect_eq(type, CORD__HANDLE_NET_SOCKET);
      cr_expect_eq(cord_value_get(msg, "seq")->u.int32, 1);
    }
  }
  cord_arena_free(&a);
}

Test(node_internal, node_agrees_on_advanced_messages, .timeout = 120) {
  int sock, out[2];
  char line[256];
  cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
  pid_t pid = spawn_node_peer(NODE_INTERNAL_PEER_JS, "advanced", out[1], &sock);
  close(out[1]);
  read_line(out[0], line, sizeof line);
  cr_assert_str_eq(line, "ready");
  for (size_t i = 0; i < sizeof v8_cases / sizeof *v8_cases; i++) {
    uint8_t h[4] = {0, 0, 0, (uint8_t)v8_cases[i].len};
    cr_assert_eq(write(sock, h, 4), 4);
    cr_assert_eq(write(sock, v8_cases[i].bytes, v8_cases[i].len), (ssize_t)v8_cases[i].len);
    read_line(out[0], line, sizeof line);
    cr_expect_eq(!strncmp(line, "internal", 8), v8_cases[i].kind != CORD__NODE_USER, "case %zu: node says %s", i, line);
  }
  close(sock);
  expect_node_exit_0(pid);
  close(out[0]);
}
