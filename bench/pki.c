/*
 * pki.c - the certificates of the benchmark: the project's test PKI
 * generator (tests/pki/make-pki.sh) run into a fresh temporary directory.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#ifndef PETREL_BENCH_PKI_SCRIPT
#error "PETREL_BENCH_PKI_SCRIPT must name tests/pki/make-pki.sh"
#endif

static char tmp_root[64];
static char pki_dir[128];

void bench_pki_path(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static int run_quiet(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char *bench_pki_generate(void)
{
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/petrel-bench-XXXXXX");
    if (mkdtemp(tmp_root) == NULL) {
        perror("mkdtemp");
        return NULL;
    }
    snprintf(pki_dir, sizeof(pki_dir), "%s/pki", tmp_root);
    char *argv[] = {"bash", PETREL_BENCH_PKI_SCRIPT, pki_dir, NULL};
    if (run_quiet(argv) != 0) {
        fprintf(stderr, "petrel-bench: %s failed\n", PETREL_BENCH_PKI_SCRIPT);
        return NULL;
    }
    return pki_dir;
}

void bench_pki_remove(void)
{
    if (tmp_root[0] == '\0') {
        return;
    }
    char *argv[] = {"rm", "-rf", tmp_root, NULL};
    if (run_quiet(argv) != 0) {
        fprintf(stderr, "petrel-bench: could not remove %s\n", tmp_root);
    }
    tmp_root[0] = '\0';
}
