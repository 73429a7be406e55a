// Host-side file-system calls node:fs does not have, for Node-API. Built by native/build.mjs
// with the system compiler; where it is missing the host uses node:fs (src/host/native-fs.ts).
//
// lstatAt(dirFd, names) -> Promise<Float64Array>: fstatat(dirFd, name, AT_SYMLINK_NOFOLLOW) for
// every name of one listing page, in one thread-pool job. node:fs can only lstat a path, so the
// host named each entry as /proc/self/fd/N/name (procfs resolves the fd's directory on every
// call) and paid one thread-pool round trip and one BigIntStats object per entry: ~7.5-9 µs of
// CPU per entry against ~1 µs here. Names come from a listing of that directory (no '/'), and
// the final component is never followed, so nothing outside the directory can be reached.
//
// Output: FIELDS doubles per name, in order. Integers that may exceed 2^53 (ino, size) are split
// into high and low 32-bit halves; times are seconds + nanoseconds, both exact in a double.
//
// openRead(dirFd, names, offset, length) -> Promise<{ fields, frame }>: the host's first read of a
// file in one thread-pool job: openat() down `names` from dirFd (directories O_DIRECTORY |
// O_NOFOLLOW, the file O_NOFOLLOW | O_NONBLOCK), fstat, and for a regular file pread of
// [offset, offset + length) clipped to its size, into a frame with FRAME_HEADROOM bytes free in
// front. Through node:fs that was a pool round trip per directory, one for the open and one for
// the read (~50 µs of the event loop each on a 2-core VM). No link is followed: a symlink on the
// way fails with ELOOP/ENOTDIR at `failedAt`, and the caller takes its walk that follows links
// inside the share. The file's fd stays open (the caller caches it) unless something failed.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Keep in sync with src/host/native-fs.ts.
enum {
  F_ERRNO = 0,
  F_MODE,
  F_NLINK,
  F_INO_HI,
  F_INO_LO,
  F_SIZE_HI,
  F_SIZE_LO,
  F_MTIME_S,
  F_MTIME_NS,
  F_CTIME_S,
  F_CTIME_NS,
  F_ATIME_S,
  F_ATIME_NS,
  FIELDS
};

// openRead's extra fields after the stat ones.
enum { F_FAILED_AT = FIELDS, F_FD, OPEN_FIELDS };
// Bytes left free in front of openRead's data for the frame header (protocol FRAME_HEADER_BYTES).
#define FRAME_HEADROOM 6
#define MAX_READ (16 * 1024 * 1024)

// Largest page the host lists at once; more is refused rather than allocated.
#define MAX_NAMES 4096
#define MAX_NAME_BYTES 4096

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int dir_fd;
  size_t count;
  char **names;
  double *out;
} job_t;

static void put_u64(double *f, int hi, int lo, uint64_t v) {
  f[hi] = (double)(v >> 32);
  f[lo] = (double)(v & 0xffffffffu);
}

static void fill_stat(double *f, const struct stat *st) {
  f[F_ERRNO] = 0;
  f[F_MODE] = st->st_mode;
  f[F_NLINK] = (double)st->st_nlink;
  put_u64(f, F_INO_HI, F_INO_LO, (uint64_t)st->st_ino);
  put_u64(f, F_SIZE_HI, F_SIZE_LO, st->st_size < 0 ? 0 : (uint64_t)st->st_size);
  f[F_MTIME_S] = (double)st->st_mtim.tv_sec;
  f[F_MTIME_NS] = (double)st->st_mtim.tv_nsec;
  f[F_CTIME_S] = (double)st->st_ctim.tv_sec;
  f[F_CTIME_NS] = (double)st->st_ctim.tv_nsec;
  f[F_ATIME_S] = (double)st->st_atim.tv_sec;
  f[F_ATIME_NS] = (double)st->st_atim.tv_nsec;
}

static void execute(napi_env env, void *data) {
  (void)env;
  job_t *job = data;
  for (size_t i = 0; i < job->count; i++) {
    double *f = job->out + i * FIELDS;
    struct stat st;
    if (fstatat(job->dir_fd, job->names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
      memset(f, 0, sizeof(double) * FIELDS);
      f[F_ERRNO] = errno != 0 ? errno : EIO;
      continue;
    }
    fill_stat(f, &st);
  }
}

static void free_names(char **names, size_t count);

static void free_job(job_t *job) {
  free_names(job->names, job->count);
  free(job->out);
  free(job);
}

static void complete(napi_env env, napi_status status, void *data) {
  job_t *job = data;
  napi_value result;
  if (status == napi_ok) {
    napi_value buffer;
    void *bytes;
    size_t len = job->count * FIELDS;
    if (napi_create_arraybuffer(env, len * sizeof(double), &bytes, &buffer) == napi_ok &&
        napi_create_typedarray(env, napi_float64_array, len, buffer, 0, &result) == napi_ok) {
      if (len > 0) memcpy(bytes, job->out, len * sizeof(double));
      napi_resolve_deferred(env, job->deferred, result);
    } else {
      napi_value msg;
      napi_create_string_utf8(env, "lstatAt: out of memory", NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, NULL, msg, &result);
      napi_reject_deferred(env, job->deferred, result);
    }
  } else {
    napi_value msg;
    napi_create_string_utf8(env, "lstatAt: cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, job->deferred, result);
  }
  napi_delete_async_work(env, job->work);
  free_job(job);
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static void free_names(char **names, size_t count) {
  if (!names) return;
  for (size_t i = 0; i < count; i++) free(names[i]);
  free(names);
}

// Copies `array` into malloc'd strings, each one path component: non-empty, at most
// MAX_NAME_BYTES, no '/', no NUL (which would cut it short), not "." or "..". So a caller's
// mistake can never reach another directory. NULL with *error set when it is not such a list.
static char **read_names(napi_env env, napi_value array, uint32_t min, size_t *count, const char **error) {
  bool is_array = false;
  uint32_t n = 0;
  *count = 0;
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, array, &n) != napi_ok || n < min || n > MAX_NAMES) {
    *error = "names must be an array of at most 4096 strings";
    return NULL;
  }
  char **names = calloc(n > 0 ? n : 1, sizeof(char *));
  if (!names) {
    *error = "out of memory";
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    size_t len = 0;
    if (napi_get_element(env, array, i, &v) != napi_ok ||
        napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len == 0 || len > MAX_NAME_BYTES) {
      free_names(names, i);
      *error = "names must be non-empty strings";
      return NULL;
    }
    char *name = malloc(len + 1);
    if (!name) {
      free_names(names, i);
      *error = "out of memory";
      return NULL;
    }
    napi_get_value_string_utf8(env, v, name, len + 1, &len);
    names[i] = name;
    if (strchr(name, '/') != NULL || strlen(name) != len || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
      free_names(names, i + 1);
      *error = "a name must be one path component (no '/', NUL, '.' or '..')";
      return NULL;
    }
  }
  *count = n;
  return names;
}

// lstatAt(dirFd: number, names: string[]): Promise<Float64Array>
/**
 * The arguments every job starts with: a directory fd and a names array (at least `min` names).
 * Returns the names (owned by the caller), or NULL after throwing a TypeError.
 */
static char **read_dir_and_names(napi_env env, napi_value fd_arg, napi_value names_arg, uint32_t min, int32_t *fd,
                                 size_t *count) {
  if (napi_get_value_int32(env, fd_arg, fd) != napi_ok || *fd < 0) {
    fail(env, "dirFd must be an fd");
    return NULL;
  }
  const char *error = NULL;
  char **names = read_names(env, names_arg, min, count, &error);
  if (!names) fail(env, error);
  return names;
}

/** Queues `data` on the thread pool and returns the promise its `complete` settles, or NULL. */
static napi_value queue_job(napi_env env, const char *name, napi_async_execute_callback execute,
                            napi_async_complete_callback complete, void *data, napi_async_work *work,
                            napi_deferred *deferred) {
  napi_value promise, resource_name;
  if (napi_create_promise(env, deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_create_async_work(env, NULL, resource_name, execute, complete, data, work) != napi_ok ||
      napi_queue_async_work(env, *work) != napi_ok)
    return NULL;
  return promise;
}

static napi_value js_lstat_at(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2)
    return fail(env, "lstatAt(dirFd, names)");
  int32_t fd;
  size_t count = 0;
  char **names = read_dir_and_names(env, argv[0], argv[1], 0, &fd, &count);
  if (!names) return NULL;
  job_t *job = calloc(1, sizeof *job);
  if (!job) {
    free_names(names, count);
    return fail(env, "out of memory");
  }
  job->dir_fd = fd;
  job->names = names;
  job->count = count;
  job->out = malloc(sizeof(double) * FIELDS * (count > 0 ? count : 1));
  if (!job->out) {
    free_job(job);
    return fail(env, "out of memory");
  }
  napi_value promise = queue_job(env, "wormhole.lstatAt", execute, complete, job, &job->work, &job->deferred);
  if (!promise) {
    free_job(job);
    return fail(env, "lstatAt: could not queue the job");
  }
  return promise;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int dir_fd;
  size_t count;
  char **names;
  int64_t offset;
  size_t length;
  double fields[OPEN_FIELDS];
  unsigned char *data;
  size_t got;
} open_job_t;

static void free_open_job(open_job_t *job) {
  free_names(job->names, job->count);
  free(job->data);
  free(job);
}

static void open_read_execute(napi_env env, void *data) {
  (void)env;
  open_job_t *job = data;
  double *f = job->fields;
  memset(f, 0, sizeof job->fields);
  f[F_FD] = -1;
  int cur = job->dir_fd;
  int owned = 0;
  int fd = -1;
  size_t last = job->count - 1;
  for (size_t i = 0; i <= last; i++) {
    int flags = i < last ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
                         : O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    int next = openat(cur, job->names[i], flags);
    if (next < 0) {
      f[F_ERRNO] = errno != 0 ? errno : EIO;
      f[F_FAILED_AT] = (double)i;
      goto done;
    }
    if (owned) close(cur);
    if (i < last) {
      cur = next;
      owned = 1;
    } else {
      owned = 0;
      fd = next;
    }
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    f[F_ERRNO] = errno != 0 ? errno : EIO;
    f[F_FAILED_AT] = (double)job->count;
    close(fd);
    goto done;
  }
  fill_stat(f, &st);
  f[F_FAILED_AT] = -1;
  f[F_FD] = fd;
  if (!S_ISREG(st.st_mode)) goto done;
  int64_t avail = (int64_t)st.st_size - job->offset;
  size_t want = avail <= 0 ? 0 : (size_t)avail < job->length ? (size_t)avail : job->length;
  job->data = malloc(FRAME_HEADROOM + (want > 0 ? want : 1));
  if (!job->data) {
    f[F_ERRNO] = ENOMEM;
    f[F_FAILED_AT] = (double)job->count;
    f[F_FD] = -1;
    close(fd);
    goto done;
  }
  while (job->got < want) {
    ssize_t n = pread(fd, job->data + FRAME_HEADROOM + job->got, want - job->got, job->offset + (off_t)job->got);
    if (n < 0) {
      if (errno == EINTR) continue;
      f[F_ERRNO] = errno != 0 ? errno : EIO;
      f[F_FAILED_AT] = (double)job->count;
      f[F_FD] = -1;
      close(fd);
      goto done;
    }
    if (n == 0) break;
    job->got += (size_t)n;
  }
done:
  if (owned) close(cur);
}

static void open_read_complete(napi_env env, napi_status status, void *data) {
  open_job_t *job = data;
  napi_value result, fields, buffer, frame;
  void *bytes;
  if (status != napi_ok) {
    // Cancelled before it ran: nothing was opened.
    napi_value msg;
    napi_create_string_utf8(env, "openRead: cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, job->deferred, result);
  } else if (napi_create_object(env, &result) != napi_ok ||
             napi_create_arraybuffer(env, sizeof job->fields, &bytes, &buffer) != napi_ok ||
             napi_create_typedarray(env, napi_float64_array, OPEN_FIELDS, buffer, 0, &fields) != napi_ok) {
    if (job->fields[F_FD] >= 0) close((int)job->fields[F_FD]);
    napi_value msg;
    napi_create_string_utf8(env, "openRead: out of memory", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, job->deferred, result);
  } else {
    memcpy(bytes, job->fields, sizeof job->fields);
    napi_set_named_property(env, result, "fields", fields);
    if (job->data != NULL) {
      void *out;
      // Copied into a Node-owned buffer: no external memory handed to JavaScript (Electron).
      if (napi_create_buffer(env, FRAME_HEADROOM + job->got, &out, &frame) == napi_ok) {
        memcpy((unsigned char *)out + FRAME_HEADROOM, job->data + FRAME_HEADROOM, job->got);
        napi_set_named_property(env, result, "frame", frame);
      }
    }
    napi_resolve_deferred(env, job->deferred, result);
  }
  napi_delete_async_work(env, job->work);
  free_open_job(job);
}

// openRead(dirFd: number, names: string[], offset: number, length: number): Promise<{ fields, frame? }>
static napi_value js_open_read(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4)
    return fail(env, "openRead(dirFd, names, offset, length)");
  double offset, length;
  if (napi_get_value_double(env, argv[2], &offset) != napi_ok || !(offset >= 0) || offset > 9007199254740991.0 ||
      offset != (double)(int64_t)offset)
    return fail(env, "offset must be a non-negative integer");
  if (napi_get_value_double(env, argv[3], &length) != napi_ok || !(length >= 0) || length > MAX_READ ||
      length != (double)(int64_t)length)
    return fail(env, "length must be an integer of at most 16 MiB");
  int32_t fd;
  size_t count = 0;
  char **names = read_dir_and_names(env, argv[0], argv[1], 1, &fd, &count);
  if (!names) return NULL;
  open_job_t *job = calloc(1, sizeof *job);
  if (!job) {
    free_names(names, count);
    return fail(env, "out of memory");
  }
  job->dir_fd = fd;
  job->offset = (int64_t)offset;
  job->length = (size_t)length;
  job->names = names;
  job->count = count;
  napi_value promise =
      queue_job(env, "wormhole.openRead", open_read_execute, open_read_complete, job, &job->work, &job->deferred);
  if (!promise) {
    free_open_job(job);
    return fail(env, "openRead: could not queue the job");
  }
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn, fields;
  napi_create_function(env, "lstatAt", NAPI_AUTO_LENGTH, js_lstat_at, NULL, &fn);
  napi_set_named_property(env, exports, "lstatAt", fn);
  napi_create_uint32(env, FIELDS, &fields);
  napi_set_named_property(env, exports, "fields", fields);
  napi_create_function(env, "openRead", NAPI_AUTO_LENGTH, js_open_read, NULL, &fn);
  napi_set_named_property(env, exports, "openRead", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
