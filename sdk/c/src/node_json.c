/* node_json.c: JSON texts on Node.js's json binding: an RFC 8259 checker that allocates nothing, and the NODE-7 scanner. */
#include <errno.h>
#include <string.h>

#include "node_codec.h"

/* ---- the checker ---------------------------------------------------------- */

static int is_ws(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const uint8_t *p, size_t i, size_t n) {
  while (i < n && is_ws(p[i]))
    i++;
  return i;
}

static int fail(cord__json_err_t *err, size_t off, const char *why, int code) {
  if (err) {
    err->offset = off;
    err->reason = why;
  }
  return code;
}

/*
 * The length of the UTF-8 sequence starting at p[i] (RFC 3629, table of
 * section 4: no overlong forms, no surrogates, nothing above U+10FFFF), or
 * 0 if it is not one.
 */
static size_t utf8_len(const uint8_t *p, size_t i, size_t n) {
  uint8_t c = p[i], lo = 0x80, hi = 0xBF;
  size_t k, need;
  if (c >= 0xC2 && c <= 0xDF)
    need = 1;
  else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else
    return 0;
  if (n - i <= need)
    return 0;
  if (p[i + 1] < lo || p[i + 1] > hi)
    return 0;
  for (k = 2; k <= need; k++)
    if (p[i + k] < 0x80 || p[i + k] > 0xBF)
      return 0;
  return need + 1;
}

static int is_hex(uint8_t c) {
  return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Checks the string whose opening quote is p[*i]; on success *i is past its closing quote. */
static int check_string(const uint8_t *p, size_t *i, size_t n, cord__json_err_t *err) {
  size_t k = *i + 1, u;
  for (;;) {
    uint8_t c;
    while (k < n && p[k] >= 0x20 && p[k] < 0x80 && p[k] != '"' && p[k] != '\\')
      k++;
    if (k == n)
      return fail(err, *i, "a string is not closed", CORD_ENODE);
    c = p[k];
    if (c == '"') {
      *i = k + 1;
      return 0;
    }
    if (c < 0x20)
      return fail(err, k, "a raw control byte in a string (JSON needs it escaped)", CORD_ENODE);
    if (c == '\\') {
      if (k + 1 == n)
        return fail(err, *i, "a string is not closed", CORD_ENODE);
      c = p[k + 1];
      if (c == 'u') {
        for (u = 2; u < 6; u++)
          if (k + u >= n || !is_hex(p[k + u]))
            return fail(err, k, "\\u needs four hex digits", CORD_ENODE);
        k += 6;
      } else if (strchr("\"\\/bfnrt", c) && c) {
        k += 2;
      } else {
        return fail(err, k, "an escape that JSON does not have", CORD_ENODE);
      }
      continue;
    }
    u = utf8_len(p, k, n);
    if (!u)
      return fail(err, k, "a byte that is not UTF-8", CORD_ENODE);
    k += u;
  }
}

/* Checks the number starting at p[*i]; on success *i is past it. */
static int check_number(const uint8_t *p, size_t *i, size_t n, cord__json_err_t *err) {
  size_t k = *i;
#define DIGIT(x) ((x) < n && p[x] >= '0' && p[x] <= '9')
  if (p[k] == '-')
    k++;
  if (!DIGIT(k))
    return fail(err, k, "a digit was expected", CORD_ENODE);
  if (p[k] == '0') {
    k++;
    if (DIGIT(k))
      return fail(err, k - 1, "a number with a leading zero", CORD_ENODE);
  } else {
    while (DIGIT(k))
      k++;
  }
  if (k < n && p[k] == '.') {
    k++;
    if (!DIGIT(k))
      return fail(err, k, "a digit was expected after '.'", CORD_ENODE);
    while (DIGIT(k))
      k++;
  }
  if (k < n && (p[k] | 0x20) == 'e') {
    k++;
    if (k < n && (p[k] == '+' || p[k] == '-'))
      k++;
    if (!DIGIT(k))
      return fail(err, k, "a digit was expected in the exponent", CORD_ENODE);
    while (DIGIT(k))
      k++;
  }
#undef DIGIT
  *i = k;
  return 0;
}

/*
 * One bit per open level: 1 for an object, 0 for an array. The first
 * CORD__JSON_LOCAL_DEPTH levels live in `local`, deeper ones in the
 * caller's scratch.
 */
typedef struct {
  uint8_t local[CORD__JSON_LOCAL_DEPTH / 8];
  uint8_t *scratch;
  size_t scratch_bits;
  size_t depth;
} levels_t;

static uint8_t *level_byte(levels_t *l, size_t d, uint8_t *mask) {
  *mask = (uint8_t)(1u << (d & 7));
  if (d < CORD__JSON_LOCAL_DEPTH)
    return &l->local[d >> 3];
  d -= CORD__JSON_LOCAL_DEPTH;
  return &l->scratch[d >> 3];
}

static int push_level(levels_t *l, int is_object) {
  uint8_t mask, *b;
  if (l->depth >= CORD__JSON_LOCAL_DEPTH && l->depth - CORD__JSON_LOCAL_DEPTH >= l->scratch_bits)
    return -1;
  b = level_byte(l, l->depth++, &mask);
  *b = is_object ? (uint8_t)(*b | mask) : (uint8_t)(*b & ~mask);
  return 0;
}

static int top_is_object(levels_t *l) {
  uint8_t mask, *b = level_byte(l, l->depth - 1, &mask);
  return (*b & mask) != 0;
}

int cord__json_check(const void *text, size_t len, void *scratch, size_t scratch_len, cord__json_err_t *err) {
  const uint8_t *p = text;
  levels_t l;
  size_t i;
  int r;
  l.scratch = scratch;
  l.scratch_bits = scratch ? scratch_len * 8 : 0;
  l.depth = 0;
  i = skip_ws(p, 0, len);
  if (i == len)
    return fail(err, i, len ? "only whitespace: no JSON value" : "an empty text: no JSON value", CORD_ENODE);
  for (;;) {
    /* A value starts at p[i] (whitespace already skipped). */
    if (i == len)
      return fail(err, i, "the text ends where a value was expected", CORD_ENODE);
    switch (p[i]) {
    case '{':
    case '[':
      /* Each open level needs a byte to close it: a text with more open
       * than bytes left is refused here, which also keeps the depth of any
       * text within len/2, as CORD__JSON_SCRATCH() counts. */
      if (l.depth + 1 > len - i - 1)
        return fail(err, i, "more brackets open than the rest of the text can close", CORD_ENODE);
      if (push_level(&l, p[i] == '{'))
        return fail(err, i, "nesting deeper than the checker's scratch allows", -ENOBUFS);
      i = skip_ws(p, i + 1, len);
      if (i < len && p[i] == (top_is_object(&l) ? '}' : ']')) {
        i++;
        l.depth--;
        break;
      }
      if (top_is_object(&l))
        goto key;
      continue;
    case '"':
      if ((r = check_string(p, &i, len, err)) != 0)
        return r;
      break;
    case 't':
    case 'f':
    case 'n': {
      const char *lit = p[i] == 't' ? "true" : p[i] == 'f' ? "false" : "null";
      size_t m = strlen(lit);
      if (len - i < m || memcmp(p + i, lit, m))
        return fail(err, i, "not a JSON value (true, false and null are lower case and whole)", CORD_ENODE);
      i += m;
      break;
    }
    default:
      if (p[i] == '-' || (p[i] >= '0' && p[i] <= '9')) {
        if ((r = check_number(p, &i, len, err)) != 0)
          return r;
        break;
      }
      return fail(err, i, "a byte that cannot start a JSON value", CORD_ENODE);
    }
    /* A value has ended at p[i]: what may follow depends on the level. */
    for (;;) {
      i = skip_ws(p, i, len);
      if (l.depth == 0) {
        if (i != len)
          return fail(err, i, "data after the JSON text", CORD_ENODE);
        return 0;
      }
      if (i == len)
        return fail(err, i, top_is_object(&l) ? "the text ends inside an object" : "the text ends inside an array",
                    CORD_ENODE);
      if (p[i] == ',') {
        i = skip_ws(p, i + 1, len);
        if (top_is_object(&l))
          goto key;
        break; /* to the next value */
      }
      if (p[i] == (top_is_object(&l) ? '}' : ']')) {
        i++;
        l.depth--;
        continue;
      }
      return fail(err, i, top_is_object(&l) ? "',' or '}' was expected" : "',' or ']' was expected", CORD_ENODE);
    }
    continue;
  key:
    /* A member starts at p[i]: "key" : value. */
    if (i == len || p[i] != '"')
      return fail(err, i, i == len ? "the text ends inside an object" : "a member name (a string) was expected",
                  CORD_ENODE);
    if ((r = check_string(p, &i, len, err)) != 0)
      return r;
    i = skip_ws(p, i, len);
    if (i == len || p[i] != ':')
      return fail(err, i, "':' was expected after a member name", CORD_ENODE);
    i = skip_ws(p, i + 1, len);
  }
}

/* ---- the NODE-7 scanner --------------------------------------------------- */

/*
 * Reads the next UTF-16 unit of the string literal whose content runs
 * from p[*k] (after the opening quote). Returns the unit, 0x10000 for a
 * character that is not ASCII (it equals no ASCII letter, and counts as
 * at least one unit), or -1 at the closing quote or the end of the text.
 */
static long next_unit(const uint8_t *p, size_t *k, size_t n) {
  size_t i = *k;
  long v = 0;
  int j;
  if (i >= n || p[i] == '"')
    return -1;
  if (p[i] != '\\') {
    *k = i + 1;
    if (p[i] < 0x80)
      return p[i];
    while (*k < n && (p[*k] & 0xC0) == 0x80) /* the rest of the character */
      (*k)++;
    return 0x10000;
  }
  if (i + 1 >= n)
    return *k = n, -1;
  switch (p[i + 1]) {
  case 'b': v = '\b'; break;
  case 'f': v = '\f'; break;
  case 'n': v = '\n'; break;
  case 'r': v = '\r'; break;
  case 't': v = '\t'; break;
  case 'u':
    for (j = 2; j < 6; j++) {
      uint8_t c = i + (size_t)j < n ? p[i + (size_t)j] : 0;
      if (!is_hex(c))
        return *k = n, -1;
      v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    *k = i + 6;
    return v;
  default: v = p[i + 1]; break; /* \" \\ \/ stand for themselves */
  }
  *k = i + 2;
  return v;
}

/*
 * Compares the string literal at p[off] (its opening quote) with the ASCII
 * word w: 0 if equal, 1 if it starts with w and goes on, -1 otherwise.
 */
static int literal_cmp(const uint8_t *p, size_t off, size_t n, const char *w) {
  size_t k = off + 1;
  long u;
  for (; *w; w++)
    if (next_unit(p, &k, n) != (unsigned char)*w)
      return -1;
  u = next_unit(p, &k, n);
  return u < 0 ? 0 : 1;
}

/* Skips the string whose opening quote is p[i]; returns the index past its closing quote. */
static size_t skip_string(const uint8_t *p, size_t i, size_t n) {
  for (i++; i < n && p[i] != '"'; i += p[i] == '\\' ? 2 : 1)
    ;
  return i < n ? i + 1 : n;
}

/* Skips the value starting at p[i]; returns the index past it. */
static size_t skip_value(const uint8_t *p, size_t i, size_t n) {
  size_t depth = 0;
  if (i >= n)
    return n;
  if (p[i] == '"')
    return skip_string(p, i, n);
  if (p[i] != '{' && p[i] != '[') {
    while (i < n && !is_ws(p[i]) && p[i] != ',' && p[i] != '}' && p[i] != ']')
      i++;
    return i;
  }
  for (; i < n; i++) {
    if (p[i] == '"') {
      i = skip_string(p, i, n) - 1;
    } else if (p[i] == '{' || p[i] == '[') {
      depth++;
    } else if (p[i] == '}' || p[i] == ']') {
      if (--depth == 0)
        return i + 1;
    }
  }
  return n;
}

static cord__handle_type_t handle_type_of(const uint8_t *p, cord__span_t s, size_t n) {
  static const char *const names[] = {"net.Socket", "net.Server", "net.Native", "dgram.Socket", "dgram.Native"};
  size_t t;
  if (!s.len || p[s.off] != '"')
    return CORD__HANDLE_OTHER;
  for (t = 0; t < sizeof names / sizeof *names; t++)
    if (literal_cmp(p, s.off, n, names[t]) == 0)
      return (cord__handle_type_t)(t + 1);
  return CORD__HANDLE_OTHER;
}

cord__node_kind_t cord__node_scan(const void *text, size_t len, cord__node_msg_t *m) {
  const uint8_t *p = text;
  size_t i = skip_ws(p, 0, len), key, end;
  memset(m, 0, sizeof *m);
  m->kind = CORD__NODE_USER;
  if (i == len || p[i] != '{')
    return m->kind;
  i++;
  for (;;) {
    cord__span_t *slot = NULL;
    i = skip_ws(p, i, len);
    if (i >= len || p[i] != '"')
      break; /* '}' (or not JSON): the members are done */
    key = i;
    i = skip_ws(p, skip_string(p, i, len), len);
    if (i >= len || p[i] != ':')
      break;
    i = skip_ws(p, i + 1, len);
    if (literal_cmp(p, key, len, "cmd") == 0)
      slot = &m->cmd;
    else if (literal_cmp(p, key, len, "msg") == 0)
      slot = &m->msg;
    else if (literal_cmp(p, key, len, "type") == 0)
      slot = &m->type;
    end = skip_value(p, i, len);
    if (slot) { /* duplicate keys: the last one wins, as in JSON.parse */
      slot->off = i;
      slot->len = end - i;
    }
    i = skip_ws(p, end, len);
    if (i >= len || p[i] != ',')
      break;
    i++;
  }
  if (!m->cmd.len || p[m->cmd.off] != '"' || literal_cmp(p, m->cmd.off, len, "NODE_") != 1) {
    memset(m, 0, sizeof *m);
    return m->kind;
  }
  if (literal_cmp(p, m->cmd.off, len, "NODE_HANDLE") == 0)
    m->kind = CORD__NODE_HANDLE;
  else if (literal_cmp(p, m->cmd.off, len, "NODE_HANDLE_ACK") == 0)
    m->kind = CORD__NODE_HANDLE_ACK;
  else if (literal_cmp(p, m->cmd.off, len, "NODE_HANDLE_NACK") == 0)
    m->kind = CORD__NODE_HANDLE_NACK;
  else
    m->kind = CORD__NODE_OTHER;
  if (m->kind == CORD__NODE_HANDLE) {
    m->handle_type = handle_type_of(p, m->type, len);
  } else {
    m->msg.off = m->msg.len = 0;
    m->type.off = m->type.len = 0;
  }
  return m->kind;
}
