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
 * The constants below are those of manifest.ts (MAX_OUTPUTS_BYTES, OUTPUTS_TOO_LARGE).
 */
#define _GNU_SOURCE
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
        "       chainr-exec run <outputs file> <termination message file> <program> [<arg>...]\n",
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

/* Copies src to dst (created with mode), both by path. */
static void copy_file(const char *src, const char *dst, mode_t mode) {
  int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0) fail("cannot read", src);
  int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (out < 0) fail("cannot write", dst);
  char buf[65536];
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read", src);
    if (n == 0) break;
    if (write_all(out, buf, (size_t)n) < 0) fail("cannot write", dst);
  }
  if (fchmod(out, mode) < 0 || close(out) < 0) fail("cannot write", dst);
  close(in);
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

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "install") == 0) return install(argv[2]);
  if (argc >= 5 && strcmp(argv[1], "run") == 0) return run(argv[2], argv[3], argv + 4);
  usage();
  return 2;
}
