/*
 * test_child.h — run a function in a forked child and read back how it
 * ended and what it wrote to stderr: for the tests of reports that go to
 * the default handler, which prints and aborts.  POSIX (fork, pipe,
 * setrlimit): include it only from tests built with _GNU_SOURCE.
 */
#ifndef RCGC_TEST_CHILD_H
#define RCGC_TEST_CHILD_H

#include "check.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct child_result {
    int ok;        /* the child ran and was waited for */
    int signaled;  /* killed by a signal */
    int signo;
    int exit_code; /* if it exited */
    char err[4096];
} child_result;

static inline void run_child(void (*fn)(void), child_result *res) {
    memset(res, 0, sizeof *res);
    int fds[2];
    if (pipe(fds) != 0)
        return;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        fn();
        _exit(0); /* not reached if the library aborts */
    }
    close(fds[1]);
    size_t len = 0;
    for (;;) {
        ssize_t k = read(fds[0], res->err + len, sizeof res->err - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        len += (size_t)k;
        if (len == sizeof res->err - 1) {
            char sink[256]; /* keep draining so the child never blocks */
            while (read(fds[0], sink, sizeof sink) > 0) {
            }
            break;
        }
    }
    res->err[len] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return;
    }
    res->ok = 1;
    if (WIFSIGNALED(status)) {
        res->signaled = 1;
        res->signo = WTERMSIG(status);
    } else if (WIFEXITED(status)) {
        res->exit_code = WEXITSTATUS(status);
    }
}

/* The child died of SIGABRT and its stderr contains needle. */
static inline void expect_abort(const child_result *res, const char *needle) {
    if (!CHECK(res->ok))
        return;
    CHECK_MSG(res->signaled && res->signo == SIGABRT,
              "child was expected to die of SIGABRT (signaled %d, signal %d, exit code %d); "
              "stderr: %.300s",
              res->signaled, res->signo, res->exit_code, res->err);
    CHECK_STR_CONTAINS(res->err, needle);
}

#endif
