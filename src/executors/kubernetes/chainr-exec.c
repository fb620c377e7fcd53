/*
 * chainr-exec: the wrapper of a job's container on Kubernetes, for images with or without a shell.
 *
 * Built as a static executable (no libraries, no shell needed in the job's image), it is shipped in
 * chainr's image and delivered into each job's pod the way Argo's emissary executor delivers its
 * own: an init container of chainr's image runs `chainr-exec install /chainr/bin/chainr-exec`,
 * which copies this very file into the pod's shared emptyDir volume; the job's container then runs
 *
 *   /chainr/bin/chainr-exec run <outputs file> <termination message file> <program> [<arg>...]
 *
 * which empties the outputs file, runs the program with its arguments (looked up in PATH, as
 * execvp does; no shell), passes SIGTERM, SIGINT, SIGHUP and SIGQUIT on to it (so deleting the Job
 * stops the job promptly), and when it has ended copies the outputs file into the termination
 * message (the kubelet keeps at most 4096 bytes of it; larger outputs are replaced by a marker the
 * worker reports) and exits with the program's exit status, 128 + the signal's number when a signal
 * ended it, 127 when the program does not exist and 126 when it cannot be run (as shells do).
 *
 * A job that declares artifacts runs under
 *
 *   chainr-exec run-collect <outputs file> <termination message file> <collect dir> <marker>
 *               <count> (<name> <path>){count} <program> [<arg>...]
 *
 * which does the same and, once the program has ended, copies each declared path (relative to
 * the working directory; a symbolic link at its top followed, links inside a directory kept as
 * links, other special files left out) to <collect dir>/<name> when the program succeeded, then
 * writes <marker>: the exit status on its first line, then a line `<name>\t<problem>` for each
 * path that could not be copied. The marker appears whole (written beside, then renamed): the
 * pod's transfer container waits for it before it stores the copies. Copies are readable by all
 * (the transfer container runs as another user than the job may).
 *
 * The constants below are those of manifest.ts (MAX_OUTPUTS_BYTES, OUTPUTS_TOO_LARGE).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_OUTPUTS_BYTES 4096
#define OUTPUTS_TOO_LARGE "!outputs-too-large "

static volatile sig_atomic_t child_pid = 0;
static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
#define FORWARDED_COUNT (sizeof forwarded / sizeof forwarded[0])

static void fail(const char *what, const char *path) {
  fprintf(stderr, "chainr-exec: %s %s: %s\n", what, path, strerror(errno));
  exit(126);
}

static void usage(void) {
  fputs("usage: chainr-exec install <destination>\n"
        "       chainr-exec run <outputs file> <termination message file> <program> [<arg>...]\n"
        "       chainr-exec run-collect <outputs file> <termination message file> <collect dir>\n"
        "                   <marker> <count> (<name> <path>)... <program> [<arg>...]\n",
        stderr);
  exit(2);
}

/* Writes all of buf, retrying short writes and interruptions. */
static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/*
 * Copies src to dst (created with mode), both by path: 0 when done, else -1 with errno set and
 * *failed naming the path that failed.
 */
static int copy_path(const char *src, const char *dst, mode_t mode, const char **failed) {
  int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0) return *failed = src, -1;
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (out < 0) {
    int err = errno;
    close(in);
    return errno = err, *failed = dst, -1;
  }
  char buf[65536];
  const char *bad = NULL;
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      bad = src;
      break;
    }
    if (n == 0) break;
    if (write_all(out, buf, (size_t)n) < 0) {
      bad = dst;
      break;
    }
  }
  if (bad == NULL && fchmod(out, mode) < 0) bad = dst;
  int err = errno;
  if (close(out) < 0 && bad == NULL) bad = dst, err = errno;
  close(in);
  if (bad != NULL) return errno = err, *failed = bad, -1;
  return 0;
}

static void copy_file(const char *src, const char *dst, mode_t mode) {
  const char *failed = NULL;
  if (copy_path(src, dst, mode, &failed) < 0) fail("cannot copy to", failed);
}

/* `install <dst>`: copies this executable to dst, creating dst's directory. */
static int install(const char *dst) {
  char *dir = strdup(dst);
  char *slash = dir ? strrchr(dir, '/') : NULL;
  if (slash && slash != dir) {
    *slash = '\0';
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) fail("cannot create the directory", dir);
  }
  free(dir);
  copy_file("/proc/self/exe", dst, 0755);
  return 0;
}

/* A problem with a declared path, for the marker: `<name>\t<text>`. */
struct problems {
  char *text;
  size_t len;
};

static void add_problem(struct problems *p, const char *name, const char *what, const char *path,
                        int err) {
  char line[8192];
  int n = err ? snprintf(line, sizeof line, "%s\t%s %s: %s\n", name, what, path, strerror(err))
              : snprintf(line, sizeof line, "%s\t%s %s\n", name, path, what);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = sizeof line - 1;
  char *grown = realloc(p->text, p->len + (size_t)n + 1);
  if (grown == NULL) return;
  p->text = grown;
  memcpy(p->text + p->len, line, (size_t)n);
  p->len += (size_t)n;
  p->text[p->len] = '\0';
}

static char *join_path(const char *dir, const char *name) {
  size_t len = strlen(dir) + strlen(name) + 2;
  char *out = malloc(len);
  if (out != NULL) snprintf(out, len, "%s/%s", dir, name);
  return out;
}

/*
 * Copies the tree at src (already lstat'ed as st) to dst: files with their bytes, directories
 * with their entries, symbolic links as links; other special files are left out. Modes keep
 * their bits, with read (and search, for directories) added for all. 0, or -1 with errno and
 * *failed set.
 */
static int copy_tree(const char *src, const char *dst, const struct stat *st, const char **failed) {
  if (S_ISREG(st->st_mode)) return copy_path(src, dst, (st->st_mode & 07777) | 0444, failed);
  if (S_ISLNK(st->st_mode)) {
    char target[4096];
    ssize_t n = readlink(src, target, sizeof target - 1);
    if (n < 0) return *failed = src, -1;
    target[n] = '\0';
    if (symlink(target, dst) < 0) return *failed = dst, -1;
    return 0;
  }
  if (!S_ISDIR(st->st_mode)) return 0;
  if (mkdir(dst, 0700) < 0) return *failed = dst, -1;
  DIR *dir = opendir(src);
  if (dir == NULL) return *failed = src, -1;
  int result = 0;
  struct dirent *entry;
  while (result == 0 && (errno = 0, entry = readdir(dir)) != NULL) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    char *from = join_path(src, entry->d_name);
    char *to = join_path(dst, entry->d_name);
    struct stat child;
    if (from == NULL || to == NULL) {
      errno = ENOMEM;
      *failed = src;
      result = -1;
    } else if (lstat(from, &child) < 0) {
      *failed = src;
      result = -1;
    } else {
      result = copy_tree(from, to, &child, failed);
      /* A path freed below must not be the one reported: the top-level paths are kept. */
      if (result < 0 && (*failed == from || *failed == to)) *failed = src;
    }
    free(from);
    free(to);
  }
  if (result == 0 && errno != 0) *failed = src, result = -1;
  int err = errno;
  closedir(dir);
  if (result < 0) return errno = err, -1;
  if (chmod(dst, (st->st_mode & 07777) | 0555) < 0) return *failed = dst, -1;
  return 0;
}

/* Copies each declared path into collect_dir/<name>; what could not be, into problems. */
static void collect(const char *collect_dir, int count, char **pairs, struct problems *problems) {
  if (mkdir(collect_dir, 0755) < 0 && errno != EEXIST) {
    add_problem(problems, pairs[0], "cannot create", collect_dir, errno);
    return;
  }
  for (int i = 0; i < count; i++) {
    const char *name = pairs[2 * i], *path = pairs[2 * i + 1];
    struct stat st;
    if (stat(path, &st) < 0) {
      if (errno == ENOENT) add_problem(problems, name, "does not exist", path, 0);
      else add_problem(problems, name, "cannot read", path, errno);
      continue;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
      add_problem(problems, name, "is neither a file nor a directory", path, 0);
      continue;
    }
    char *dst = join_path(collect_dir, name);
    const char *failed = NULL;
    if (dst == NULL) {
      add_problem(problems, name, "cannot copy", path, ENOMEM);
      continue;
    }
    if (copy_tree(path, dst, &st, &failed) < 0)
      add_problem(problems, name, "cannot copy", failed == dst ? "into the pod's volume" : path,
                  errno);
    free(dst);
  }
}

/* Writes the marker whole: beside it, then renamed into place. */
static void write_marker(const char *marker, int code, const struct problems *problems) {
  size_t len = strlen(marker) + sizeof ".tmp";
  char *tmp = malloc(len);
  if (tmp == NULL) return;
  snprintf(tmp, len, "%s.tmp", marker);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    fprintf(stderr, "chainr-exec: cannot write %s: %s\n", tmp, strerror(errno));
    free(tmp);
    return;
  }
  char head[32];
  int n = snprintf(head, sizeof head, "%d\n", code);
  if (write_all(fd, head, (size_t)n) < 0 ||
      (problems->len > 0 && write_all(fd, problems->text, problems->len) < 0) || close(fd) < 0 ||
      rename(tmp, marker) < 0)
    fprintf(stderr, "chainr-exec: cannot write %s: %s\n", marker, strerror(errno));
  free(tmp);
}

static void forward(int sig) {
  if (child_pid > 0) kill((pid_t)child_pid, sig);
}

/* The outputs file as the termination message, or the marker when it is too large. */
static void report_outputs(const char *outputs, const char *termination) {
  int out = open(termination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    fprintf(stderr, "chainr-exec: cannot write %s: %s\n", termination, strerror(errno));
    return;
  }
  struct stat st;
  int in = open(outputs, O_RDONLY | O_CLOEXEC);
  if (in >= 0 && fstat(in, &st) == 0 && st.st_size > MAX_OUTPUTS_BYTES) {
    char marker[64];
    int n = snprintf(marker, sizeof marker, "%s%lld", OUTPUTS_TOO_LARGE, (long long)st.st_size);
    write_all(out, marker, (size_t)n);
  } else if (in >= 0) {
    char buf[MAX_OUTPUTS_BYTES];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) != 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 || write_all(out, buf, (size_t)n) < 0) break;
    }
  }
  if (in >= 0) close(in);
  close(out);
}

static int run(const char *outputs, const char *termination, char **argv) {
  int fd = open(outputs, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) fail("cannot create the outputs file", outputs);
  /* Writable by the program whatever user it runs as (the umask would narrow 0666). */
  fchmod(fd, 0666);
  close(fd);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  sigemptyset(&sa.sa_mask);
  sigset_t blocked, previous;
  sigemptyset(&blocked);
  for (size_t i = 0; i < FORWARDED_COUNT; i++) {
    sigaction(forwarded[i], &sa, NULL);
    sigaddset(&blocked, forwarded[i]);
  }
  /* A signal that arrives before the program's pid is known waits, and is passed on once it is. */
  sigprocmask(SIG_BLOCK, &blocked, &previous);

  /* The program learns that it could not be started through this pipe (closed on exec). */
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) fail("cannot create a pipe for", argv[0]);
  pid_t pid = fork();
  if (pid < 0) fail("cannot start", argv[0]);
  if (pid == 0) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (size_t i = 0; i < FORWARDED_COUNT; i++) sigaction(forwarded[i], &dfl, NULL);
    sigprocmask(SIG_SETMASK, &previous, NULL);
    close(report[0]);
    execvp(argv[0], argv);
    int err = errno;
    write_all(report[1], (const char *)&err, sizeof err);
    _exit(err == ENOENT ? 127 : 126);
  }
  child_pid = pid;
  sigprocmask(SIG_SETMASK, &previous, NULL);
  close(report[1]);
  int err = 0;
  ssize_t got;
  while ((got = read(report[0], &err, sizeof err)) < 0 && errno == EINTR) {
  }
  close(report[0]);
  if (got == (ssize_t)sizeof err)
    fprintf(stderr, "chainr-exec: cannot run \"%s\": %s\n", argv[0], strerror(err));

  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail("cannot wait for", argv[0]);
  report_outputs(outputs, termination);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

/* run, then the declared paths collected (when the program succeeded) and the marker written. */
static int run_collect(char **argv, int argc) {
  /* argv: outputs, termination, collect dir, marker, count, pairs..., program... */
  if (argc < 6) usage();
  char *end = NULL;
  long count = strtol(argv[4], &end, 10);
  if (end == argv[4] || *end != '\0' || count < 1 || 5 + 2 * count >= argc) usage();
  char **pairs = argv + 5;
  int code = run(argv[0], argv[1], argv + 5 + 2 * count);
  struct problems problems = {NULL, 0};
  if (code == 0) collect(argv[2], (int)count, pairs, &problems);
  write_marker(argv[3], code, &problems);
  free(problems.text);
  return code;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "install") == 0) return install(argv[2]);
  if (argc >= 5 && strcmp(argv[1], "run") == 0) return run(argv[2], argv[3], argv + 4);
  if (argc >= 2 && strcmp(argv[1], "run-collect") == 0) return run_collect(argv + 2, argc - 2);
  usage();
  return 2;
}
