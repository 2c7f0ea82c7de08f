/* test_error_table.c: the error table in cord_errors.h is the table of spec section 11, row for row. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cord_errors.h"

typedef struct {
  const char *name;
  int code, fatal;
} row_t;

static const row_t header_rows[] = {
#define ROW(name, code, fatal, msg) {#name, code, fatal},
    CORD_ERRNO_MAP(ROW)
#undef ROW
};
#define NROWS (sizeof header_rows / sizeof header_rows[0])

/* Finds "| code | NAME | CORD_xxx | yes/no | ... |" rows in the spec. */
Test(error_table, spec_and_header_agree) {
  FILE *f = fopen(CORD_SPEC_FILE, "r");
  char line[1024];
  size_t found = 0;
  cr_assert_not_null(f);
  while (fgets(line, sizeof line, f)) {
    int code;
    char wire[64], cname[64], fatal[8];
    if (sscanf(line, "| %d | %63s | %63s | %7s |", &code, wire, cname, fatal) != 4)
      continue;
    if (strncmp(cname, "CORD_", 5) != 0)
      continue;
    size_t i;
    for (i = 0; i < NROWS; i++)
      if (header_rows[i].code == code)
        break;
    cr_assert_lt(i, NROWS, "spec code %d (%s) is not in cord_errors.h", code, cname);
    cr_expect_str_eq(cname + 5, header_rows[i].name, "code %d", code);
    cr_expect_eq(strcmp(fatal, "yes") == 0, header_rows[i].fatal, "code %d fatality", code);
    cr_expect_eq(cord_err_is_fatal(-code), header_rows[i].fatal);
    found++;
  }
  fclose(f);
  cr_expect_eq(found, NROWS, "the spec has %zu rows, the header %zu", found, NROWS);
}

Test(error_table, constants_are_negated_codes) {
  cr_expect_eq(CORD_EPROTOCOL, -1000);
  cr_expect_eq(CORD_EFRAMESIZE, -1001);
  cr_expect_eq(CORD_ETOOBIG, -2004);
  for (size_t i = 0; i < NROWS; i++) {
    int c = header_rows[i].code;
    cr_expect((c >= 1000 && c < 2000) || (c >= 2000 && c < 3000), "code %d out of range", c);
    cr_expect_str_eq(cord_err_name(-c), header_rows[i].name);
    cr_expect_str_eq(cord_err_name(c), header_rows[i].name, "positive wire form");
    cr_expect_neq(strcmp(cord_strerror(-c), "unknown protocol error"), 0);
  }
}

Test(error_table, strerror_covers_every_range) {
  cr_expect_str_eq(cord_strerror(0), "success");
  cr_expect_str_eq(cord_strerror(-ENOENT), strerror(ENOENT));
  cr_expect_str_eq(cord_err_name(-ENOENT), "ENOENT");
  cr_expect_str_eq(cord_strerror(-1999), "unknown protocol error");
  cr_expect_str_eq(cord_strerror(2999), "unknown SDK error");
  cr_expect_str_eq(cord_strerror(-5000), "reserved error code");
  cr_expect_str_eq(cord_strerror(-10000), "application error");
  cr_expect_str_eq(cord_err_name(-123456), "UNKNOWN");
  /* ERR-2: unknown protocol codes and application codes are not fatal. */
  cr_expect_eq(cord_err_is_fatal(-1999), 0);
  cr_expect_eq(cord_err_is_fatal(-10000), 0);
  cr_expect_eq(cord_err_is_fatal(CORD_ETRUNCATED), 1);
}
