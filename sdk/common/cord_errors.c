/* cord_errors.c: messages and names for the Cord error table, and the non-protocol preview. */
#include "cord_errors.h"

#include <errno.h>
#include <string.h>

/* The code as it travels on the wire. Computed unsigned, so that INT_MIN,
 * which stands for codes above 2147483647 (spec ERR-5), has no overflow. */
static unsigned code_of(int err) { return err < 0 ? 0u - (unsigned)err : (unsigned)err; }

const char *cord_strerror(int err) {
  unsigned code = code_of(err);
  switch (code) {
  case 0:
    return "success";
#define CORD__MSG(name, c, fatal, msg) \
  case c:                              \
    return msg;
    CORD_ERRNO_MAP(CORD__MSG)
#undef CORD__MSG
  default:
    break;
  }
  if (code < 1000) {
    /* strerror() may write a shared buffer for unknown values, but every
     * value below 1000 that Linux knows has a static string, and that is
     * the only range that reaches here. */
    return strerror((int)code);
  }
  if (code < 2000)
    return "unknown protocol error";
  if (code < 3000)
    return "unknown SDK error";
  if (code < CORD_APP_ERROR_MIN)
    return "reserved error code";
  if (code > 0x7fffffffu)
    return "error code outside every range";
  return "application error";
}

const char *cord_err_name(int err) {
  switch (code_of(err)) {
#define CORD__NAME(name, c, fatal, msg) \
  case c:                               \
    return #name;
    CORD_ERRNO_MAP(CORD__NAME)
#undef CORD__NAME
#define CORD__POSIX(e) \
  case e:              \
    return #e;
    CORD__POSIX(EPERM) CORD__POSIX(ENOENT) CORD__POSIX(ESRCH) CORD__POSIX(EINTR)
    CORD__POSIX(EIO) CORD__POSIX(E2BIG) CORD__POSIX(ENOEXEC) CORD__POSIX(EBADF)
    CORD__POSIX(ECHILD) CORD__POSIX(EAGAIN) CORD__POSIX(ENOMEM) CORD__POSIX(EACCES)
    CORD__POSIX(EFAULT) CORD__POSIX(EBUSY) CORD__POSIX(EEXIST) CORD__POSIX(ENOTDIR)
    CORD__POSIX(EISDIR) CORD__POSIX(EINVAL) CORD__POSIX(EMFILE) CORD__POSIX(ENFILE)
    CORD__POSIX(ENOTSOCK) CORD__POSIX(EPIPE) CORD__POSIX(ENAMETOOLONG)
    CORD__POSIX(ELOOP) CORD__POSIX(ENOBUFS) CORD__POSIX(EMSGSIZE) CORD__POSIX(ENOTSUP)
    CORD__POSIX(ECONNRESET) CORD__POSIX(ETIMEDOUT) CORD__POSIX(ETXTBSY)
#undef CORD__POSIX
  default:
    return "UNKNOWN";
  }
}

int cord_err_is_fatal(int err) {
  switch (code_of(err)) {
#define CORD__FATAL(name, c, fatal, msg) \
  case c:                                \
    return fatal;
    CORD_ERRNO_MAP(CORD__FATAL)
#undef CORD__FATAL
  default:
    return 0;
  }
}

int cord_preview(const void *buf, unsigned long len, char *out, unsigned long outlen) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *b = buf;
  char tmp[CORD_PREVIEW_MAX + 1];
  unsigned long n = len < 32 ? len : 32, i, k = 0;

  for (i = 0; i < n; i++) {
    tmp[k++] = hex[b[i] >> 4];
    tmp[k++] = hex[b[i] & 15];
    tmp[k++] = ' ';
  }
  tmp[k++] = '|';
  for (i = 0; i < n; i++)
    tmp[k++] = (b[i] >= 0x20 && b[i] <= 0x7e) ? (char)b[i] : '.';
  tmp[k++] = '|';
  tmp[k] = '\0';
  if (outlen == 0)
    return 0;
  if (k >= outlen)
    k = outlen - 1;
  memcpy(out, tmp, k);
  out[k] = '\0';
  return (int)k;
}
