// A libfuse3 low-level binding for Node-API, owned by this project.
//
// Why not fuse-native: it is libfuse2's high-level API (128 KiB reads, no readdirplus, a FUSE
// thread parked on a semaphore for every operation) and it hands FUSE's buffers to JavaScript as
// external buffers, which Electron forbids. Here:
//   - FUSE threads never wait for JavaScript. Each request is queued to the JS thread with its
//     path; JavaScript answers later through the reply functions, which write to /dev/fuse
//     directly. Requests are tracked in a slot table, so a late, repeated or forged reply id is
//     refused instead of touching a freed request.
//   - The inode table (kernel node id <-> parent + name) lives here, so JavaScript stays
//     path-based and lookup counts are kept exactly as the kernel sends them.
//   - A directory listing is fetched once at opendir; readdir and readdirplus pages are cut from
//     it on the FUSE thread, and readdirplus hands the kernel every entry's attributes (no lookup
//     per entry for `ls -l`).
//   - Reads up to 1 MiB (FUSE_MAX_MAX_PAGES), replies copy from JS memory into the kernel; no
//     buffer is ever shared with JavaScript.
//   - Invalidations are sent from their own thread: sent from the JS thread they could deadlock
//     against a lookup that holds the directory lock while waiting for a JS reply.
//   - Requests are read on the JS thread itself by default (a libuv poll on the non-blocking
//     /dev/fuse fd): a request then reaches JavaScript with no thread hop, which is what a small
//     read or a lookup mostly costs. The thread loop (libfuse's multi-threaded loop handing each
//     request over with a thread-safe function) stays for builds without libuv's headers.

#define FUSE_USE_VERSION 312
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <fuse_lowlevel.h>
#include <node_api.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <unistd.h>
#ifdef WH_HAVE_UV
#include <uv.h>
#endif

// Operation codes shared with lowlevel-ops.ts (keep in sync).
enum {
  OP_LOOKUP = 1,
  OP_GETATTR = 2,
  OP_READLINK = 3,
  OP_OPEN = 4,
  OP_READ = 5,
  OP_RELEASE = 6,
  OP_OPENDIR = 7,
  OP_STATFS = 8,
  OP_WRITE = 9,
  OP_CREATE = 10,
  OP_SETATTR = 11,
  OP_UNLINK = 12,
  OP_MKDIR = 13,
  OP_RMDIR = 14,
  OP_RENAME = 15,
  OP_FLUSH = 16,
  OP_FSYNC = 17,
};

// Attribute layout in the Float64Arrays JavaScript passes (keep in sync with lowlevel-ops.ts).
enum { A_MODE, A_SIZE, A_MTIME, A_ATIME, A_CTIME, A_NLINK, A_UID, A_GID, A_BLOCKS, A_FIELDS };

// FUSE passthrough (kernel >= 6.9, protocol 7.40). libfuse 3.14 predates it, so the INIT
// reply and passthrough open replies are written here; the layouts are the kernel's ABI.
#define WH_FUSE_INIT 26
#define WH_INIT_EXT (1u << 30)
#define WH_WRITEBACK_CACHE (1u << 16)
#define WH_FLAGS2_PASSTHROUGH (1u << 5)  // FUSE_PASSTHROUGH is bit 37 of the 64-bit flags
#define WH_FOPEN_NOFLUSH (1u << 5)
#define WH_FOPEN_PASSTHROUGH (1u << 7)
struct wh_in_header {
  uint32_t len, opcode;
  uint64_t unique, nodeid;
  uint32_t uid, gid, pid;
  uint16_t total_extlen, padding;
};
struct wh_out_header {
  uint32_t len;
  int32_t error;
  uint64_t unique;
};
struct wh_init_in {
  uint32_t major, minor, max_readahead, flags, flags2, unused[11];
};
struct wh_init_out {
  uint32_t major, minor, max_readahead, flags;
  uint16_t max_background, congestion_threshold;
  uint32_t max_write, time_gran;
  uint16_t max_pages, map_alignment;
  uint32_t flags2, max_stack_depth;
  uint32_t unused[6];
};
struct wh_open_out {
  uint64_t fh;
  uint32_t open_flags;
  int32_t backing_id;
};
struct wh_backing_map {
  int32_t fd;
  uint32_t flags;
  uint64_t padding;
};
#define WH_IOC_BACKING_OPEN _IOW(229, 1, struct wh_backing_map)
#define WH_IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)

// How an open file was answered; kept per node because the kernel refuses to mix a
// passthrough open with a page-cache open of the same inode (ETXTBSY), and every passthrough
// open of one inode must name the same backing file (EBUSY).
enum { OPEN_CACHED = 1, OPEN_PASSTHROUGH = 2 };
typedef struct {
  uint64_t fh;
  uint8_t mode;
} open_rec_t;

// d_ino of names whose node the kernel has not looked up (as libfuse's high-level API does).
#define UNKNOWN_INO 0xffffffffu
#define SLOT_BITS 22
#define SLOT_MASK ((1u << SLOT_BITS) - 1)

typedef struct node {
  uint64_t id;
  uint64_t nlookup;
  uint32_t children;  // nodes in the table whose parent this is
  int hashed;         // reachable by (parent, name)
  struct node *parent;
  char *name;
  struct node *next_id;
  struct node *next_name;
  open_rec_t *opens;  // open files of this node, with how each was answered
  uint32_t nopens, cap_opens;
  uint32_t cached_opens, pt_opens;
  int32_t backing_id;  // > 0 while pt_opens > 0
  char *backing_path;
} node_t;

typedef struct {
  fuse_req_t req;  // NULL when free
  uint32_t gen;
  uint8_t op;
  uint64_t parent;  // lookup/create/mkdir: where the new entry goes; rename: from
  char *name;
  uint64_t parent2;  // rename: to
  char *name2;
  uint64_t unique;  // the kernel's request id (main loop only): for replies written here
  uint32_t next_free;
} slot_t;

typedef struct {
  size_t n;
  char **names;
  struct stat *st;  // st_mode 0: no attributes for that entry
  double attr_timeout;
  double entry_timeout;
  uint64_t ino;
} dirh_t;

typedef struct inval {
  uint64_t ino;
  int64_t off;  // data range of `ino` to drop (len 0: all its data and attributes)
  int64_t len;
  uint64_t parent;
  char *name;  // NULL: inode only
  uint8_t *data;  // set: store these `len` bytes at `off` into the page cache (no invalidation)
  struct inval *next;
} inval_t;

typedef struct mount {
  struct fuse_session *se;
  pthread_t loop_thread;
  int loop_started;
  napi_threadsafe_function tsfn_op;
  napi_threadsafe_function tsfn_exit;
  // Main-thread loop (WH_HAVE_UV): requests are read and handed to JS on the JS thread.
  int main_loop;
  napi_env env;
  napi_ref op_ref;
  napi_ref exit_ref;
  napi_ref resource_ref;
  napi_async_context async_ctx;
  struct fuse_buf buf;
#ifdef WH_HAVE_UV
  uv_poll_t poll;
#endif
  pthread_mutex_t lock;
  int closed;  // after destroy: replies are refused
  int readonly;
  int pt_want;         // asked for passthrough at mount
  int passthrough;     // the kernel agreed to it in INIT
  int init_seen;
  uint64_t cur_unique;  // of the request being processed (main loop)
  double pt_total;      // passthrough opens answered

  node_t **by_id;
  node_t **by_name;
  size_t buckets;
  size_t count;
  uint64_t next_id;
  node_t root;

  slot_t *slots;
  uint32_t nslots;
  uint32_t free_head;  // UINT32_MAX: none

  pthread_t inval_thread;
  pthread_cond_t inval_cond;
  inval_t *inval_head;
  inval_t *inval_tail;
  int inval_stop;
  int inval_started;
} mount_t;

typedef struct {
  uint8_t op;
  double id;
  char *path;
  char *path2;
  double a, b, c, d, e;
  char *data;
  size_t len;
} item_t;

// ---------- inode table (callers hold m->lock) ----------

static uint64_t name_hash(uint64_t parent, const char *name) {
  uint64_t h = 1469598103934665603ull ^ (parent * 0x9E3779B97F4A7C15ull);
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 1099511628211ull;
  return h;
}

static node_t *find_id(mount_t *m, uint64_t id) {
  if (id == FUSE_ROOT_ID) return &m->root;
  for (node_t *n = m->by_id[id % m->buckets]; n; n = n->next_id)
    if (n->id == id) return n;
  return NULL;
}

static node_t *find_name(mount_t *m, uint64_t parent, const char *name) {
  for (node_t *n = m->by_name[name_hash(parent, name) % m->buckets]; n; n = n->next_name)
    if (n->parent->id == parent && strcmp(n->name, name) == 0) return n;
  return NULL;
}

static void unhash_name(mount_t *m, node_t *n) {
  if (!n->hashed) return;
  node_t **pp = &m->by_name[name_hash(n->parent->id, n->name) % m->buckets];
  while (*pp && *pp != n) pp = &(*pp)->next_name;
  if (*pp) *pp = n->next_name;
  n->hashed = 0;
}

static void hash_name(mount_t *m, node_t *n) {
  size_t b = name_hash(n->parent->id, n->name) % m->buckets;
  n->next_name = m->by_name[b];
  m->by_name[b] = n;
  n->hashed = 1;
}

static int grow(mount_t *m) {
  size_t nb = m->buckets * 2;
  node_t **ids = calloc(nb, sizeof(node_t *));
  node_t **names = calloc(nb, sizeof(node_t *));
  if (!ids || !names) {
    free(ids);
    free(names);
    return -1;
  }
  for (size_t i = 0; i < m->buckets; i++) {
    for (node_t *n = m->by_id[i], *next; n; n = next) {
      next = n->next_id;
      n->next_id = ids[n->id % nb];
      ids[n->id % nb] = n;
    }
    for (node_t *n = m->by_name[i], *next; n; n = next) {
      next = n->next_name;
      size_t b = name_hash(n->parent->id, n->name) % nb;
      n->next_name = names[b];
      names[b] = n;
    }
  }
  free(m->by_id);
  free(m->by_name);
  m->by_id = ids;
  m->by_name = names;
  m->buckets = nb;
  return 0;
}

// Frees `n` once the kernel has forgotten it and no child names it, then its parent likewise.
static void maybe_free(mount_t *m, node_t *n) {
  while (n != &m->root && n->nlookup == 0 && n->children == 0) {
    unhash_name(m, n);
    node_t **pp = &m->by_id[n->id % m->buckets];
    while (*pp && *pp != n) pp = &(*pp)->next_id;
    if (*pp) *pp = n->next_id;
    node_t *parent = n->parent;
    parent->children--;
    free(n->name);
    free(n->opens);
    free(n->backing_path);
    free(n);
    m->count--;
    n = parent;
  }
}

// The node for (parent, name) with one more kernel reference; NULL when out of memory or the
// parent is unknown.
static node_t *ref_child(mount_t *m, uint64_t parent_id, const char *name) {
  node_t *n = find_name(m, parent_id, name);
  if (!n) {
    node_t *parent = find_id(m, parent_id);
    if (!parent) return NULL;
    if (m->count + 1 > m->buckets && grow(m) != 0) return NULL;
    n = calloc(1, sizeof(node_t));
    if (!n) return NULL;
    n->name = strdup(name);
    if (!n->name) {
      free(n);
      return NULL;
    }
    n->id = m->next_id++;
    n->parent = parent;
    parent->children++;
    size_t b = n->id % m->buckets;
    n->next_id = m->by_id[b];
    m->by_id[b] = n;
    hash_name(m, n);
    m->count++;
  }
  n->nlookup++;
  return n;
}

// "/a/b" for a node, malloc'd; NULL when out of memory.
static char *path_of(mount_t *m, node_t *n, const char *child) {
  size_t len = child ? strlen(child) + 1 : 0;
  for (node_t *p = n; p != &m->root; p = p->parent) len += strlen(p->name) + 1;
  char *out = malloc(len + 2);
  if (!out) return NULL;
  size_t pos = len;
  out[pos] = 0;
  if (child) {
    size_t l = strlen(child);
    pos -= l;
    memcpy(out + pos, child, l);
    out[--pos] = '/';
  }
  for (node_t *p = n; p != &m->root; p = p->parent) {
    size_t l = strlen(p->name);
    pos -= l;
    memcpy(out + pos, p->name, l);
    out[--pos] = '/';
  }
  if (len == 0) {
    out[0] = '/';
    out[1] = 0;
  }
  return out;
}

// ---------- pending requests ----------

// Takes a slot for `req`; returns its id or -1 (caller replies ENOMEM).
static double add_pending(mount_t *m, fuse_req_t req, uint8_t op, uint64_t parent, const char *name,
                          uint64_t parent2, const char *name2) {
  if (m->free_head == UINT32_MAX) {
    uint32_t n = m->nslots ? m->nslots * 2 : 256;
    if (n > SLOT_MASK) return -1;
    slot_t *s = realloc(m->slots, n * sizeof(slot_t));
    if (!s) return -1;
    memset(s + m->nslots, 0, (n - m->nslots) * sizeof(slot_t));
    for (uint32_t i = m->nslots; i < n; i++) s[i].next_free = i + 1 < n ? i + 1 : UINT32_MAX;
    m->free_head = m->nslots;
    m->slots = s;
    m->nslots = n;
  }
  uint32_t i = m->free_head;
  slot_t *s = &m->slots[i];
  m->free_head = s->next_free;
  s->req = req;
  s->gen = (s->gen + 1) & 0x7fffffff;
  s->op = op;
  s->parent = parent;
  s->name = name ? strdup(name) : NULL;
  s->parent2 = parent2;
  s->name2 = name2 ? strdup(name2) : NULL;
  s->unique = m->cur_unique;
  return (double)s->gen * (double)(1u << SLOT_BITS) + (double)i;
}

// Removes and returns the request behind `id`; 0 when there is none (already answered, forged).
static int take_pending(mount_t *m, double id, slot_t *out) {
  if (!(id >= 0) || id > 9007199254740991.0 || m->closed) return 0;
  uint64_t v = (uint64_t)id;
  uint32_t i = (uint32_t)(v & SLOT_MASK);
  uint32_t gen = (uint32_t)(v >> SLOT_BITS);
  if ((double)v != id || i >= m->nslots) return 0;
  slot_t *s = &m->slots[i];
  if (!s->req || s->gen != gen) return 0;
  *out = *s;
  s->req = NULL;
  s->name = NULL;
  s->name2 = NULL;
  s->next_free = m->free_head;
  m->free_head = i;
  return 1;
}

static void free_slot_names(slot_t *s) {
  free(s->name);
  free(s->name2);
}

// ---------- FUSE thread -> JS ----------

static void call_js_op(napi_env env, napi_value fn, void *ctx, void *data);

static void queue(mount_t *m, fuse_req_t req, uint8_t op, uint64_t ino, const char *name, uint64_t ino2,
                  const char *name2, double a, double b, double c, double d, double e, const char *data,
                  size_t len) {
  item_t *it = calloc(1, sizeof(item_t));
  if (!it) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  pthread_mutex_lock(&m->lock);
  node_t *n = find_id(m, ino);
  node_t *n2 = name2 ? find_id(m, ino2) : NULL;
  if (!n || (name2 && !n2)) {
    pthread_mutex_unlock(&m->lock);
    free(it);
    fuse_reply_err(req, ESTALE);
    return;
  }
  it->path = path_of(m, n, name);
  it->path2 = name2 ? path_of(m, n2, name2) : NULL;
  double id = (it->path && (!name2 || it->path2)) ? add_pending(m, req, op, ino, name, ino2, name2) : -1;
  pthread_mutex_unlock(&m->lock);
  if (id < 0) {
    free(it->path);
    free(it->path2);
    free(it);
    fuse_reply_err(req, ENOMEM);
    return;
  }
  it->op = op;
  it->id = id;
  it->a = a;
  it->b = b;
  it->c = c;
  it->d = d;
  it->e = e;
  if (data) {
    it->data = malloc(len ? len : 1);
    if (it->data) memcpy(it->data, data, len);
    it->len = len;
  }
  if (m->main_loop) {
    // Already on the JS thread, inside the poll callback's scopes.
    napi_value fn;
    if (napi_get_reference_value(m->env, m->op_ref, &fn) == napi_ok && fn) call_js_op(m->env, fn, m, it);
    return;
  }
  if (napi_call_threadsafe_function(m->tsfn_op, it, napi_tsfn_nonblocking) != napi_ok) {
    // Closing: the slot is answered by the close path.
    free(it->path);
    free(it->path2);
    free(it->data);
    free(it);
  }
}

static void call_js_op(napi_env env, napi_value fn, void *ctx, void *data) {
  item_t *it = data;
  if (env && fn) {
    napi_value argv[10];
    napi_value undef;
    napi_get_undefined(env, &undef);
    napi_create_uint32(env, it->op, &argv[0]);
    napi_create_double(env, it->id, &argv[1]);
    napi_create_string_utf8(env, it->path, NAPI_AUTO_LENGTH, &argv[2]);
    napi_create_double(env, it->a, &argv[3]);
    napi_create_double(env, it->b, &argv[4]);
    napi_create_double(env, it->c, &argv[5]);
    napi_create_double(env, it->d, &argv[6]);
    napi_create_double(env, it->e, &argv[7]);
    argv[8] = undef;
    if (it->path2) napi_create_string_utf8(env, it->path2, NAPI_AUTO_LENGTH, &argv[8]);
    argv[9] = undef;
    if (it->data) {
      void *copy;
      napi_create_buffer_copy(env, it->len, it->data, &copy, &argv[9]);
    }
    napi_call_function(env, undef, fn, 10, argv, NULL);
    // A throwing handler must neither kill the process nor leave the request hanging: EIO,
    // unless it managed to answer before throwing.
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ex;
      napi_get_and_clear_last_exception(env, &ex);
      mount_t *m = ctx;
      slot_t s;
      pthread_mutex_lock(&m->lock);
      int live = take_pending(m, it->id, &s);
      pthread_mutex_unlock(&m->lock);
      if (live) {
        fuse_reply_err(s.req, EIO);
        free_slot_names(&s);
      }
    }
  }
  free(it->path);
  free(it->path2);
  free(it->data);
  free(it);
}

#define M(req) ((mount_t *)fuse_req_userdata(req))

static void ll_init(void *userdata, struct fuse_conn_info *conn) {
  (void)userdata;
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
  // Always plus: the listing is in memory already. Passthrough of 10,000 files: ls -lR 0.34-0.40 s
  // (fuse-native: 1.7-2.0 s); find is the same with the kernel's AUTO heuristic (0.28-0.31 s).
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA) conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
  if (conn->capable & FUSE_CAP_ASYNC_READ) conn->want |= FUSE_CAP_ASYNC_READ;
  conn->max_background = 64;
  conn->congestion_threshold = 48;
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  queue(M(req), req, OP_LOOKUP, parent, name, 0, NULL, 0, 0, 0, 0, 0, NULL, 0);
}

static void forget_one(mount_t *m, fuse_ino_t ino, uint64_t nlookup) {
  node_t *n = find_id(m, ino);
  if (!n || n == &m->root) return;
  n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
  maybe_free(m, n);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  mount_t *m = M(req);
  pthread_mutex_lock(&m->lock);
  forget_one(m, ino, nlookup);
  pthread_mutex_unlock(&m->lock);
  fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
  mount_t *m = M(req);
  pthread_mutex_lock(&m->lock);
  for (size_t i = 0; i < count; i++) forget_one(m, forgets[i].ino, forgets[i].nlookup);
  pthread_mutex_unlock(&m->lock);
  fuse_reply_none(req);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)fi;
  queue(M(req), req, OP_GETATTR, ino, NULL, 0, NULL, 0, 0, 0, 0, 0, NULL, 0);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino) {
  queue(M(req), req, OP_READLINK, ino, NULL, 0, NULL, 0, 0, 0, 0, 0, NULL, 0);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  queue(M(req), req, OP_OPEN, ino, NULL, 0, NULL, fi->flags, 0, 0, 0, 0, NULL, 0);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  queue(M(req), req, OP_READ, ino, NULL, 0, NULL, (double)fi->fh, (double)off, (double)size, 0, 0, NULL, 0);
}

// ---------- open files (callers hold m->lock) ----------

static int add_open(node_t *n, uint64_t fh, uint8_t mode) {
  if (n->nopens == n->cap_opens) {
    uint32_t cap = n->cap_opens ? n->cap_opens * 2 : 4;
    open_rec_t *o = realloc(n->opens, cap * sizeof(open_rec_t));
    if (!o) return -1;
    n->opens = o;
    n->cap_opens = cap;
  }
  n->opens[n->nopens].fh = fh;
  n->opens[n->nopens].mode = mode;
  n->nopens++;
  if (mode == OPEN_CACHED) n->cached_opens++;
  if (mode == OPEN_PASSTHROUGH) n->pt_opens++;
  return 0;
}

// The last passthrough close drops the backing file's registration (the kernel keeps its own
// reference for files still being torn down).
static void drop_open(mount_t *m, node_t *n, uint64_t fh) {
  for (uint32_t i = 0; i < n->nopens; i++) {
    if (n->opens[i].fh != fh) continue;
    uint8_t mode = n->opens[i].mode;
    n->opens[i] = n->opens[--n->nopens];
    if (mode == OPEN_CACHED && n->cached_opens) n->cached_opens--;
    if (mode == OPEN_PASSTHROUGH && n->pt_opens && --n->pt_opens == 0) {
      uint32_t id = (uint32_t)n->backing_id;
      if (m->se) ioctl(fuse_session_fd(m->se), WH_IOC_BACKING_CLOSE, &id);
      n->backing_id = 0;
      free(n->backing_path);
      n->backing_path = NULL;
    }
    return;
  }
}

static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  mount_t *m = M(req);
  pthread_mutex_lock(&m->lock);
  node_t *n = find_id(m, ino);
  if (n) drop_open(m, n, fi->fh);
  pthread_mutex_unlock(&m->lock);
  queue(M(req), req, OP_RELEASE, ino, NULL, 0, NULL, (double)fi->fh, 0, 0, 0, 0, NULL, 0);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  // A read-only mount has nothing to flush. ENOSYS (not 0) makes the kernel stop sending FLUSH
  // at all (it sets no_flush and close() returns 0): one round trip less for every file closed.
  if (M(req)->readonly) {
    fuse_reply_err(req, ENOSYS);
    return;
  }
  queue(M(req), req, OP_FLUSH, ino, NULL, 0, NULL, (double)fi->fh, 0, 0, 0, 0, NULL, 0);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  queue(M(req), req, OP_FSYNC, ino, NULL, 0, NULL, (double)fi->fh, datasync, 0, 0, 0, NULL, 0);
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)fi;
  queue(M(req), req, OP_OPENDIR, ino, NULL, 0, NULL, 0, 0, 0, 0, 0, NULL, 0);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino) {
  queue(M(req), req, OP_STATFS, ino, NULL, 0, NULL, 0, 0, 0, 0, 0, NULL, 0);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
  mount_t *m = M(req);
  if (m->readonly) {
    fuse_reply_err(req, EROFS);
    return;
  }
  queue(m, req, OP_WRITE, ino, NULL, 0, NULL, (double)fi->fh, (double)off, 0, 0, 0, buf, size);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
  mount_t *m = M(req);
  if (m->readonly) {
    fuse_reply_err(req, EROFS);
    return;
  }
  queue(m, req, OP_CREATE, parent, name, 0, NULL, mode, fi->flags, 0, 0, 0, NULL, 0);
}

static double ts_ms(struct timespec t) { return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6; }

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
  mount_t *m = M(req);
  // Owners are mapped to the mounting user: a chown alone has nothing to change.
  int meaningful = to_set & (FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
                             FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW);
  if (m->readonly) {
    fuse_reply_err(req, EROFS);
    return;
  }
  double now = -1;
  double atime = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? now : (to_set & FUSE_SET_ATTR_ATIME) ? ts_ms(attr->st_atim) : -2;
  double mtime = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? now : (to_set & FUSE_SET_ATTR_MTIME) ? ts_ms(attr->st_mtim) : -2;
  queue(m, req, OP_SETATTR, ino, NULL, 0, NULL, meaningful, (to_set & FUSE_SET_ATTR_SIZE) ? (double)attr->st_size : -1,
        (to_set & FUSE_SET_ATTR_MODE) ? (double)attr->st_mode : -1.0, atime, mtime, NULL, 0);
  (void)fi;
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  mount_t *m = M(req);
  if (m->readonly) {
    fuse_reply_err(req, EROFS);
    return;
  }
  queue(m, req, OP_UNLINK, parent, name, 0, NULL, 0, 0, 0, 0, 0, NULL, 0);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
  mount_t *m = M(req);
  if (m->readonly) {
    fuse_reply_err(req, EROFS);
    return;
  }
  queue(m, req, OP_RMDIR, parent, name, 0, NULL, 0, 0, 0, 0, 0, NULL, 0);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
  mount_t *m = M(req);
  if (m->readonly) {
    fuse_reply_err(req, EROFS);
    return;
  }
  queue(m, req, OP_MKDIR, parent, name, 0, NULL, mode, 0, 0, 0, 0, NULL, 0);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname,
                      unsigned int flags) {
  mount_t *m = M(req);
  if (m->readonly) {
    fuse_reply_err(req, EROFS);
    return;
  }
  if (flags != 0) {
    fuse_reply_err(req, EINVAL);  // RENAME_EXCHANGE / RENAME_NOREPLACE: not offered by FileSystem
    return;
  }
  queue(m, req, OP_RENAME, parent, name, newparent, newname, 0, 0, 0, 0, 0, NULL, 0);
}

// Directory listings: fetched at opendir, paged here.

static void free_dir(dirh_t *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n; i++) free(d->names[i]);
  free(d->names);
  free(d->st);
  free(d);
}

static void fill_dir(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi, int plus) {
  mount_t *m = M(req);
  dirh_t *d = (dirh_t *)(uintptr_t)fi->fh;
  if (!d) {
    fuse_reply_err(req, EBADF);
    return;
  }
  char *buf = malloc(size);
  if (!buf) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  size_t pos = 0;
  for (size_t idx = off < 0 ? 0 : (size_t)off; idx < d->n + 2; idx++) {
    const char *name = idx == 0 ? "." : idx == 1 ? ".." : d->names[idx - 2];
    struct stat st;
    memset(&st, 0, sizeof st);
    const struct stat *src = idx >= 2 ? &d->st[idx - 2] : NULL;
    if (src && src->st_mode) st = *src;
    else if (idx < 2) st.st_mode = S_IFDIR;
    if (!plus) {
      st.st_ino = UNKNOWN_INO;
      size_t need = fuse_add_direntry(req, NULL, 0, name, &st, (off_t)(idx + 1));
      if (pos + need > size) break;
      fuse_add_direntry(req, buf + pos, size - pos, name, &st, (off_t)(idx + 1));
      pos += need;
      continue;
    }
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    e.attr = st;
    size_t need = fuse_add_direntry_plus(req, NULL, 0, name, &e, (off_t)(idx + 1));
    if (pos + need > size) break;
    if (src && src->st_mode) {
      pthread_mutex_lock(&m->lock);
      node_t *n = ref_child(m, d->ino, name);
      pthread_mutex_unlock(&m->lock);
      if (n) {
        e.ino = n->id;
        e.attr.st_ino = n->id;
        e.attr_timeout = d->attr_timeout;
        e.entry_timeout = d->entry_timeout;
      }
    }
    // ino 0: a plain name without attributes; the kernel looks it up when used.
    if (!e.ino) e.attr.st_ino = UNKNOWN_INO;
    fuse_add_direntry_plus(req, buf + pos, size - pos, name, &e, (off_t)(idx + 1));
    pos += need;
  }
  fuse_reply_buf(req, buf, pos);
  free(buf);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)ino;
  fill_dir(req, size, off, fi, 0);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)ino;
  fill_dir(req, size, off, fi, 1);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  (void)ino;
  free_dir((dirh_t *)(uintptr_t)fi->fh);
  fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops OPS = {
    .init = ll_init,
    .lookup = ll_lookup,
    .forget = ll_forget,
    .forget_multi = ll_forget_multi,
    .getattr = ll_getattr,
    .setattr = ll_setattr,
    .readlink = ll_readlink,
    .mkdir = ll_mkdir,
    .unlink = ll_unlink,
    .rmdir = ll_rmdir,
    .rename = ll_rename,
    .open = ll_open,
    .read = ll_read,
    .write = ll_write,
    .flush = ll_flush,
    .release = ll_release,
    .fsync = ll_fsync,
    .opendir = ll_opendir,
    .readdir = ll_readdir,
    .readdirplus = ll_readdirplus,
    .releasedir = ll_releasedir,
    .statfs = ll_statfs,
    .create = ll_create,
};

// ---------- invalidation thread ----------

static void *inval_main(void *arg) {
  mount_t *m = arg;
  pthread_mutex_lock(&m->lock);
  for (;;) {
    while (!m->inval_head && !m->inval_stop) pthread_cond_wait(&m->inval_cond, &m->lock);
    if (m->inval_stop) break;
    inval_t *q = m->inval_head;
    m->inval_head = m->inval_tail = NULL;
    pthread_mutex_unlock(&m->lock);
    while (q) {
      inval_t *next = q->next;
      if (q->data) {
        // Errors (ENOENT: the kernel no longer knows it) mean there is nowhere to store.
        struct fuse_bufvec bv = FUSE_BUFVEC_INIT((size_t)q->len);
        bv.buf[0].mem = q->data;
        fuse_lowlevel_notify_store(m->se, q->ino, (off_t)q->off, &bv, 0);
      } else {
        // Errors (ENOENT: the kernel no longer knows it) mean there is nothing to drop.
        if (q->ino) fuse_lowlevel_notify_inval_inode(m->se, q->ino, q->off, q->len);
        if (q->name) fuse_lowlevel_notify_inval_entry(m->se, q->parent, q->name, strlen(q->name));
      }
      free(q->data);
      free(q->name);
      free(q);
      q = next;
    }
    pthread_mutex_lock(&m->lock);
  }
  pthread_mutex_unlock(&m->lock);
  return NULL;
}

// ---------- loop thread ----------

static void *loop_main(void *arg) {
  mount_t *m = arg;
  struct fuse_loop_config *cfg = fuse_loop_cfg_create();
  fuse_loop_cfg_set_clone_fd(cfg, 1);
  fuse_loop_cfg_set_max_threads(cfg, 16);
  fuse_loop_cfg_set_idle_threads(cfg, 4);
  int rc = fuse_session_loop_mt(m->se, cfg);
  fuse_loop_cfg_destroy(cfg);
  napi_call_threadsafe_function(m->tsfn_exit, (void *)(intptr_t)rc, napi_tsfn_blocking);
  return NULL;
}

static void call_js_exit(napi_env env, napi_value fn, void *ctx, void *data) {
  (void)ctx;
  if (!env || !fn) return;
  napi_value undef, rc;
  napi_get_undefined(env, &undef);
  napi_create_int32(env, (int32_t)(intptr_t)data, &rc);
  napi_call_function(env, undef, fn, 1, &rc, NULL);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
  }
}

// ---------- main-thread loop ----------

#ifdef WH_HAVE_UV
// At most this many requests per poll wake-up, so timers and sockets get their turn.
#define MAIN_BATCH 64

static void main_closed(uv_handle_t *h) { (void)h; }

static void main_end(mount_t *m, int rc) {
  uv_poll_stop(&m->poll);
  uv_close((uv_handle_t *)&m->poll, main_closed);
  m->main_loop = 2;  // ended: queue() is no longer reached
  napi_value fn;
  if (napi_get_reference_value(m->env, m->exit_ref, &fn) == napi_ok && fn)
    call_js_exit(m->env, fn, m, (void *)(intptr_t)rc);
}

// libfuse 3.14 answers INIT without knowing passthrough. Its reply is caught in a pipe (the
// session's fd number briefly names the pipe), then sent on with passthrough asked for: same
// negotiation otherwise, one file system stacked below (the backing files' ext4 & co.).
static void init_with_passthrough(mount_t *m, size_t len) {
  const struct wh_in_header *ih = m->buf.mem;
  const struct wh_init_in *in = (const void *)(ih + 1);
  int offered = len >= sizeof *ih + sizeof *in && (in->flags & WH_INIT_EXT) && (in->flags2 & WH_FLAGS2_PASSTHROUGH);
  int fd = fuse_session_fd(m->se);
  int p[2] = {-1, -1};
  int saved = offered ? dup(fd) : -1;
  if (saved < 0 || pipe2(p, O_CLOEXEC) != 0 || dup2(p[1], fd) < 0) {
    if (saved >= 0) close(saved);
    if (p[0] >= 0) close(p[0]), close(p[1]);
    fuse_session_process_buf(m->se, &m->buf);
    return;
  }
  fuse_session_process_buf(m->se, &m->buf);
  dup3(saved, fd, O_CLOEXEC);
  close(saved);
  close(p[1]);
  union {
    char bytes[512];
    struct wh_out_header h;
  } out;
  memset(&out, 0, sizeof out);
  ssize_t n = read(p[0], out.bytes, sizeof out.bytes);
  close(p[0]);
  if (n < (ssize_t)sizeof(struct wh_out_header)) {
    // libfuse wrote nothing: the kernel still needs its one answer.
    struct wh_out_header e = {sizeof e, -EPROTO, ih->unique};
    if (write(fd, &e, sizeof e) < 0) {}
    return;
  }
  struct wh_init_out *io = (void *)(out.bytes + sizeof(struct wh_out_header));
  size_t full = sizeof(struct wh_out_header) + sizeof(struct wh_init_out);
  if (out.h.error == 0 && (size_t)n >= sizeof(struct wh_out_header) + offsetof(struct wh_init_out, max_stack_depth) &&
      (io->flags & WH_INIT_EXT) && !(io->flags & WH_WRITEBACK_CACHE)) {
    io->flags2 |= WH_FLAGS2_PASSTHROUGH;
    io->max_stack_depth = 1;
    out.h.len = (uint32_t)((size_t)n > full ? (size_t)n : full);
    m->passthrough = 1;
  }
  if (write(fd, out.bytes, out.h.len) < 0) m->passthrough = 0;
}

static void main_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  mount_t *m = h->data;
  napi_env env = m->env;
  napi_handle_scope hs;
  if (napi_open_handle_scope(env, &hs) != napi_ok) return;
  napi_value resource;
  napi_callback_scope cs = NULL;
  if (napi_get_reference_value(env, m->resource_ref, &resource) == napi_ok)
    napi_open_callback_scope(env, resource, m->async_ctx, &cs);
  int ended = 0, rc = 0;
  if (status < 0) ended = 1, rc = status;
  for (int i = 0; !ended && i < MAIN_BATCH; i++) {
    int res = fuse_session_receive_buf(m->se, &m->buf);
    if (res == -EAGAIN) break;
    if (res == -EINTR) continue;
    // 0: the session ended (unmounted, or aborted through /sys/fs/fuse/connections).
    if (res <= 0) {
      ended = 1;
      rc = res;
      break;
    }
    if (!(m->buf.flags & FUSE_BUF_IS_FD) && (size_t)res >= sizeof(struct wh_in_header)) {
      const struct wh_in_header *ih = m->buf.mem;
      m->cur_unique = ih->unique;
      if (!m->init_seen && ih->opcode == WH_FUSE_INIT) {
        m->init_seen = 1;
        if (m->pt_want) {
          init_with_passthrough(m, (size_t)res);
          m->cur_unique = 0;
          continue;
        }
      }
    }
    fuse_session_process_buf(m->se, &m->buf);
    m->cur_unique = 0;
    // A handler that destroyed the mount (it stops this poll) leaves nothing to read from.
    if (m->closed) break;
    if (fuse_session_exited(m->se)) ended = 1;
  }
  // Closing the callback scope runs the microtasks the handlers queued (their replies).
  if (cs) napi_close_callback_scope(env, cs);
  if (ended && m->main_loop == 1) main_end(m, rc);
  napi_close_handle_scope(env, hs);
}

static int main_start(napi_env env, mount_t *m, napi_value on_op, napi_value on_exit) {
  struct uv_loop_s *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) return -1;
  int fd = fuse_session_fd(m->se);
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  napi_value resource, name;
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_create_string_utf8(env, "wormhole-fuse3", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, resource, name, &m->async_ctx) != napi_ok ||
      napi_create_reference(env, resource, 1, &m->resource_ref) != napi_ok ||
      napi_create_reference(env, on_op, 1, &m->op_ref) != napi_ok ||
      napi_create_reference(env, on_exit, 1, &m->exit_ref) != napi_ok)
    return -1;
  m->env = env;
  if (uv_poll_init(loop, &m->poll, fd) != 0) return -1;
  m->poll.data = m;
  m->main_loop = 1;
  if (uv_poll_start(&m->poll, UV_READABLE, main_readable) != 0) {
    m->main_loop = 0;
    uv_close((uv_handle_t *)&m->poll, main_closed);
    return -1;
  }
  return 0;
}
#endif

// ---------- JS API ----------

#define CHECK(call)                                      \
  do {                                                   \
    if ((call) != napi_ok) {                             \
      napi_throw_error(env, "FUSE_NATIVE", #call " failed"); \
      return NULL;                                       \
    }                                                    \
  } while (0)

static mount_t *get_mount(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, "FUSE_NATIVE", "not a mount handle");
    return NULL;
  }
  return p;
}

static double get_double(napi_env env, napi_value v) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) return NAN;
  return d;
}

static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) {  // embedded NUL
    free(s);
    return NULL;
  }
  return s;
}

// A Uint8Array's bytes (no copy): 0, or -1 when `v` is anything else.
static int get_u8(napi_env env, napi_value v, void **data, size_t *len) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, v, &t, len, data, &ab, &off) != napi_ok || t != napi_uint8_array)
    return -1;
  return 0;
}

static int get_f64(napi_env env, napi_value v, double **data, size_t *len) {
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, len, (void **)data, &ab, &off) != napi_ok || t != napi_float64_array)
    return -1;
  return 0;
}

static void to_stat(const double *a, uint64_t ino, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_ino = ino;
  st->st_mode = (mode_t)a[A_MODE];
  st->st_size = (off_t)a[A_SIZE];
  st->st_nlink = (nlink_t)(a[A_NLINK] > 0 ? a[A_NLINK] : 1);
  st->st_uid = (uid_t)a[A_UID];
  st->st_gid = (gid_t)a[A_GID];
  st->st_blocks = (blkcnt_t)a[A_BLOCKS];
  st->st_blksize = 4096;
  double t[3] = {a[A_MTIME], a[A_ATIME], a[A_CTIME]};
  struct timespec *ts[3] = {&st->st_mtim, &st->st_atim, &st->st_ctim};
  for (int i = 0; i < 3; i++) {
    double ms = t[i] > 0 ? t[i] : 0;
    ts[i]->tv_sec = (time_t)(ms / 1000.0);
    ts[i]->tv_nsec = (long)((ms - (double)ts[i]->tv_sec * 1000.0) * 1e6);
    if (ts[i]->tv_nsec < 0) ts[i]->tv_nsec = 0;
    if (ts[i]->tv_nsec > 999999999) ts[i]->tv_nsec = 999999999;
  }
}

// mount(mountpoint, options[], readonly, onOp, onExit, threadLoop?, passthrough?) -> handle
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, "FUSE_NATIVE", "mount(mountpoint, options, readonly, onOp, onExit)");
    return NULL;
  }
  char *mountpoint = get_string(env, argv[0]);
  uint32_t nopts = 0;
  napi_get_array_length(env, argv[1], &nopts);
  bool ro = false;
  napi_get_value_bool(env, argv[2], &ro);
  bool thread_loop = false;
  if (argc > 5) napi_get_value_bool(env, argv[5], &thread_loop);
  bool pt = false;
  if (argc > 6) napi_get_value_bool(env, argv[6], &pt);
  if (!mountpoint) {
    napi_throw_type_error(env, "FUSE_NATIVE", "bad mountpoint");
    return NULL;
  }
  mount_t *m = calloc(1, sizeof(mount_t));
  m->buckets = 1024;
  m->by_id = calloc(m->buckets, sizeof(node_t *));
  m->by_name = calloc(m->buckets, sizeof(node_t *));
  m->next_id = FUSE_ROOT_ID + 1;
  m->root.id = FUSE_ROOT_ID;
  m->root.nlookup = 1;
  m->root.name = "";
  m->root.parent = &m->root;
  m->free_head = UINT32_MAX;
  m->readonly = ro;
  // Passthrough needs the request ids the main loop sees, and serves reads only.
  m->pt_want = pt && ro && !thread_loop;
  pthread_mutex_init(&m->lock, NULL);
  pthread_cond_init(&m->inval_cond, NULL);

  struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
  fuse_opt_add_arg(&args, "wormhole");
  for (uint32_t i = 0; i < nopts; i++) {
    napi_value el;
    napi_get_element(env, argv[1], i, &el);
    char *s = get_string(env, el);
    if (s) {
      fuse_opt_add_arg(&args, s);
      free(s);
    }
  }
  m->se = fuse_session_new(&args, &OPS, sizeof OPS, m);
  fuse_opt_free_args(&args);
  if (!m->se) {
    free(mountpoint);
    napi_throw_error(env, "FUSE_MOUNT_FAILED", "fuse_session_new failed (bad options?)");
    return NULL;
  }
  if (fuse_session_mount(m->se, mountpoint) != 0) {
    free(mountpoint);
    fuse_session_destroy(m->se);
    napi_throw_error(env, "FUSE_MOUNT_FAILED", "fuse_session_mount failed");
    return NULL;
  }
  free(mountpoint);
#ifdef WH_HAVE_UV
  if (!thread_loop) {
    if (main_start(env, m, argv[3], argv[4]) != 0) {
      fuse_session_unmount(m->se);
      napi_throw_error(env, "FUSE_MOUNT_FAILED", "cannot poll the FUSE device on the JS thread");
      return NULL;
    }
    if (pthread_create(&m->inval_thread, NULL, inval_main, m) == 0) m->inval_started = 1;
    napi_value handle;
    CHECK(napi_create_external(env, m, NULL, NULL, &handle));
    return handle;
  }
#else
  (void)thread_loop;
#endif
  napi_value name;
  napi_create_string_utf8(env, "wormhole-fuse3", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, NULL, NULL, m, call_js_op, &m->tsfn_op));
  CHECK(napi_create_threadsafe_function(env, argv[4], NULL, name, 0, 1, NULL, NULL, m, call_js_exit, &m->tsfn_exit));
  // Exit notification must not keep the process alive on its own; the op queue does while mounted.
  napi_unref_threadsafe_function(env, m->tsfn_exit);
  if (pthread_create(&m->inval_thread, NULL, inval_main, m) == 0) m->inval_started = 1;
  if (pthread_create(&m->loop_thread, NULL, loop_main, m) != 0) {
    fuse_session_unmount(m->se);
    napi_throw_error(env, "FUSE_MOUNT_FAILED", "cannot start the FUSE thread");
    return NULL;
  }
  m->loop_started = 1;
  napi_value handle;
  CHECK(napi_create_external(env, m, NULL, NULL, &handle));
  return handle;
}

// exit(handle): asks the loop to stop (it ends once the kernel connection goes: unmount).
static napi_value js_exit(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  mount_t *m = get_mount(env, argv[0]);
  if (!m) return NULL;
  if (!m->closed) fuse_session_exit(m->se);
  return NULL;
}

// destroy(handle): after the loop ended. Answers what is still pending with EIO, frees the
// session. Replies after this are refused.
static napi_value js_destroy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  mount_t *m = get_mount(env, argv[0]);
  if (!m || m->closed) return NULL;
  if (m->loop_started) pthread_join(m->loop_thread, NULL);
#ifdef WH_HAVE_UV
  if (m->main_loop == 1) {  // destroyed before the session ended
    uv_poll_stop(&m->poll);
    uv_close((uv_handle_t *)&m->poll, main_closed);
    m->main_loop = 2;
  }
#endif
  pthread_mutex_lock(&m->lock);
  m->closed = 1;
  m->inval_stop = 1;
  pthread_cond_signal(&m->inval_cond);
  pthread_mutex_unlock(&m->lock);
  if (m->inval_started) pthread_join(m->inval_thread, NULL);
  for (inval_t *q = m->inval_head, *next; q; q = next) {
    next = q->next;
    free(q->data);
    free(q->name);
    free(q);
  }
  for (uint32_t i = 0; i < m->nslots; i++) {
    if (m->slots[i].req) fuse_reply_err(m->slots[i].req, EIO);
    free_slot_names(&m->slots[i]);
    m->slots[i].req = NULL;
  }
  fuse_session_unmount(m->se);
  fuse_session_destroy(m->se);
  m->se = NULL;
  if (m->tsfn_op) napi_release_threadsafe_function(m->tsfn_op, napi_tsfn_abort);
  if (m->tsfn_exit) napi_release_threadsafe_function(m->tsfn_exit, napi_tsfn_abort);
  if (m->op_ref) napi_delete_reference(env, m->op_ref);
  if (m->exit_ref) napi_delete_reference(env, m->exit_ref);
  if (m->resource_ref) napi_delete_reference(env, m->resource_ref);
  if (m->async_ctx) napi_async_destroy(env, m->async_ctx);
  m->op_ref = m->exit_ref = m->resource_ref = NULL;
  m->async_ctx = NULL;
  free(m->buf.mem);
  m->buf.mem = NULL;
  // Nodes and slots are freed with the mount; the handle stays valid (closed) for late calls.
  for (size_t b = 0; b < m->buckets; b++)
    for (node_t *n = m->by_id[b], *next; n; n = next) {
      next = n->next_id;
      free(n->name);
      free(n->opens);
      free(n->backing_path);
      free(n);
    }
  free(m->by_id);
  free(m->by_name);
  m->by_id = m->by_name = NULL;
  free(m->slots);
  m->slots = NULL;
  m->nslots = 0;
  return NULL;
}

static napi_value ret_bool(napi_env env, bool v) {
  napi_value r;
  napi_get_boolean(env, v, &r);
  return r;
}

// Common prologue of the reply functions: handle + id -> the pending request.
static int begin_reply(napi_env env, napi_callback_info info, size_t want, napi_value *argv, mount_t **m,
                       slot_t *s) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, "FUSE_NATIVE", "missing arguments");
    return 0;
  }
  *m = get_mount(env, argv[0]);
  if (!*m) return 0;
  double id = get_double(env, argv[1]);
  pthread_mutex_lock(&(*m)->lock);
  int ok = take_pending(*m, id, s);
  pthread_mutex_unlock(&(*m)->lock);
  return ok;
}

// A reply whose arguments JavaScript got wrong: the request still gets its one answer (EIO),
// and the caller a TypeError.
static napi_value reject_reply(napi_env env, slot_t *s, const char *msg) {
  fuse_reply_err(s->req, EIO);
  free_slot_names(s);
  napi_throw_type_error(env, "FUSE_NATIVE", msg);
  return NULL;
}

// replyErr(handle, id, errno): errno 0 = success for ops without a result. Rename, unlink and
// rmdir successes update the inode table first.
static napi_value js_reply_err(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  mount_t *m;
  slot_t s;
  if (!begin_reply(env, info, 3, argv, &m, &s)) return ret_bool(env, false);
  int err = (int)get_double(env, argv[2]);
  if (err < 0) err = -err;
  if (err == 0) {
    pthread_mutex_lock(&m->lock);
    if (s.op == OP_RENAME) {
      node_t *n = find_name(m, s.parent, s.name);
      node_t *target = find_name(m, s.parent2, s.name2);
      node_t *np = find_id(m, s.parent2);
      if (target && target != n) unhash_name(m, target);  // replaced: the old node is now unreachable
      if (n && np) {
        unhash_name(m, n);
        char *nm = strdup(s.name2);
        if (nm) {
          free(n->name);
          n->name = nm;
          if (n->parent != np) {
            node_t *old = n->parent;
            n->parent = np;
            np->children++;
            old->children--;
            maybe_free(m, old);
          }
        }
        hash_name(m, n);
      }
    } else if (s.op == OP_UNLINK || s.op == OP_RMDIR) {
      node_t *n = find_name(m, s.parent, s.name);
      if (n) unhash_name(m, n);
    }
    pthread_mutex_unlock(&m->lock);
  }
  fuse_reply_err(s.req, err);
  free_slot_names(&s);
  return ret_bool(env, true);
}

// replyEntry(handle, id, attr, attrTimeout, entryTimeout): lookup, mkdir.
// replyCreate(handle, id, attr, attrTimeout, entryTimeout, fh, keepCache): create.
static napi_value reply_entry(napi_env env, napi_callback_info info, int create) {
  napi_value argv[7];
  mount_t *m;
  slot_t s;
  if (!begin_reply(env, info, create ? 7 : 5, argv, &m, &s)) return ret_bool(env, false);
  double *a;
  size_t len;
  if (get_f64(env, argv[2], &a, &len) != 0 || len < A_FIELDS) {
    return reject_reply(env, &s, "attr must be a Float64Array");
  }
  pthread_mutex_lock(&m->lock);
  node_t *n = s.name ? ref_child(m, s.parent, s.name) : NULL;
  pthread_mutex_unlock(&m->lock);
  if (!n) {
    fuse_reply_err(s.req, s.name ? ENOMEM : EIO);
    free_slot_names(&s);
    return ret_bool(env, true);
  }
  struct fuse_entry_param e;
  memset(&e, 0, sizeof e);
  e.ino = n->id;
  to_stat(a, n->id, &e.attr);
  e.attr_timeout = get_double(env, argv[3]);
  e.entry_timeout = get_double(env, argv[4]);
  int rc;
  if (create) {
    struct fuse_file_info fi;
    memset(&fi, 0, sizeof fi);
    fi.fh = (uint64_t)get_double(env, argv[5]);
    bool keep = false;
    napi_get_value_bool(env, argv[6], &keep);
    fi.keep_cache = keep;
    rc = fuse_reply_create(s.req, &e, &fi);
  } else {
    rc = fuse_reply_entry(s.req, &e);
  }
  if (rc != 0) {
    // The kernel did not take the reference (the request was interrupted).
    pthread_mutex_lock(&m->lock);
    forget_one(m, n->id, 1);
    pthread_mutex_unlock(&m->lock);
  }
  free_slot_names(&s);
  return ret_bool(env, true);
}

static napi_value js_reply_entry(napi_env env, napi_callback_info info) { return reply_entry(env, info, 0); }
static napi_value js_reply_create(napi_env env, napi_callback_info info) { return reply_entry(env, info, 1); }

// replyAttr(handle, id, attr, attrTimeout)
static napi_value js_reply_attr(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  mount_t *m;
  slot_t s;
  if (!begin_reply(env, info, 4, argv, &m, &s)) return ret_bool(env, false);
  double *a;
  size_t len;
  if (get_f64(env, argv[2], &a, &len) != 0 || len < A_FIELDS) {
    return reject_reply(env, &s, "attr must be a Float64Array");
  }
  struct stat st;
  to_stat(a, s.parent, &st);
  fuse_reply_attr(s.req, &st, get_double(env, argv[3]));
  free_slot_names(&s);
  return ret_bool(env, true);
}

// Registers `path` as the backing file of node `n` (opened read-only here; the kernel keeps
// its own reference). 0 when the kernel refused it (not root, a stacked file system, ...).
static int32_t open_backing(mount_t *m, const char *path) {
  int bfd = open(path, O_RDONLY | O_CLOEXEC);
  if (bfd < 0) return 0;
  struct wh_backing_map map = {bfd, 0, 0};
  int id = ioctl(fuse_session_fd(m->se), WH_IOC_BACKING_OPEN, &map);
  close(bfd);
  return id > 0 ? id : 0;
}

// replyOpen(handle, id, fh, keepCache, backingPath?): a read-only mount that negotiated
// passthrough answers with the backing file, so the kernel reads it directly (no request per
// read, and its page cache is the local file's). An inode already open the other way keeps
// that way (the kernel refuses to mix the two: ETXTBSY one way, EIO the other): page-cache
// opens stay page-cache, passthrough opens share the inode's backing file. A newer version gets
// a new inode instead (see invalidate).
static napi_value js_reply_open(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  mount_t *m;
  slot_t s;
  size_t argc = 5;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return ret_bool(env, false);
  if (!begin_reply(env, info, 4, argv, &m, &s)) return ret_bool(env, false);
  double fhd = get_double(env, argv[2]);
  uint64_t fh = fhd >= 0 ? (uint64_t)fhd : 0;
  bool keep = false;
  napi_get_value_bool(env, argv[3], &keep);
  char *backing = NULL;
  napi_valuetype t = napi_undefined;
  if (argc > 4) napi_typeof(env, argv[4], &t);
  if (t == napi_string) backing = get_string(env, argv[4]);

  uint8_t mode = OPEN_CACHED;
  int32_t backing_id = 0;
  pthread_mutex_lock(&m->lock);
  node_t *n = find_id(m, s.parent);
  if (n && n->pt_opens > 0) {
    mode = OPEN_PASSTHROUGH;
    backing_id = n->backing_id;
  } else if (n && backing && m->passthrough && m->readonly && s.unique && n->cached_opens == 0) {
    backing_id = open_backing(m, backing);
    if (backing_id > 0) {
      mode = OPEN_PASSTHROUGH;
      n->backing_id = backing_id;
      n->backing_path = backing;
      backing = NULL;
    }
  }
  if (n && add_open(n, fh, mode) != 0) n = NULL;
  pthread_mutex_unlock(&m->lock);
  free(backing);
  int rc;
  if (mode == OPEN_PASSTHROUGH && n) {
    struct {
      struct wh_out_header h;
      struct wh_open_out o;
    } r;
    memset(&r, 0, sizeof r);
    r.h.len = sizeof r;
    r.h.unique = s.unique;
    r.o.fh = fh;
    // The kernel drops the inode's page cache at this open (FOPEN_KEEP_CACHE is refused with
    // passthrough: EINVAL): the mount drops a file it copies behind its reader (invalidateData),
    // else the first passthrough open after a 1 GiB cold read took 135 ms (262k 4 KiB folios).
    r.o.open_flags = WH_FOPEN_PASSTHROUGH | WH_FOPEN_NOFLUSH;
    r.o.backing_id = backing_id;
    rc = write(fuse_session_fd(m->se), &r, sizeof r) == (ssize_t)sizeof r ? 0 : -errno;
    fuse_reply_none(s.req);
    if (rc == 0) m->pt_total++;
  } else {
    struct fuse_file_info fi;
    memset(&fi, 0, sizeof fi);
    fi.fh = fh;
    fi.keep_cache = keep && mode == OPEN_CACHED;
    // Read-only: close() need not ask us anything (FOPEN_NOFLUSH, kernel >= 5.16; older kernels
    // ignore it and get ENOSYS from ll_flush once). The first close of a mount's life otherwise
    // waits for a FLUSH round trip, often behind the chunk its open prefetched.
    fi.noflush = m->readonly;
    rc = fuse_reply_open(s.req, &fi);
  }
  if (rc != 0 && n) {
    // Interrupted open: the kernel will not release it. The FileSystem's handle leaks until
    // unmount, as with any FUSE server; the node's record of it goes now.
    pthread_mutex_lock(&m->lock);
    drop_open(m, n, fh);
    pthread_mutex_unlock(&m->lock);
  }
  free_slot_names(&s);
  return ret_bool(env, true);
}

// replyData(handle, id, bytes): read.
static napi_value js_reply_data(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  mount_t *m;
  slot_t s;
  if (!begin_reply(env, info, 3, argv, &m, &s)) return ret_bool(env, false);
  void *data = NULL;
  size_t len = 0;
  if (get_u8(env, argv[2], &data, &len) != 0) return reject_reply(env, &s, "data must be a Uint8Array");
  fuse_reply_buf(s.req, data, len);
  free_slot_names(&s);
  return ret_bool(env, true);
}

// replyDataV(handle, id, Uint8Array[]): read, as one gather write (no copy into one buffer).
static napi_value js_reply_data_v(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  mount_t *m;
  slot_t s;
  if (!begin_reply(env, info, 3, argv, &m, &s)) return ret_bool(env, false);
  bool is_array = false;
  uint32_t n = 0;
  napi_is_array(env, argv[2], &is_array);
  if (!is_array || napi_get_array_length(env, argv[2], &n) != napi_ok || n > 256)
    return reject_reply(env, &s, "parts must be an array of at most 256 Uint8Arrays");
  struct iovec iov[256];
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    if (napi_get_element(env, argv[2], i, &el) != napi_ok || get_u8(env, el, &iov[i].iov_base, &iov[i].iov_len) != 0)
      return reject_reply(env, &s, "parts must be an array of at most 256 Uint8Arrays");
  }
  fuse_reply_iov(s.req, iov, (int)n);
  free_slot_names(&s);
  return ret_bool(env, true);
}

// replyWrite(handle, id, count)
static napi_value js_reply_write(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  mount_t *m;
  slot_t s;
  if (!begin_reply(env, info, 3, argv, &m, &s)) return ret_bool(env, false);
  double n = get_double(env, argv[2]);
  fuse_reply_write(s.req, n > 0 ? (size_t)n : 0);
  free_slot_names(&s);
  return ret_bool(env, true);
}

// replyReadlink(handle, id, target)
static napi_value js_reply_readlink(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  mount_t *m;
  slot_t s;
  if (!begin_reply(env, info, 3, argv, &m, &s)) return ret_bool(env, false);
  char *t = get_string(env, argv[2]);
  if (!t) fuse_reply_err(s.req, EIO);
  else fuse_reply_readlink(s.req, t);
  free(t);
  free_slot_names(&s);
  return ret_bool(env, true);
}

// replyStatfs(handle, id, Float64Array[bsize, frsize, blocks, bfree, bavail, files, ffree, namemax])
static napi_value js_reply_statfs(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  mount_t *m;
  slot_t s;
  if (!begin_reply(env, info, 3, argv, &m, &s)) return ret_bool(env, false);
  double *a;
  size_t len;
  if (get_f64(env, argv[2], &a, &len) != 0 || len < 8) {
    fuse_reply_err(s.req, EIO);
  } else {
    struct statvfs st;
    memset(&st, 0, sizeof st);
    st.f_bsize = (unsigned long)a[0];
    st.f_frsize = (unsigned long)a[1];
    st.f_blocks = (fsblkcnt_t)a[2];
    st.f_bfree = (fsblkcnt_t)a[3];
    st.f_bavail = (fsblkcnt_t)a[4];
    st.f_files = (fsfilcnt_t)a[5];
    st.f_ffree = (fsfilcnt_t)a[6];
    st.f_favail = (fsfilcnt_t)a[6];
    st.f_namemax = (unsigned long)a[7];
    fuse_reply_statfs(s.req, &st);
  }
  free_slot_names(&s);
  return ret_bool(env, true);
}

// replyDir(handle, id, names[], attrs Float64Array(n * A_FIELDS; mode 0 = none), attrTimeout, entryTimeout)
static napi_value js_reply_dir(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  mount_t *m;
  slot_t s;
  if (!begin_reply(env, info, 6, argv, &m, &s)) return ret_bool(env, false);
  uint32_t n = 0;
  double *a;
  size_t len;
  bool is_array = false;
  napi_is_array(env, argv[2], &is_array);
  if (!is_array || napi_get_array_length(env, argv[2], &n) != napi_ok || get_f64(env, argv[3], &a, &len) != 0 ||
      len < (size_t)n * A_FIELDS) {
    return reject_reply(env, &s, "replyDir(names, attrs) mismatch");
  }
  dirh_t *d = calloc(1, sizeof(dirh_t));
  if (d) {
    d->names = calloc(n ? n : 1, sizeof(char *));
    d->st = calloc(n ? n : 1, sizeof(struct stat));
  }
  if (!d || !d->names || !d->st) {
    free_dir(d);
    fuse_reply_err(s.req, ENOMEM);
    free_slot_names(&s);
    return ret_bool(env, true);
  }
  d->ino = s.parent;
  d->attr_timeout = get_double(env, argv[4]);
  d->entry_timeout = get_double(env, argv[5]);
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    napi_get_element(env, argv[2], i, &el);
    char *name = get_string(env, el);
    // A name the kernel cannot take (empty, '/', '.', '..') is dropped, not passed on.
    if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
      free(name);
      continue;
    }
    d->names[d->n] = name;
    if (a[i * A_FIELDS + A_MODE] > 0) to_stat(a + i * A_FIELDS, 0, &d->st[d->n]);
    d->n++;
  }
  struct fuse_file_info fi;
  memset(&fi, 0, sizeof fi);
  fi.fh = (uint64_t)(uintptr_t)d;
  if (fuse_reply_open(s.req, &fi) != 0) free_dir(d);
  free_slot_names(&s);
  return ret_bool(env, true);
}

// The node `path` names (NULL when the kernel does not know it), with the last directory
// walked and the last component (for the entry). `path` is cut up in place. Callers hold m->lock.
static node_t *walk_path(mount_t *m, char *path, node_t **parent, const char **last) {
  node_t *n = &m->root;
  char *save = NULL;
  *parent = NULL;
  *last = NULL;
  for (char *part = strtok_r(path, "/", &save); part && n; part = strtok_r(NULL, "/", &save)) {
    *parent = n;
    *last = part;
    n = find_name(m, n->id, part);
  }
  return n;
}

// Hands an invalidation to its thread. Callers hold m->lock.
static void push_inval(mount_t *m, inval_t *q) {
  if (m->inval_tail) m->inval_tail->next = q;
  else m->inval_head = q;
  m->inval_tail = q;
  pthread_cond_signal(&m->inval_cond);
}

// invalidate(handle, path): drops the kernel's attributes, data and name of `path` if it knows
// it. Returns whether the path is known.
static napi_value js_invalidate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  mount_t *m = get_mount(env, argv[0]);
  if (!m) return NULL;
  char *path = get_string(env, argv[1]);
  if (!path || m->closed) {
    free(path);
    return ret_bool(env, false);
  }
  pthread_mutex_lock(&m->lock);
  node_t *parent;
  const char *last;
  node_t *n = walk_path(m, path, &parent, &last);
  // A file open in passthrough keeps reading its backing file, and the kernel makes every
  // open of that inode do so too. So the name leaves the table: its next lookup creates a new
  // node (a new inode for the kernel) that opens the new version, while the open files finish
  // on the old one.
  if (n && n->pt_opens > 0) unhash_name(m, n);
  inval_t *q = NULL;
  if (n || (parent && last)) {
    q = calloc(1, sizeof(inval_t));
    if (q) {
      q->ino = n ? n->id : 0;
      // The name too, when the path is below the root: a new or removed entry must show at once.
      if (parent && last && (!n || n->parent == parent)) {
        q->parent = parent->id;
        q->name = strdup(last);
      }
      push_inval(m, q);
    }
  }
  pthread_mutex_unlock(&m->lock);
  free(path);
  return ret_bool(env, n != NULL);
}

// Queues a range of the file at `path` for the invalidation thread: dropped from its page
// cache, or with `data` stored into it (not into a file open in passthrough, whose pages come
// from its backing file). False when the kernel has no node for the path; `data` is freed then.
static bool queue_range(mount_t *m, char *path, int64_t off, int64_t len, uint8_t *data) {
  pthread_mutex_lock(&m->lock);
  node_t *parent;
  const char *last;
  node_t *n = walk_path(m, path, &parent, &last);
  bool ok = n && n != &m->root && (!data || n->pt_opens == 0);
  inval_t *q = ok ? calloc(1, sizeof(inval_t)) : NULL;
  if (q) {
    q->ino = n->id;
    q->off = off;
    q->len = len;
    q->data = data;
    push_inval(m, q);
  } else {
    free(data);
  }
  pthread_mutex_unlock(&m->lock);
  return q != NULL;
}

// The mount of a call `fn(handle, ...)` with at least `want` arguments (into argv), or NULL.
static mount_t *mount_call(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) return NULL;
  return get_mount(env, argv[0]);
}

// invalidateData(handle, path, offset, length): drops that range of the file's page cache
// (not its attributes or name). Returns whether the path is known.
static napi_value js_invalidate_data(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  mount_t *m = mount_call(env, info, 4, argv);
  if (!m) return NULL;
  double off = get_double(env, argv[2]);
  double len = get_double(env, argv[3]);
  char *path = get_string(env, argv[1]);
  // A zero length would mean "everything" to the kernel: refused like any bad range.
  if (!path || m->closed || !(off >= 0) || !(len > 0) || off + len > 9007199254740991.0) {
    free(path);
    return ret_bool(env, false);
  }
  bool ok = queue_range(m, path, (int64_t)off, (int64_t)len, NULL);
  free(path);
  return ret_bool(env, ok);
}

// storeData(handle, path, offset, bytes): puts bytes the kernel would otherwise ask for into
// the file's page cache (FUSE_NOTIFY_STORE), so reads of them never reach the FileSystem.
// Queued behind earlier invalidations, so an invalidation queued after it drops it again.
// Returns whether the path is known to the kernel (a node exists for it).
static napi_value js_store_data(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  mount_t *m = mount_call(env, info, 4, argv);
  if (!m) return NULL;
  double off = get_double(env, argv[2]);
  void *data = NULL;
  size_t len = 0;
  if (get_u8(env, argv[3], &data, &len) != 0 || len == 0 || len > (1u << 20) || !(off >= 0) ||
      off + (double)len > 9007199254740991.0 || m->closed)
    return ret_bool(env, false);
  char *path = get_string(env, argv[1]);
  if (!path) return ret_bool(env, false);
  uint8_t *copy = malloc(len);
  if (!copy) {
    free(path);
    return ret_bool(env, false);
  }
  memcpy(copy, data, len);
  bool ok = queue_range(m, path, (int64_t)off, (int64_t)len, copy);
  free(path);
  return ret_bool(env, ok);
}

// stats(handle) -> [nodes, pending, passthrough negotiated (0/1), passthrough opens answered]
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  mount_t *m = get_mount(env, argv[0]);
  if (!m) return NULL;
  pthread_mutex_lock(&m->lock);
  double nodes = (double)m->count;
  double pending = 0;
  for (uint32_t i = 0; i < m->nslots; i++)
    if (m->slots[i].req) pending++;
  pthread_mutex_unlock(&m->lock);
  double vals[4] = {nodes, pending, m->passthrough, m->pt_total};
  napi_value arr, v;
  napi_create_array_with_length(env, 4, &arr);
  for (uint32_t i = 0; i < 4; i++) {
    napi_create_double(env, vals[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mount", NULL, js_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"exit", NULL, js_exit, NULL, NULL, NULL, napi_enumerable, NULL},
      {"destroy", NULL, js_destroy, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyErr", NULL, js_reply_err, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyEntry", NULL, js_reply_entry, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyCreate", NULL, js_reply_create, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyAttr", NULL, js_reply_attr, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyOpen", NULL, js_reply_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyData", NULL, js_reply_data, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyDataV", NULL, js_reply_data_v, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyWrite", NULL, js_reply_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyReadlink", NULL, js_reply_readlink, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyStatfs", NULL, js_reply_statfs, NULL, NULL, NULL, napi_enumerable, NULL},
      {"replyDir", NULL, js_reply_dir, NULL, NULL, NULL, napi_enumerable, NULL},
      {"invalidate", NULL, js_invalidate, NULL, NULL, NULL, napi_enumerable, NULL},
      {"invalidateData", NULL, js_invalidate_data, NULL, NULL, NULL, napi_enumerable, NULL},
      {"storeData", NULL, js_store_data, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value has_main;
#ifdef WH_HAVE_UV
  napi_get_boolean(env, true, &has_main);
#else
  napi_get_boolean(env, false, &has_main);
#endif
  napi_set_named_property(env, exports, "mainLoop", has_main);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
