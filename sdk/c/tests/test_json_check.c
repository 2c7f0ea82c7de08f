/* test_json_check.c: the json binding's checker takes every RFC 8259 text (what Node.js writes included) and refuses the rest, saying what and where. */
#include <stdlib.h>
#include <sys/wait.h>

#include "helpers.h"
#include "node_codec.h"

static int check(const char *s, size_t n, cord__json_err_t *e) {
  return cord__json_check(s, n, NULL, 0, e);
}

static void accepts(const char *s) {
  cord__json_err_t e = {0, NULL};
  int r = check(s, strlen(s), &e);
  cr_expect_eq(r, 0, "refused [%s] at %zu: %s", s, e.offset, e.reason ? e.reason : "");
}

static void refuses(const char *s, size_t n, size_t at, const char *reason_part) {
  cord__json_err_t e = {0, NULL};
  int r = check(s, n, &e);
  cr_expect_eq(r, CORD_ENODE, "accepted [%.*s]", (int)n, s);
  if (r != CORD_ENODE)
    return;
  cr_expect_eq(e.offset, at, "[%.*s]: fault at %zu, expected %zu (%s)", (int)n, s, e.offset, at, e.reason);
  cr_expect(strstr(e.reason, reason_part) != NULL, "[%.*s]: reason \"%s\" lacks \"%s\"", (int)n, s, e.reason,
            reason_part);
}

Test(json_check, the_texts_of_defect_1) {
  accepts("18446744073709552000");                  /* JSON.stringify(2**64) */
  accepts("[1E400,-1e-400,1e+2,0.5E-0]");
  accepts("123456789012345678901234567890.123456789e123456789");
  accepts("\"\\ud800\"");                          /* JSON.stringify('\ud800') */
  accepts("{\"\\udc00x\":\"\\uDBFF\\uDFFF\"}");
  accepts("\"a\\u0000b\"");                        /* NUL, escaped */
  accepts("{\"a\":1,\"a\":2}");
  accepts(" \t\r\n7 \t\r\n");
  accepts("\"\xe2\x80\xa8\xf0\x9f\x98\x80\xc3\xa9\"");
  accepts("-0");
  accepts("[[],{},[{}],{\"a\":[]}]");
  accepts("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
  accepts("true");
  accepts("[false,null]");
}

Test(json_check, refusals_say_what_and_where) {
  refuses("", 0, 0, "empty");
  refuses("  ", 2, 2, "whitespace");
  refuses("\"a\x01" "b\"", 5, 2, "control byte");
  refuses("[\"a\tb\"]", 7, 3, "control byte");
  refuses("01", 2, 0, "leading zero");
  refuses("[1.]", 4, 3, "after '.'");
  refuses("1e", 2, 2, "exponent");
  refuses("-", 1, 1, "digit");
  refuses("[1,]", 4, 3, "cannot start");
  refuses("{\"a\":1,}", 8, 7, "member name");
  refuses("{\"a\" 1}", 7, 5, "':'");
  refuses("[1 2]", 5, 3, "',' or ']'");
  refuses("{\"a\":1 \"b\"}", 11, 7, "',' or '}'");
  refuses("NaN", 3, 0, "cannot start");
  refuses("'a'", 3, 0, "cannot start");
  refuses("tru", 3, 0, "true, false and null");
  refuses("\"\xff\"", 3, 1, "UTF-8");
  refuses("\"\xed\xa0\x80\"", 5, 1, "UTF-8");  /* a surrogate, in UTF-8 */
  refuses("\"\xc0\xaf\"", 4, 1, "UTF-8");      /* overlong */
  refuses("\"\xf4\x90\x80\x80\"", 6, 1, "UTF-8"); /* above U+10FFFF */
  refuses("\"\xe2\x82\"", 4, 1, "UTF-8");      /* cut short */
  refuses("{} x", 4, 3, "after the JSON text");
  refuses("[1/*c*/]", 8, 2, "',' or ']'");
  refuses("\"\\x\"", 4, 1, "escape");
  refuses("\"\\u12g4\"", 8, 1, "four hex");
  refuses("\"abc", 4, 0, "not closed");
  refuses("[[1]", 4, 4, "inside an array");
  refuses("{\"a\":{}", 7, 5, "more brackets open than");
  refuses("{\"a\":1", 6, 6, "inside an object");
  refuses("\xef\xbb\xbf{}", 5, 0, "cannot start"); /* a byte order mark: JSON.parse refuses it too */
  refuses("{\"a\":1}\0", 8, 7, "after the JSON text");
}

static char *nest(size_t depth, char open, char close) {
  char *b = malloc(2 * depth + 1);
  memset(b, open, depth);
  memset(b + depth, close, depth);
  b[2 * depth] = 0;
  return b;
}

Test(json_check, deep_nesting_without_recursion_or_malloc) {
  /* 2,100 levels (beyond jansson's 2,048) and the local limit fit in the checker's own bits. */
  char *t = nest(2100, '[', ']');
  accepts(t);
  free(t);
  t = nest(CORD__JSON_LOCAL_DEPTH, '[', ']');
  accepts(t);
  free(t);

  /* Deeper needs the caller's scratch, one bit a level: without it the
   * answer is ENOBUFS, never "not JSON". Objects and arrays alternate
   * ([{"": [{"": ...), so every bit matters. */
  size_t levels = 200000, n, k = 0;
  t = malloc(levels * 7 + 2);
  for (size_t i = 0; i < levels; i++)
    memcpy(t + k, "[{\"\":", 5), k += 5;
  t[k++] = '0';
  for (size_t i = 0; i < levels; i++)
    t[k++] = '}', t[k++] = ']';
  n = k;
  cord__json_err_t e;
  cr_expect_eq(cord__json_check(t, n, NULL, 0, &e), -ENOBUFS);
  cr_expect(strstr(e.reason, "scratch") != NULL);
  size_t need = CORD__JSON_SCRATCH(n);
  cr_assert_gt(need, 0);
  void *scratch = malloc(need);
  cr_expect_eq(cord__json_check(t, n, scratch, need, &e), 0, "%s at %zu", e.reason, e.offset);
  /* A mismatched bracket at the very bottom is found. */
  t[n - 1] = '}';
  cr_expect_eq(cord__json_check(t, n, scratch, need, &e), CORD_ENODE);
  cr_expect_eq(e.offset, n - 1);
  free(scratch);
  free(t);
}

/* Found by fuzz_json: a text that opens more levels than it has bytes to
 * close (so it is not JSON) went past the scratch that CORD__JSON_SCRATCH()
 * sizes for its length, and was refused with ENOBUFS, not CORD_ENODE. */
Test(json_check, regression_unclosable_depth_is_not_json) {
  size_t n = 11000;
  char *t = malloc(n);
  memset(t, '[', 9000);
  memset(t + 9000, ']', n - 9000);
  cord__json_err_t e;
  cr_expect_eq(CORD__JSON_SCRATCH(n), 0, "a text this short needs no scratch");
  cr_expect_eq(cord__json_check(t, n, NULL, 0, &e), CORD_ENODE);
  cr_expect_eq(e.offset, 5500, "refused at the first level that cannot close");
  free(t);
}

/* Node.js writes these texts itself: each must pass, as JSON.parse takes them. */
Test(json_check, what_node_writes, .timeout = 120) {
  if (!CORD_TEST_NODE[0])
    cr_skip_test("node is not installed");
  const char *script =
      "const v=[2**64,-(2**64),1e300,5e-324,'\\ud800','\\udfff\\ud800','a\\u0000b','\\u2028\\u2029',"
      "{['\\ud800']:1},'\\u{1F600}',[[[[]]]],{a:{b:{c:[]}}},-0,Number.MAX_VALUE,0.1+0.2];"
      "for (const x of v) console.log(JSON.stringify(x));"
      "let d=[];for(let i=0;i<4000;i++)d=[d];console.log(JSON.stringify(d));"
      "let o={};for(let i=0;i<4000;i++)o={k:o};console.log(JSON.stringify(o));";
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' -e \"%s\"", CORD_TEST_NODE, script);
  FILE *f = popen(cmd, "r");
  cr_assert(f != NULL);
  size_t cap = 1 << 20, lines = 0;
  char *line = malloc(cap);
  while (fgets(line, (int)cap, f)) {
    size_t n = strlen(line);
    cr_assert(n && line[n - 1] == '\n', "line longer than the buffer");
    line[--n] = 0;
    cord__json_err_t e = {0, NULL};
    cr_expect_eq(cord__json_check(line, n, NULL, 0, &e), 0, "Node wrote [%.80s], refused at %zu: %s", line,
                 e.offset, e.reason ? e.reason : "");
    lines++;
  }
  free(line);
  cr_assert_eq(WEXITSTATUS(pclose(f)), 0);
  cr_expect_eq(lines, 17, "node printed %zu lines", lines);
}
