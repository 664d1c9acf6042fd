// The floor of a crash-safe move of many small files within one
// filesystem: the least work any ingest that hashes every file, never
// replaces a name and survives power loss has to do, with nothing else.
// scripts/bench times it beside workload 2 so that the gap between
// atomic-ingest and the plain tools can be split into what the job needs
// and what atomic-ingest adds.
//
//   move SRC DEST JOURNAL BATCH [checks]
//
// Every regular file in SRC is hashed (SHA-256) by two threads, while this
// thread commits batches of BATCH files in listing order: one journal
// record per file (name and hash), fdatasync; renameat2(RENAME_NOREPLACE)
// of each into DEST; fsync of DEST and of SRC; one line per file appended
// to the journal again as the manifest, fdatasync. Left out: stability,
// duplicates, sidecars, the state, recovery and logging. With `checks`,
// it also makes the per-file checks that atomic-ingest makes, and nothing
// more: a stat of the listed name, a probe that the destination name is
// free, a lease that tells whether a writer has the file open, a stat
// before and after the read, and a stat of the name before and after its
// rename.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { kWorkers = 2, kReadSize = 256 * 1024 };

struct File {
  char* name;
  unsigned char sha256[32];
};

static struct File* files;
static size_t nfiles;
static size_t batch;
static int src_fd;
static int dest_fd;
static int checks;
static atomic_size_t next_file;
static atomic_size_t* batch_left;  // files of each batch not hashed yet
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t batch_hashed = PTHREAD_COND_INITIALIZER;

static void Die(const char* what, const char* name) {
  fprintf(stderr, "move: %s %s: %s\n", what, name, strerror(errno));
  exit(1);
}

static void ListSource(const char* src) {
  size_t cap = 1024;
  files = malloc(cap * sizeof *files);
  char buf[1 << 16];
  for (;;) {
    long n = syscall(SYS_getdents64, src_fd, buf, sizeof buf);
    if (n < 0) Die("cannot list", src);
    if (n == 0) break;
    for (long off = 0; off < n;) {
      struct dirent64* d = (struct dirent64*)(buf + off);
      off += d->d_reclen;
      if (d->d_type != DT_REG) continue;
      if (nfiles == cap) files = realloc(files, (cap *= 2) * sizeof *files);
      files[nfiles++].name = strdup(d->d_name);
    }
  }
}

static void* Hash(void* arg) {
  (void)arg;
  unsigned char* buf = malloc(kReadSize);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  for (size_t i; (i = atomic_fetch_add(&next_file, 1)) < nfiles;) {
    struct File* f = &files[i];
    struct stat st;
    if (checks) {
      if (fstatat(src_fd, f->name, &st, AT_SYMLINK_NOFOLLOW) != 0) Die("cannot stat", f->name);
      if (fstatat(dest_fd, f->name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT) {
        Die("name taken", f->name);
      }
    }
    int fd = openat(src_fd, f->name, O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC);
    if (fd < 0) Die("cannot open", f->name);
    if (fstat(fd, &st) != 0) Die("cannot stat", f->name);
    if (checks && (fcntl(fd, F_SETLEASE, F_RDLCK) != 0 || fcntl(fd, F_SETLEASE, F_UNLCK) != 0)) {
      Die("cannot lease", f->name);
    }
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (;;) {
      ssize_t n = read(fd, buf, kReadSize);
      if (n < 0) Die("cannot read", f->name);
      if (n == 0) break;
      EVP_DigestUpdate(ctx, buf, (size_t)n);
    }
    EVP_DigestFinal_ex(ctx, f->sha256, NULL);
    if (checks && fstat(fd, &st) != 0) Die("cannot stat", f->name);
    close(fd);
    if (atomic_fetch_sub(&batch_left[i / batch], 1) == 1) {
      pthread_mutex_lock(&mu);
      pthread_cond_broadcast(&batch_hashed);
      pthread_mutex_unlock(&mu);
    }
  }
  EVP_MD_CTX_free(ctx);
  free(buf);
  return NULL;
}

// One line per file of [first, last) into the journal, made durable.
static void Record(int journal, size_t first, size_t last, const char* tag) {
  size_t cap = (last - first) * (64 + 300), len = 0;
  char* out = malloc(cap);
  for (size_t i = first; i < last; ++i) {
    len += (size_t)snprintf(out + len, cap - len, "%s ", tag);
    for (int b = 0; b < 32; ++b) len += (size_t)snprintf(out + len, cap - len, "%02x", files[i].sha256[b]);
    len += (size_t)snprintf(out + len, cap - len, " %s\n", files[i].name);
  }
  if (write(journal, out, len) != (ssize_t)len || fdatasync(journal) != 0) Die("cannot write", "journal");
  free(out);
}

int main(int argc, char** argv) {
  checks = argc == 6 && strcmp(argv[5], "checks") == 0;
  if ((argc != 5 && !checks) || atol(argv[4]) <= 0) {
    fprintf(stderr, "usage: move SRC DEST JOURNAL BATCH [checks]\n");
    return 2;
  }
  batch = (size_t)atol(argv[4]);
  src_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src_fd < 0) Die("cannot open", argv[1]);
  dest_fd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dest_fd < 0) Die("cannot open", argv[2]);
  int journal = open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (journal < 0) Die("cannot open", argv[3]);
  ListSource(argv[1]);
  size_t batches = (nfiles + batch - 1) / batch;
  batch_left = malloc((batches + 1) * sizeof *batch_left);
  for (size_t b = 0; b < batches; ++b) {
    size_t last = (b + 1) * batch < nfiles ? (b + 1) * batch : nfiles;
    atomic_init(&batch_left[b], last - b * batch);
  }
  pthread_t workers[kWorkers];
  for (int w = 0; w < kWorkers; ++w) pthread_create(&workers[w], NULL, Hash, NULL);
  for (size_t b = 0; b < batches; ++b) {
    size_t first = b * batch, last = first + batch < nfiles ? first + batch : nfiles;
    pthread_mutex_lock(&mu);
    while (atomic_load(&batch_left[b]) != 0) pthread_cond_wait(&batch_hashed, &mu);
    pthread_mutex_unlock(&mu);
    Record(journal, first, last, "intent");
    struct stat st;
    for (size_t i = first; i < last && checks; ++i) {
      if (fstatat(src_fd, files[i].name, &st, AT_SYMLINK_NOFOLLOW) != 0) Die("cannot stat", files[i].name);
    }
    for (size_t i = first; i < last; ++i) {
      if (syscall(SYS_renameat2, src_fd, files[i].name, dest_fd, files[i].name, RENAME_NOREPLACE) != 0) {
        Die("cannot rename", files[i].name);
      }
    }
    for (size_t i = first; i < last && checks; ++i) {
      if (fstatat(dest_fd, files[i].name, &st, AT_SYMLINK_NOFOLLOW) != 0) Die("cannot stat", files[i].name);
    }
    if (fsync(dest_fd) != 0) Die("cannot sync", argv[2]);
    if (fsync(src_fd) != 0) Die("cannot sync", argv[1]);
    Record(journal, first, last, "done");
  }
  for (int w = 0; w < kWorkers; ++w) pthread_join(workers[w], NULL);
  return 0;
}
