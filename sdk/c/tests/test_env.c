/* test_env.c: the `env` option replaces the environment, the default inherits it, and the channel variable is always right. */
#include <stdlib.h>

#include "helpers.h"

Test(env, explicit_environment_replaces_the_parents, .timeout = 30) {
  cord_proc_t c;
  char j[16384];
  const char *args[] = {"report", NULL};
  /* A stale channel variable must not win over the real one. */
  const char *env[] = {"CORD_TEST_VAR=explicit", "CORD_CHANNEL_FD=99", "PATH=/usr/bin:/bin", NULL};
  cord_options_t o = {0};
  setenv("CORD_TEST_VAR", "inherited", 1);
  o.env = env;
  spawn_report(&c, args, &o, j, sizeof j);
  cr_expect(has(j, "\"CORD_TEST_VAR\":\"explicit\""), "%s", j);
  cr_expect(has(j, "\"channel_fd\":3,"), "%s", j);
  cord_proc_close(&c);
}

Test(env, default_environment_is_the_parents, .timeout = 30) {
  cord_proc_t c;
  char j[16384];
  const char *args[] = {"report", NULL};
  setenv("CORD_TEST_VAR", "inherited", 1);
  spawn_report(&c, args, NULL, j, sizeof j);
  cr_expect(has(j, "\"CORD_TEST_VAR\":\"inherited\""), "%s", j);
  /* The child removed the channel variable after reading it (CHAN-6). */
  cr_expect(has(j, "\"CORD_CHANNEL_FD\":false"), "%s", j);
  cord_proc_close(&c);
}

Test(env, parent_environment_is_not_changed, .timeout = 30) {
  cord_proc_t c;
  const char *args[] = {"echo", NULL};
  unsetenv("CORD_CHANNEL_FD");
  spawn_fake(&c, args, NULL);
  cr_expect_null(getenv("CORD_CHANNEL_FD"));
  cord_proc_close(&c);
}
