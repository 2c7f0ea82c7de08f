/* test_spec_examples.c: every hex example in spec/cord-v1.md is extracted from the spec and checked against the codecs. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cord.h"
#include "cord.pb-c.h"
#include "cord_child_codec.h"
#include "cord_errors.h"

/* One fenced block of the spec: its kind ("frame", "prefix", ...), its
 * name (may be empty) and its lines. */
typedef struct {
  char kind[16];
  char name[64];
  char *body;
} block_t;

static block_t blocks[128];
static int nblocks;

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  long n;
  char *s;
  cr_assert_not_null(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  rewind(f);
  s = malloc((size_t)n + 1);
  cr_assert_not_null(s);
  cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
  s[n] = '\0';
  fclose(f);
  return s;
}

/* Collects the blocks opened by "```kind name" for the kinds the spec
 * says its tests check. */
static void load_blocks(void) {
  static const char *kinds[] = {"frame", "prefix", "preview", "node-line", "node-frame"};
  char *spec = read_file(CORD_SPEC_FILE);
  char *line = spec;
  nblocks = 0;
  while (line && *line) {
    char *next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    if (strncmp(line, "```", 3) == 0 && line[3] != '\0') {
      for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        size_t kl = strlen(kinds[k]);
        if (strncmp(line + 3, kinds[k], kl) == 0 && (line[3 + kl] == ' ' || line[3 + kl] == '\0')) {
          block_t *b = &blocks[nblocks++];
          size_t cap = 4096, used = 0;
          cr_assert_lt(nblocks, 128);
          snprintf(b->kind, sizeof b->kind, "%s", kinds[k]);
          snprintf(b->name, sizeof b->name, "%s", line[3 + kl] ? line + 4 + kl : "");
          b->body = calloc(cap, 1);
          while (next && strncmp(next, "```", 3) != 0) {
            char *nl = strchr(next, '\n');
            size_t l = nl ? (size_t)(nl - next) : strlen(next);
            cr_assert_lt(used + l + 2, cap, "block %s too long", b->name);
            memcpy(b->body + used, next, l);
            used += l;
            b->body[used++] = '\n';
            next = nl ? nl + 1 : NULL;
          }
          cr_assert_not_null(next, "block %s is not closed", b->name);
        }
      }
    }
    line = next;
  }
  free(spec);
}

/* The text after "key: " on the block line that starts with key, or NULL. */
static char *field(const block_t *b, const char *key, char *out, size_t cap) {
  size_t kl = strlen(key);
  const char *p = b->body;
  while (p && *p) {
    const char *nl = strchr(p, '\n');
    if (strncmp(p, key, kl) == 0 && p[kl] == ':' && p[kl + 1] == ' ') {
      size_t l = (size_t)(nl - p) - kl - 2;
      cr_assert_lt(l, cap);
      memcpy(out, p + kl + 2, l);
      out[l] = '\0';
      return out;
    }
    p = nl ? nl + 1 : NULL;
  }
  return NULL;
}

/* Parses "00 0a ff" into bytes; fails the test on anything else. */
static size_t parse_hex(const char *s, uint8_t *out, size_t cap) {
  size_t n = 0;
  while (*s) {
    unsigned v;
    if (*s == ' ') {
      s++;
      continue;
    }
    cr_assert(isxdigit((unsigned char)s[0]) && isxdigit((unsigned char)s[1]) &&
                  !isupper((unsigned char)s[0]) && !isupper((unsigned char)s[1]),
              "bad hex at \"%s\"", s);
    cr_assert_eq(sscanf(s, "%2x", &v), 1);
    cr_assert_lt(n, cap);
    out[n++] = (uint8_t)v;
    s += 2;
  }
  return n;
}

/* Collapses runs of whitespace to one space and trims the ends. */
static void squeeze(char *s) {
  char *w = s;
  int space = 1;
  for (char *r = s; *r; r++) {
    if (isspace((unsigned char)*r)) {
      if (!space)
        *w++ = ' ';
      space = 1;
    } else {
      *w++ = *r;
      space = 0;
    }
  }
  if (w > s && w[-1] == ' ')
    w--;
  *w = '\0';
}

/* Decodes body bytes with protoc --decode, an implementation independent
 * of both C codecs, and returns its text format squeezed to one line. */
static void protoc_decode(const uint8_t *body, size_t len, char *out, size_t cap) {
  int in[2], res[2];
  pid_t pid;
  size_t used = 0;
  ssize_t r;
  int status;
  cr_assert_eq(pipe(in), 0);
  cr_assert_eq(pipe(res), 0);
  pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(res[1], 1);
    close(in[0]);
    close(in[1]);
    close(res[0]);
    close(res[1]);
    execl(CORD_PROTOC, "protoc", "-I" CORD_PROTO_DIR, "--decode=cord.v1.Frame", "cord.proto",
          (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(res[1]);
  cr_assert_eq(write(in[1], body, len), (ssize_t)len);
  close(in[1]);
  while ((r = read(res[0], out + used, cap - 1 - used)) > 0)
    used += (size_t)r;
  out[used] = '\0';
  close(res[0]);
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "protoc --decode failed");
  squeeze(out);
}

static int count(const char *kind) {
  int n = 0;
  for (int i = 0; i < nblocks; i++)
    n += strcmp(blocks[i].kind, kind) == 0;
  return n;
}

Test(spec_examples, every_frame_example_decodes_to_its_text_and_back) {
  static const char *bodies[] = {"hello", "message", "cancel", "ping", "pong", "goodbye", "error"};
  int seen[8] = {0};
  load_blocks();
  cr_assert_geq(count("frame"), 14, "the spec lost frame examples: %d", count("frame"));

  for (int i = 0; i < nblocks; i++) {
    const block_t *b = &blocks[i];
    char hex[2048], text[2048], got[4096];
    uint8_t wire[1024], again[1024];
    size_t n, l;
    Cord__V1__Frame *f;
    cord__frame_t nf;
    if (strcmp(b->kind, "frame") != 0)
      continue;
    cr_assert_not_null(field(b, "hex", hex, sizeof hex), "%s: no hex line", b->name);
    cr_assert_not_null(field(b, "text", text, sizeof text), "%s: no text line", b->name);
    n = parse_hex(hex, wire, sizeof wire);

    /* FRAME-1: a big-endian length that counts the body exactly. */
    cr_assert_geq(n, 4u, "%s", b->name);
    l = (size_t)wire[0] << 24 | (size_t)wire[1] << 16 | (size_t)wire[2] << 8 | wire[3];
    cr_assert_eq(l, n - 4, "%s: prefix says %zu, body has %zu", b->name, l, n - 4);

    /* The text is what an independent decoder makes of the bytes. */
    protoc_decode(wire + 4, n - 4, got, sizeof got);
    squeeze(text);
    cr_expect_str_eq(got, text, "%s: protoc decodes it as [%s]", b->name, got);

    /* protobuf-c decodes it and packs the same bytes again. */
    f = cord__v1__frame__unpack(NULL, n - 4, wire + 4);
    cr_assert_not_null(f, "%s: protobuf-c cannot decode it", b->name);
    cr_assert_eq(cord__v1__frame__get_packed_size(f), n - 4, "%s", b->name);
    cord__v1__frame__pack(f, again);
    cr_expect_arr_eq(again, wire + 4, n - 4, "%s: protobuf-c re-encoding differs", b->name);
    cr_assert(f->body_case >= 1 && f->body_case <= 7, "%s", b->name);
    seen[f->body_case] = 1;

    /* nanopb decodes it and encodes the same bytes again. */
    cr_assert(cord__frame_decode(&nf, wire + 4, n - 4), "%s: nanopb cannot decode it", b->name);
    cr_expect_eq(nf.body, (uint8_t)f->body_case, "%s", b->name);
    cr_expect_eq(cord__frame_encode(&nf, again, sizeof again), n, "%s", b->name);
    cr_expect_arr_eq(again, wire, n, "%s: nanopb re-encoding differs", b->name);
    cord__v1__frame__free_unpacked(f, NULL);
  }
  for (int k = 1; k <= 7; k++)
    cr_expect(seen[k], "no spec example of a %s frame", bodies[k - 1]);
}

Test(spec_examples, prefixes_are_big_endian_lengths) {
  load_blocks();
  cr_assert_geq(count("prefix"), 1);
  for (int i = 0; i < nblocks; i++) {
    char *p;
    if (strcmp(blocks[i].kind, "prefix") != 0)
      continue;
    for (p = blocks[i].body; *p;) {
      char *nl = strchr(p, '\n');
      char *eq;
      uint8_t b[8];
      unsigned long want;
      *nl = '\0';
      eq = strstr(p, " = ");
      cr_assert_not_null(eq, "prefix line without '=': %s", p);
      *eq = '\0';
      cr_assert_eq(parse_hex(p, b, sizeof b), 4u, "a prefix is 4 bytes: %s", p);
      want = strtoul(eq + 3, NULL, 10);
      cr_expect_eq((unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 | (unsigned long)b[2] << 8 | b[3],
                   want, "prefix %s is not %lu", p, want);
      /* FRAME-3: every example is a valid length. */
      cr_expect_lt(b[0], 0x80, "prefix %s has the reserved top bit", p);
      *eq = ' ';
      *nl = '\n';
      p = nl + 1;
    }
  }
}

Test(spec_examples, preview_matches_cord_preview) {
  load_blocks();
  cr_assert_geq(count("preview"), 1);
  for (int i = 0; i < nblocks; i++) {
    char hex[512], shown[512], got[CORD_PREVIEW_MAX];
    uint8_t b[128];
    size_t n;
    if (strcmp(blocks[i].kind, "preview") != 0)
      continue;
    cr_assert_not_null(field(&blocks[i], "bytes", hex, sizeof hex));
    cr_assert_not_null(field(&blocks[i], "shown", shown, sizeof shown));
    n = parse_hex(hex, b, sizeof b);
    cord_preview(b, n, got, sizeof got);
    cr_expect_str_eq(got, shown);
    /* HELLO-7: the first 4 bytes alone exceed the pre-Hello limit of 256. */
    cr_expect_gt((unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 | (unsigned long)b[2] << 8 | b[3],
                 256ul);
  }
}

Test(spec_examples, node_lines_are_json_and_one_newline) {
  load_blocks();
  cr_assert_geq(count("node-line"), 2);
  for (int i = 0; i < nblocks; i++) {
    char json[512], hex[2048];
    uint8_t b[512];
    size_t n, jl;
    if (strcmp(blocks[i].kind, "node-line") != 0)
      continue;
    cr_assert_not_null(field(&blocks[i], "json", json, sizeof json));
    cr_assert_not_null(field(&blocks[i], "hex", hex, sizeof hex));
    n = parse_hex(hex, b, sizeof b);
    jl = strlen(json);
    /* NODE-4: the text, then exactly one 0a, and no 0a inside. */
    cr_expect_eq(n, jl + 1, "line length");
    cr_expect_arr_eq(b, json, jl);
    cr_expect_eq(b[n - 1], 0x0a);
    cr_expect_null(memchr(b, 0x0a, n - 1));
    cr_expect(jl > 0 && json[0] == '{' && json[jl - 1] == '}');
  }
}

Test(spec_examples, node_frames_are_one_v8_value_behind_its_length) {
  load_blocks();
  cr_assert_geq(count("node-frame"), 2);
  for (int i = 0; i < nblocks; i++) {
    char hex[2048];
    uint8_t b[512], again[512];
    size_t n, len;
    cord_arena_t a;
    const cord_value_t *v;
    cord_v8_error_t err;
    if (strcmp(blocks[i].kind, "node-frame") != 0)
      continue;
    cr_assert_not_null(field(&blocks[i], "js", hex, sizeof hex));
    cr_assert_not_null(field(&blocks[i], "hex", hex, sizeof hex));
    n = parse_hex(hex, b, sizeof b);
    /* NODE-12: the length, then exactly that many bytes of one value, as
     * V8 writes it (what the codec writes for what it read). */
    cr_assert_geq(n, 6);
    cr_expect_eq((size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3], n - 4, "frame length");
    cr_expect(b[4] == 0xff && b[5] == 0x0f, "V8's header, version 15");
    cord_arena_init(&a, 0);
    cr_assert_eq(cord_v8_decode(&a, b + 4, n - 4, 0, &v, &err), 0, "%s at %zu", err.what, err.offset);
    cr_assert_eq(cord_v8_encode(v, again, sizeof again, &len, &err), 0, "%s", err.what);
    cr_expect(len == n - 4 && memcmp(again, b + 4, len) == 0, "the codec writes these bytes for the value");
    cord_arena_free(&a);
  }
}

Test(spec_examples, preview_bounds_and_escapes) {
  uint8_t b[40];
  char out[CORD_PREVIEW_MAX];
  for (int i = 0; i < 40; i++)
    b[i] = (uint8_t)(0x7c + i);
  /* Only 32 bytes are shown, whatever the input length. */
  cord_preview(b, sizeof b, out, sizeof out);
  cr_expect_eq(strlen(out), 32 * 3 + 2 + 32);
  cr_expect_eq(strncmp(out, "7c 7d 7e 7f 80 ", 15), 0);
  cr_expect_eq(strncmp(out + 96, "||}~.", 5), 0, "got %s", out + 96);
  /* A short output buffer truncates but stays a C string. */
  cr_expect_eq(cord_preview(b, 4, out, 6), 5);
  cr_expect_str_eq(out, "7c 7d");
}
