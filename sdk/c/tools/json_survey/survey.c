/* survey.c: how one JSON library (chosen at compile time) judges the texts the json binding must take or refuse; one line per text. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(SURVEY_JANSSON)
#include <jansson.h>
static bool accepts(const char *s, size_t n) {
  json_error_t e;
  json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
  json_decref(v);
  return v != NULL;
}
#elif defined(SURVEY_JSONC)
#include <json-c/json.h>
static bool accepts(const char *s, size_t n) { /* strict, UTF-8 checked, as deep as the text can be */
  struct json_tokener *t = json_tokener_new_ex((int)(n / 2 + 2));
  json_tokener_set_flags(t, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  json_object *o = json_tokener_parse_ex(t, s, (int)n);
  if (!o && json_tokener_get_error(t) == json_tokener_continue)
    o = json_tokener_parse_ex(t, "", 1);
  bool ok = o && json_tokener_get_error(t) == json_tokener_success;
  json_object_put(o);
  json_tokener_free(t);
  return ok;
}
#elif defined(SURVEY_YAJL)
#include <yajl/yajl_parse.h>
static int number(void *c, const char *s, size_t l) { /* numbers as text: no overflow */
  (void)c, (void)s, (void)l;
  return 1;
}
static bool accepts(const char *s, size_t n) {
  static const yajl_callbacks cb = {.yajl_number = number};
  yajl_handle h = yajl_alloc(&cb, NULL, NULL);
  bool ok = yajl_parse(h, (const unsigned char *)s, n) == yajl_status_ok && yajl_complete_parse(h) == yajl_status_ok;
  yajl_free(h);
  return ok;
}
#elif defined(SURVEY_CJSON)
#include <cjson/cJSON.h>
static bool accepts(const char *s, size_t n) {
  const char *end = NULL;
  cJSON *v = cJSON_ParseWithLengthOpts(s, n, &end, 0);
  bool ok = v && end == s + n;
  cJSON_Delete(v);
  return ok;
}
#elif defined(SURVEY_JSONPARSER)
#include <json-parser/json.h>
static bool accepts(const char *s, size_t n) {
  json_settings st = {0};
  char err[json_error_max];
  json_value *v = json_parse_ex(&st, s, n, err);
  json_value_free(v);
  return v != NULL;
}
#elif defined(SURVEY_FASTJSON)
#include <libfastjson/json.h>
static bool accepts(const char *s, size_t n) {
  struct fjson_tokener *t = fjson_tokener_new_ex((int)(n / 2 + 2));
  fjson_tokener_set_flags(t, FJSON_TOKENER_STRICT);
  struct fjson_object *o = fjson_tokener_parse_ex(t, s, (int)n);
  bool ok = o && fjson_tokener_get_error(t) == fjson_tokener_success;
  fjson_object_put(o);
  fjson_tokener_free(t);
  return ok;
}
#elif defined(SURVEY_GLIB)
#include <json-glib/json-glib.h>
static bool accepts(const char *s, size_t n) {
  JsonParser *p = json_parser_new();
  GError *e = NULL;
  bool ok = json_parser_load_from_data(p, s, (gssize)n, &e);
  if (e)
    g_error_free(e);
  g_object_unref(p);
  return ok;
}
#elif defined(SURVEY_JQ)
#include <jv.h>
static bool accepts(const char *s, size_t n) {
  jv v = jv_parse_sized(s, (int)n);
  bool ok = jv_is_valid(v);
  jv_free(v);
  return ok;
}
#elif defined(SURVEY_JSMN)
#define JSMN_STRICT
#include <jsmn.h>
static bool accepts(const char *s, size_t n) {
  jsmn_parser p;
  jsmn_init(&p);
  return jsmn_parse(&p, s, n, NULL, 0) >= 1;
}
#elif defined(SURVEY_CORD)
#include "node_codec.h"
static bool accepts(const char *s, size_t n) {
  size_t need = CORD__JSON_SCRATCH(n);
  void *scratch = need ? malloc(need) : NULL;
  int r = cord__json_check(s, n, scratch, need, NULL);
  free(scratch);
  return r == 0;
}
#else
#error "define one SURVEY_ library"
#endif

/* The texts: (name, valid under RFC 8259, text); a NULL text is [..] nested as deep as the number in the name. */
static const struct {
  const char *name;
  int valid;
  const char *text;
  size_t depth;
} cases[] = {
    {"2**64 as Node.js writes it", 1, "18446744073709552000", 0},
    {"1E400", 1, "1E400", 0},
    {"lone surrogate escape", 1, "\"\\ud800\"", 0},
    {"escaped NUL", 1, "\"a\\u0000b\"", 0},
    {"duplicate keys", 1, "{\"a\":1,\"a\":2}", 0},
    {"a scalar at the top", 1, "7", 0},
    {"-0", 1, "-0", 0},
    {"nesting 2,100", 1, NULL, 2100},
    {"nesting 100,000", 1, NULL, 100000},
    {"raw control byte", 0, "\"a\x01" "b\"", 0},
    {"leading zero", 0, "01", 0},
    {"1.", 0, "1.", 0},
    {"trailing comma", 0, "[1,]", 0},
    {"NaN", 0, "NaN", 0},
    {"comment", 0, "[1/*x*/]", 0},
    {"bad escape", 0, "\"\\x\"", 0},
    {"invalid UTF-8", 0, "\"\xff\"", 0},
    {"UTF-8 surrogate", 0, "\"\xed\xa0\x80\"", 0},
    {"overlong UTF-8", 0, "\"\xc0\xaf\"", 0},
};

int main(void) {
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t d = cases[i].depth, n = d ? 2 * d : strlen(cases[i].text);
    char *t = malloc(n + 1);
    if (d) {
      memset(t, '[', d);
      memset(t + d, ']', d);
    } else {
      memcpy(t, cases[i].text, n);
    }
    t[n] = 0;
    fflush(stdout);
    pid_t pid = fork(); /* a library may crash on a text: that is an answer too */
    if (pid == 0)
      _exit(accepts(t, n) ? 10 : 11);
    int st = 0;
    waitpid(pid, &st, 0);
    const char *verdict = !WIFEXITED(st) ? "crashes" : (WEXITSTATUS(st) == 10) == cases[i].valid ? "ok" :
                          cases[i].valid ? "**refuses**" : "**accepts**";
    printf("%s\t%d\t%s\n", cases[i].name, cases[i].valid, verdict);
    free(t);
  }
  return 0;
}
