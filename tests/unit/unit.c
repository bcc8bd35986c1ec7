/* unit.c: runs the tests registered with TEST(), each in a child process
 * with a timeout, and prints "N passed, N failed". Usage:
 *   test_x            run all
 *   test_x NAME...    run the named ones
 *   test_x --list     list names */
#include "unit.h"

#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS 1024
#define TIMEOUT_S 120

static struct {
    const char *name;
    cr_unit_fn fn;
} tests[MAX_TESTS];
static int ntests;
static char tmpdir[256];

void
cr_unit_register(const char *name, cr_unit_fn fn)
{
    if (ntests < MAX_TESTS) {
        tests[ntests].name = name;
        tests[ntests].fn = fn;
        ntests++;
    }
}

void
cr_unit_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "  %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(1);
}

const char *
cr_unit_tmpdir(void)
{
    if (tmpdir[0] == '\0') {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/cr-unit-XXXXXX");
        if (mkdtemp(tmpdir) == NULL)
            cr_unit_fail(__FILE__, __LINE__, "mkdtemp failed");
    }
    return tmpdir;
}

const char *
cr_unit_node_package(const char *package)
{
    static char path[PATH_MAX];
    const char *src = getenv("CR_SOURCE_DIR");
    char dir[PATH_MAX];
    struct stat st;

    if (src != NULL) {
        if (snprintf(path, sizeof path, "%s/node_modules/%s", src,
                     package) >= (int)sizeof path)
            return NULL;
        return stat(path, &st) == 0 ? path : NULL;
    }
    if (getcwd(dir, sizeof dir) == NULL)
        return NULL;
    for (;;) {
        char *slash;
        if (snprintf(path, sizeof path, "%s/node_modules/%s", dir,
                     package) >= (int)sizeof path)
            return NULL;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return path;
        slash = strrchr(dir, '/');
        if (slash == NULL || slash == dir)
            return NULL;
        *slash = '\0';
    }
}

static int
run_one(int i)
{
    pid_t pid;
    int status = 0;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        alarm(TIMEOUT_S);
        tests[i].fn();
        if (tmpdir[0]) {
            char cmd[300];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
            if (system(cmd) != 0)
                fprintf(stderr, "  could not remove %s\n", tmpdir);
        }
        fflush(stdout);
        _exit(0);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return 0;
    if (WIFSIGNALED(status))
        fprintf(stderr, "  killed by signal %d%s\n", WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int
main(int argc, char **argv)
{
    int i, j, passed = 0, failed = 0;

    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < ntests; i++)
            printf("%s\n", tests[i].name);
        return 0;
    }
    for (i = 0; i < ntests; i++) {
        int selected = argc == 1;
        for (j = 1; j < argc; j++)
            if (strcmp(argv[j], tests[i].name) == 0)
                selected = 1;
        if (!selected)
            continue;
        if (run_one(i)) {
            passed++;
            printf("ok   %s\n", tests[i].name);
        } else {
            failed++;
            printf("FAIL %s\n", tests[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
