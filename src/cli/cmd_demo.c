/* cmd_demo.c: `carerecord demo`: synthetic London on five federated nodes.
 *
 * Generates a synthetic population (`carerecord synth`, the world's
 * "today" set to the real date, so recent care counts as a current
 * relationship), loads each region's files into its own node's data
 * directory (`carerecord import`), writes each node's configuration (the
 * other four as peers, their public keys, the record locator on nel),
 * starts the five nodes on consecutive loopback ports, picks a person whose
 * record is spread over several regions and the people who would look at it
 * (demo_pick.c), mints their tokens, writes DIR/demo.json and prints it
 * all. Ctrl-C (or SIGTERM) stops every node cleanly. A second run with the
 * same --patients and --seed reuses the loaded data.
 *
 * The work is done by this same binary run as child processes, so each
 * node is exactly what `carerecord serve` runs. Depends on access/
 * (tokens), cli/demo_pick, core/, jansson, POSIX spawn and signals. */
#include "cli/cmd_demo.h"

#include "access/token.h"
#include "cli/demo_pick.h"
#include "synth/synth.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define NODES CR_CLI_DEMO_REGIONS
#define LOCATOR 0               /* nel keeps the record locator */
#define TOKEN_TTL 43200         /* 12 hours */
#define READY_TIMEOUT_S 60
#define STOP_TIMEOUT_S 20

static const char usage[] =
    "Usage: carerecord demo [--data DIR] [--patients N] [--base-port P]\n"
    "                       [--seed S] [--quiet]\n"
    "\n"
    "Synthetic London on five federated nodes, one per regional exchange\n"
    "(nel, ncl, nwl, sel, swl), with the record locator on nel: generates\n"
    "and loads the data (first run only), starts the nodes on loopback,\n"
    "prints their URLs and ready-made tokens for a GP, an A&E clinician, a\n"
    "paramedic, a social worker, a receptionist, a privacy officer and a\n"
    "patient, and writes DIR/demo.json for scripts. Ctrl-C stops them all.\n"
    "\n"
    "Options:\n"
    "  --data DIR       where the data and logs go (default\n"
    "                   ./carerecord-demo)\n"
    "  --patients N     synthetic people (default 1000)\n"
    "  --base-port P    nel listens on P, ncl on P+1, ... swl on P+4\n"
    "                   (default 8080)\n"
    "  --seed S         synthetic data seed (default 1)\n"
    "  -q, --quiet      print only where demo.json is once the nodes run\n"
    "  -h, --help       show this help\n";

struct node {
    const char *id;
    char dir[1100];
    char log[1200];
    int port;
    pid_t pid;
    struct cr_keys *keys;
};

struct demo {
    char dir[1024];
    char self[1024];
    long patients;
    unsigned long long seed;
    int base_port;
    bool is_quiet;
    char today[16];
    struct node nodes[NODES];
};

/* ---- processes ---------------------------------------------------------- */

/* Run this binary with 'argv' (argv[0] ignored), its output appended to
 * 'log'. Returns the child's pid, or -1. */
static pid_t
spawn(const struct demo *d, char *const argv[], const char *log, bool is_trunc)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, def;
    pid_t pid = -1;

    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 1, log,
                                     O_WRONLY | O_CREAT |
                                         (is_trunc ? O_TRUNC : O_APPEND),
                                     0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    if (posix_spawn(&pid, d->self, &fa, &at, argv, environ) != 0)
        pid = -1;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return pid;
}

/* Run to completion; true on exit status 0. */
static bool
run(const struct demo *d, char *const argv[], const char *log)
{
    pid_t pid = spawn(d, argv, log, false);
    int status = 0;

    if (pid < 0)
        return false;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
show_tail(const char *log)
{
    char line[1024];
    char *lines[20];
    int n = 0, i;
    FILE *f = fopen(log, "r");

    if (f == NULL)
        return;
    memset(lines, 0, sizeof lines);
    while (fgets(line, sizeof line, f)) {
        free(lines[n % 20]);
        lines[n % 20] = strdup(line);
        n++;
    }
    fclose(f);
    for (i = n > 20 ? n - 20 : 0; i < n; i++) {
        fputs(lines[i % 20] ? lines[i % 20] : "", stderr);
    }
    for (i = 0; i < 20; i++)
        free(lines[i]);
}

/* ---- the data ----------------------------------------------------------- */

static int
remove_one(const char *path, const struct stat *st, int flag,
           struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void
remove_tree(const char *path)
{
    nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* True when DIR holds the data of an earlier run with the same choices. */
static bool
has_data(const struct demo *d)
{
    char path[1200];
    json_t *m;
    bool is_same;
    int i;

    snprintf(path, sizeof path, "%s/demo-data.json", d->dir);
    m = json_load_file(path, 0, NULL);
    is_same = json_integer_value(json_object_get(m, "patients")) ==
                  d->patients &&
              (unsigned long long)json_integer_value(
                  json_object_get(m, "seed")) == d->seed;
    json_decref(m);
    for (i = 0; is_same && i < NODES; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/carerecord.db", d->nodes[i].dir);
        is_same = stat(path, &st) == 0;
    }
    return is_same;
}

/* Synthesize and load every region; false (after saying why) on failure. */
static bool
load(struct demo *d)
{
    char out[1100], log[1100], pat[32], seed[32], path[1200];
    int i;

    snprintf(log, sizeof log, "%s/setup.log", d->dir);
    snprintf(out, sizeof out, "%s/synthetic", d->dir);
    remove(log);
    remove_tree(out);
    for (i = 0; i < NODES; i++)
        remove_tree(d->nodes[i].dir);
    snprintf(path, sizeof path, "%s/demo-data.json", d->dir);
    remove(path);
    snprintf(pat, sizeof pat, "%ld", d->patients);
    snprintf(seed, sizeof seed, "%llu", d->seed);
    fprintf(stderr, "Generating %ld synthetic Londoners (seed %s) ...\n",
            d->patients, seed);
    {
        char *argv[] = { "carerecord", "synth", "--patients", pat, "--seed",
                         seed, "--out", out, "--start", d->today, "-q",
                         NULL };
        if (!run(d, argv, log))
            goto failed;
    }
    for (i = 0; i < NODES; i++) {
        struct node *n = &d->nodes[i];
        char sdir[1200];
        char *argv[64];
        int k = 0;
        DIR *dp;
        struct dirent *e;
        char *files[40];
        int nf = 0;

        fprintf(stderr, "Loading %s (%s) ...\n", n->id,
                cr_synth_node_name(i));
        snprintf(sdir, sizeof sdir, "%s/%s", out, n->id);
        if (mkdir(n->dir, 0700) != 0 && errno != EEXIST)
            goto failed;
        argv[k++] = "carerecord";
        argv[k++] = "import";
        argv[k++] = "-q";
        argv[k++] = "--data";
        argv[k++] = n->dir;
        argv[k++] = "--node-id";
        argv[k++] = (char *)n->id;
        dp = opendir(sdir);
        while (dp && (e = readdir(dp)) != NULL && nf < 40) {
            size_t len = strlen(e->d_name);
            if (len > 7 && strcmp(e->d_name + len - 7, ".ndjson") == 0) {
                size_t m = strlen(sdir) + len + 2;
                files[nf] = malloc(m);
                if (files[nf])
                    snprintf(files[nf++], m, "%s/%s", sdir, e->d_name);
            }
        }
        if (dp)
            closedir(dp);
        for (int f = 0; f < nf; f++)
            argv[k++] = files[f];
        argv[k] = NULL;
        {
            bool is_ok = nf > 0 && run(d, argv, log);
            for (int f = 0; f < nf; f++)
                free(files[f]);
            if (!is_ok)
                goto failed;
        }
    }
    {
        json_t *m = json_pack("{s:I,s:I,s:s}", "patients",
                              (json_int_t)d->patients, "seed",
                              (json_int_t)d->seed, "start", d->today);
        json_dump_file(m, path, JSON_INDENT(2));
        json_decref(m);
    }
    return true;
failed:
    fprintf(stderr, "carerecord demo: loading the data failed; %s ends:\n",
            log);
    show_tail(log);
    return false;
}

/* ---- the nodes ---------------------------------------------------------- */

static bool
write_config(const struct demo *d, int i)
{
    const struct node *n = &d->nodes[i];
    json_t *c = json_object(), *peers = json_array();
    char path[1200], url[128], listen[64];
    int j, rc;

    snprintf(listen, sizeof listen, "127.0.0.1:%d", n->port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/fhir", n->port);
    json_object_set_new(c, "listen", json_string(listen));
    json_object_set_new(c, "data", json_string(n->dir));
    json_object_set_new(c, "node_id", json_string(n->id));
    json_object_set_new(c, "base_url", json_string(url));
    for (j = 0; j < NODES; j++) {
        char key[1200], purl[128];
        if (j == i)
            continue;
        snprintf(key, sizeof key, "%s/node-key.pub.pem", d->nodes[j].dir);
        snprintf(purl, sizeof purl, "http://127.0.0.1:%d/fhir",
                 d->nodes[j].port);
        json_array_append_new(peers, json_pack("{s:s,s:s,s:s}", "id",
                                               d->nodes[j].id, "base_url",
                                               purl, "public_key", key));
    }
    json_object_set_new(c, "peers", peers);
    json_object_set_new(c, "locator",
                        i == LOCATOR
                            ? json_pack("{s:b}", "role", 1)
                            : json_pack("{s:s}", "node",
                                        d->nodes[LOCATOR].id));
    json_object_set_new(c, "deadline_ms", json_integer(2000));
    /* the sign-in page of every node lists the demo's personas */
    snprintf(path, sizeof path, "%s/demo.json", d->dir);
    json_object_set_new(c, "personas", json_string(path));
    snprintf(path, sizeof path, "%s/node.json", n->dir);
    rc = json_dump_file(c, path, JSON_INDENT(2));
    json_decref(c);
    return rc == 0;
}

static bool
is_listening(const struct node *n)
{
    char line[2048];
    bool is_up = false;
    FILE *f = fopen(n->log, "r");

    while (f && !is_up && fgets(line, sizeof line, f))
        is_up = strstr(line, "\"listening on") != NULL ||
                strstr(line, "listening on http") != NULL;
    if (f)
        fclose(f);
    return is_up;
}

static bool
start_nodes(struct demo *d)
{
    time_t until = time(NULL) + READY_TIMEOUT_S;
    int i, ready = 0;

    for (i = 0; i < NODES; i++) {
        struct node *n = &d->nodes[i];
        char cfg[1200];
        char *argv[] = { "carerecord", "serve", "--config", cfg, NULL };
        snprintf(cfg, sizeof cfg, "%s/node.json", n->dir);
        n->pid = spawn(d, argv, n->log, true);
        if (n->pid < 0) {
            fprintf(stderr, "carerecord demo: cannot start node %s: %s\n",
                    n->id, strerror(errno));
            return false;
        }
    }
    while (ready < NODES) {
        int status;
        ready = 0;
        for (i = 0; i < NODES; i++) {
            struct node *n = &d->nodes[i];
            if (n->pid > 0 && waitpid(n->pid, &status, WNOHANG) == n->pid) {
                n->pid = 0;
                fprintf(stderr, "carerecord demo: node %s did not start; "
                        "%s ends:\n", n->id, n->log);
                show_tail(n->log);
                return false;
            }
            ready += is_listening(n);
        }
        if (time(NULL) > until) {
            fprintf(stderr, "carerecord demo: the nodes did not start within "
                    "%d s (see %s/*/node.log)\n", READY_TIMEOUT_S, d->dir);
            return false;
        }
        if (ready < NODES)
            usleep(100000);
    }
    return true;
}

/* Stop every node; false when one did not stop cleanly (exit status 0). */
static bool
stop_nodes(struct demo *d)
{
    time_t until = time(NULL) + STOP_TIMEOUT_S;
    int i, alive;
    bool is_clean = true;

    for (i = 0; i < NODES; i++)
        if (d->nodes[i].pid > 0)
            kill(d->nodes[i].pid, SIGTERM);
    do {
        alive = 0;
        for (i = 0; i < NODES; i++) {
            struct node *n = &d->nodes[i];
            int status;
            if (n->pid <= 0)
                continue;
            if (waitpid(n->pid, &status, WNOHANG) == n->pid) {
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    fprintf(stderr, "carerecord demo: node %s did not stop "
                            "cleanly (%s %d); see %s\n", n->id,
                            WIFSIGNALED(status) ? "signal" : "exit status",
                            WIFSIGNALED(status) ? WTERMSIG(status)
                                                : WEXITSTATUS(status),
                            n->log);
                    is_clean = false;
                }
                n->pid = 0;
            } else {
                alive++;
            }
        }
        if (alive && time(NULL) > until) {
            for (i = 0; i < NODES; i++)
                if (d->nodes[i].pid > 0) {
                    fprintf(stderr, "carerecord demo: node %s did not stop; "
                            "killing it\n", d->nodes[i].id);
                    kill(d->nodes[i].pid, SIGKILL);
                    waitpid(d->nodes[i].pid, NULL, 0);
                    d->nodes[i].pid = 0;
                    is_clean = false;
                }
            alive = 0;
        }
        if (alive)
            usleep(50000);
    } while (alive);
    return is_clean;
}

/* ---- personas ----------------------------------------------------------- */

struct persona {
    const char *key;                /* short name: GP, AE, ... */
    char label[256];
    const char *role;
    char org[32];
    char org_name[160];
    const char *purpose;
    const char *patient;
    const char *reason;             /* X-Access-Reason to send, or NULL */
    struct cr_cli_demo_staff who;
    int node;                       /* whose key signs the token */
    char *token;
};

/* Days from the date "YYYY-MM-DD" in 'a' to the one in 'b'. */
static long
days_between(const char *a, const char *b)
{
    struct tm ta, tb;

    memset(&ta, 0, sizeof ta);
    memset(&tb, 0, sizeof tb);
    if (sscanf(a, "%d-%d-%d", &ta.tm_year, &ta.tm_mon, &ta.tm_mday) != 3 ||
        sscanf(b, "%d-%d-%d", &tb.tm_year, &tb.tm_mon, &tb.tm_mday) != 3)
        return 100000;
    ta.tm_year -= 1900;
    tb.tm_year -= 1900;
    ta.tm_mon--;
    tb.tm_mon--;
    return (long)((timegm(&tb) - timegm(&ta)) / 86400);
}

/* One persona: 'label' is "<what> <org name>". */
static struct persona *
persona(struct persona *p, const char *key, const char *what,
        const char *role, const char *org, const char *org_name,
        const char *purpose, const struct cr_cli_demo_staff *who, int node)
{
    p->key = key;
    snprintf(p->label, sizeof p->label, "%s %s", what, org_name);
    p->role = role;
    snprintf(p->org, sizeof p->org, "%s", org);
    snprintf(p->org_name, sizeof p->org_name, "%s", org_name);
    p->purpose = purpose;
    p->who = *who;
    p->node = node;
    return p;
}

static size_t
make_personas(const struct demo *d, const struct cr_cli_demo_pick *pk,
              struct persona *ps)
{
    struct cr_cli_demo_staff reception, privacy, patient;
    struct persona *p;

    snprintf(reception.sub, sizeof reception.sub, "demo-reception-%s",
             pk->gp);
    snprintf(reception.name, sizeof reception.name, "Demo Receptionist");
    snprintf(privacy.sub, sizeof privacy.sub, "demo-privacy-%s", pk->ae);
    snprintf(privacy.name, sizeof privacy.name, "Demo Privacy Officer");
    snprintf(patient.sub, sizeof patient.sub, "patient-%s", pk->nhs);
    snprintf(patient.name, sizeof patient.name, "%.127s", pk->name);

    persona(&ps[0], "GP", "GP at", "R8000", pk->gp, pk->gp_name,
            "direct-care", &pk->gp_staff, pk->home);
    p = persona(&ps[1], "AE", "A&E clinician at", "R8000", pk->ae,
                pk->ae_name, "direct-care", &pk->ae_staff, pk->ae_region);
    /* an attendance in the relationship window is a relationship */
    if (pk->ae_date[0] == '\0' || days_between(pk->ae_date, d->today) > 90)
        p->reason = "self-claimed: seen in A&E today";
    p = persona(&ps[2], "PARAMEDIC", "Paramedic (emergency access),", "R8003",
                pk->amb, pk->amb_name, "emergency", &pk->paramedic,
                pk->home);
    p->reason = "emergency: life-threatening collapsed at home";
    p = persona(&ps[3], "SOCIAL", "Social worker,", "R8014", pk->council,
                pk->council_name, "direct-care", &pk->social, pk->home);
    p->reason = "self-claimed: care needs assessment";
    persona(&ps[4], "RECEPTION", "Receptionist at", "R8009", pk->gp,
            pk->gp_name, "direct-care", &reception, pk->home);
    persona(&ps[5], "PRIVACY", "Privacy officer at", "R8008", pk->ae,
            pk->ae_name, "audit", &privacy, pk->ae_region);
    p = persona(&ps[6], "PATIENT", "Patient:", "R8000", pk->gp, pk->gp_name,
                "patient-access", &patient, pk->home);
    snprintf(p->label, sizeof p->label, "Patient: %s", pk->name);
    p->patient = pk->nhs;
    return 7;
}

static bool
mint_tokens(const struct demo *d, struct persona *ps, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        struct cr_principal pr;
        struct cr_err err;
        memset(&pr, 0, sizeof pr);
        snprintf(pr.sub, sizeof pr.sub, "%s", ps[i].who.sub);
        snprintf(pr.name, sizeof pr.name, "%s", ps[i].who.name);
        snprintf(pr.org, sizeof pr.org, "%s", ps[i].org);
        snprintf(pr.role, sizeof pr.role, "%s", ps[i].role);
        snprintf(pr.purpose, sizeof pr.purpose, "%s", ps[i].purpose);
        snprintf(pr.patient, sizeof pr.patient, "%s",
                 ps[i].patient ? ps[i].patient : "");
        cr_err_clear(&err);
        if (cr_token_mint(d->nodes[ps[i].node].keys, &pr, TOKEN_TTL,
                          &ps[i].token, &err) != CR_OK) {
            fprintf(stderr, "carerecord demo: cannot mint a token for %s: "
                    "%s\n", ps[i].label, err.msg);
            return false;
        }
    }
    return true;
}

static bool
write_json(const struct demo *d, const struct cr_cli_demo_pick *pk,
           const struct persona *ps, size_t n, const char *path)
{
    json_t *root = json_object(), *nodes = json_array(), *people =
                                                            json_array(),
           *regions = json_array();
    char tmp[1300];
    size_t i;
    int r, rc;

    for (r = 0; r < NODES; r++) {
        const struct node *nd = &d->nodes[r];
        char fhir[128], ui[128], origin[128];
        snprintf(fhir, sizeof fhir, "http://127.0.0.1:%d/fhir", nd->port);
        snprintf(ui, sizeof ui, "http://127.0.0.1:%d/ui/", nd->port);
        snprintf(origin, sizeof origin, "http://127.0.0.1:%d", nd->port);
        json_array_append_new(
            nodes, json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:b,s:s,s:s}", "id",
                             nd->id, "name", cr_synth_node_name(r), "pid",
                             (json_int_t)nd->pid, "url", origin, "fhir",
                             fhir, "ui", ui, "locator", r == LOCATOR, "data",
                             nd->dir, "log", nd->log));
        if (pk->regions & (1u << r))
            json_array_append_new(regions, json_string(nd->id));
    }
    for (i = 0; i < n; i++) {
        const struct persona *p = &ps[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
                              "key", p->key, "label", p->label, "sub",
                              p->who.sub, "name", p->who.name, "role",
                              p->role, "org", p->org, "org_name",
                              p->org_name, "purpose", p->purpose, "node",
                              d->nodes[p->node].id, "token", p->token);
        if (p->patient)
            json_object_set_new(o, "patient", json_string(p->patient));
        if (p->reason)
            json_object_set_new(o, "reason", json_string(p->reason));
        json_array_append_new(people, o);
    }
    json_object_set_new(root, "patients", json_integer(d->patients));
    json_object_set_new(root, "seed", json_integer((json_int_t)d->seed));
    json_object_set_new(root, "deadline_ms", json_integer(2000));
    json_object_set_new(root, "nodes", nodes);
    json_object_set_new(root, "patient",
                        json_pack("{s:s,s:s,s:s,s:o}", "nhs", pk->nhs, "name",
                                  pk->name, "home", d->nodes[pk->home].id,
                                  "nodes", regions));
    json_object_set_new(root, "personas", people);
    /* written whole, then moved into place: a reader never sees half */
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    rc = json_dump_file(root, tmp, JSON_INDENT(2));
    json_decref(root);
    return rc == 0 && rename(tmp, path) == 0;
}

static void
print_all(const struct demo *d, const struct cr_cli_demo_pick *pk,
          const struct persona *ps, size_t n, const char *json_path)
{
    const struct node *home = &d->nodes[pk->home];
    const struct node *ask = &d->nodes[pk->ae_region];
    size_t i;
    int r;

    printf("\ncarerecord: synthetic London on five federated nodes "
           "(%ld people; data in %s)\n\n", d->patients, d->dir);
    printf("  node  region                 FHIR base                       "
           "web UI\n");
    for (r = 0; r < NODES; r++)
        printf("  %-5s %-22s http://127.0.0.1:%d/fhir      "
               "http://127.0.0.1:%d/ui/%s\n",
               d->nodes[r].id, cr_synth_node_name(r), d->nodes[r].port,
               d->nodes[r].port, r == LOCATOR ? "   (record locator)" : "");
    printf("\nThe patient: %s, NHS number %s, registered at %s (%s), with "
           "records on %d nodes:", pk->name, pk->nhs, pk->gp_name,
           home->id, pk->nregions);
    for (r = 0; r < NODES; r++)
        if (pk->regions & (1u << r))
            printf(" %s", d->nodes[r].id);
    printf(".\n\nTokens, valid for 12 hours (all in %s):\n\n", json_path);
    for (i = 0; i < n; i++) {
        printf("  # %s (%s, %s)%s%s%s\n", ps[i].label, ps[i].role,
               ps[i].purpose, ps[i].reason ? "; send X-Access-Reason: '" : "",
               ps[i].reason ? ps[i].reason : "", ps[i].reason ? "'" : "");
        printf("  export %s=%s\n", ps[i].key, ps[i].token);
    }
    printf("\nTry (any node answers with the whole record, each entry "
           "tagged with its node and publisher):\n\n");
    printf("  curl -s -H \"Authorization: Bearer $GP\" "
           "'http://127.0.0.1:%d/fhir/Patient/$everything?identifier="
           "https://fhir.nhs.uk/Id/nhs-number|%s'\n",
           ask->port, pk->nhs);
    printf("  curl -s -H \"Authorization: Bearer $AE\"%s%s%s "
           "'http://127.0.0.1:%d/fhir/Patient/$everything?identifier="
           "https://fhir.nhs.uk/Id/nhs-number|%s'\n",
           ps[1].reason ? " -H 'X-Access-Reason: " : "",
           ps[1].reason ? ps[1].reason : "", ps[1].reason ? "'" : "",
           ask->port, pk->nhs);
    printf("  curl -s -H \"Authorization: Bearer $PARAMEDIC\" -H "
           "'X-Access-Reason: %s' 'http://127.0.0.1:%d/fhir/Patient?"
           "identifier=https://fhir.nhs.uk/Id/nhs-number|%s'\n",
           ps[2].reason, d->nodes[(pk->home + 1) % NODES].port, pk->nhs);
    printf("  curl -s -H \"Authorization: Bearer $PATIENT\" "
           "'http://127.0.0.1:%d/fhir/Patient/$everything?identifier="
           "https://fhir.nhs.uk/Id/nhs-number|%s'\n",
           home->port, pk->nhs);
    printf("  curl -s -H \"Authorization: Bearer $GP\" -H 'X-Federation: "
           "local' 'http://127.0.0.1:%d/fhir/Patient/$everything?identifier="
           "https://fhir.nhs.uk/Id/nhs-number|%s'   # one node only\n",
           home->port, pk->nhs);
    printf("\nLogs: %s/<node>/node.log. Press Ctrl-C to stop all five "
           "nodes.\n", d->dir);
    fflush(stdout);
}

/* ---- the command -------------------------------------------------------- */

static bool
parse(int argc, char **argv, struct demo *d)
{
    static const struct option opts[] = {
        { "data", required_argument, NULL, 'd' },
        { "patients", required_argument, NULL, 'n' },
        { "base-port", required_argument, NULL, 'p' },
        { "seed", required_argument, NULL, 's' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *end;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            snprintf(d->dir, sizeof d->dir, "%s", optarg);
            break;
        case 'n':
            d->patients = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || d->patients < 1 ||
                (uint64_t)d->patients > cr_synth_max_patients()) {
                fprintf(stderr, "carerecord demo: --patients must be 1 to "
                        "%llu\n", (unsigned long long)cr_synth_max_patients());
                return false;
            }
            break;
        case 'p':
            d->base_port = (int)strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || d->base_port < 1 ||
                d->base_port > 65535 - NODES) {
                fprintf(stderr, "carerecord demo: --base-port must be 1 to "
                        "%d\n", 65535 - NODES);
                return false;
            }
            break;
        case 's':
            d->seed = strtoull(optarg, &end, 10);
            if (*optarg == '\0' || *end) {
                fprintf(stderr, "carerecord demo: --seed must be a whole "
                        "number\n");
                return false;
            }
            break;
        case 'q':
            d->is_quiet = true;
            break;
        case 'h':
            fputs(usage, stdout);
            exit(0);
        default:
            fputs(usage, stderr);
            return false;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "carerecord demo: unexpected argument '%s'\n\n%s",
                argv[optind], usage);
        return false;
    }
    return true;
}

int
cr_cli_demo(int argc, char **argv)
{
    struct demo *d = calloc(1, sizeof *d);
    struct cr_cli_demo_pick *pk = calloc(1, sizeof *pk);
    struct persona ps[8];
    char json_path[1200];
    sigset_t sigs;
    size_t np = 0, i;
    ssize_t len;
    int status = 1, r;
    bool is_lost = false;
    time_t now = time(NULL);
    struct tm tm;

    memset(ps, 0, sizeof ps);
    if (d == NULL || pk == NULL) {
        fprintf(stderr, "carerecord demo: out of memory\n");
        goto out;
    }
    snprintf(d->dir, sizeof d->dir, "./carerecord-demo");
    d->patients = 1000;
    d->seed = 1;
    d->base_port = 8080;
    if (!parse(argc, argv, d)) {
        status = 2;
        goto out;
    }
    len = readlink("/proc/self/exe", d->self, sizeof d->self - 1);
    if (len <= 0) {
        fprintf(stderr, "carerecord demo: cannot find this program's path\n");
        goto out;
    }
    d->self[len] = '\0';
    gmtime_r(&now, &tm);
    strftime(d->today, sizeof d->today, "%Y-%m-%d", &tm);
    if (mkdir(d->dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "carerecord demo: cannot create %s: %s\n", d->dir,
                strerror(errno));
        goto out;
    }
    {
        char *abs = realpath(d->dir, NULL);
        if (abs && strlen(abs) < sizeof d->dir - 64)
            memcpy(d->dir, abs, strlen(abs) + 1);
        free(abs);
    }
    snprintf(json_path, sizeof json_path, "%s/demo.json", d->dir);
    for (r = 0; r < NODES; r++) {
        struct node *n = &d->nodes[r];
        char base[1024];
        memcpy(base, d->dir, sizeof base);
        n->id = cr_synth_node_id(r);
        n->port = d->base_port + r;
        snprintf(n->dir, sizeof n->dir, "%s/%s", base, n->id);
        snprintf(n->log, sizeof n->log, "%s/%s/node.log", base, n->id);
    }

    /* Signals are taken here with sigwait; children get the defaults. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    if (!has_data(d) && !load(d))
        goto out;
    for (r = 0; r < NODES; r++) {
        struct cr_err err;
        cr_err_clear(&err);
        if (cr_token_keys_open(d->nodes[r].dir, &d->nodes[r].keys, &err) !=
            CR_OK) {
            fprintf(stderr, "carerecord demo: %s\n", err.msg);
            goto out;
        }
    }
    for (r = 0; r < NODES; r++)
        if (!write_config(d, r)) {
            fprintf(stderr, "carerecord demo: cannot write %s/node.json\n",
                    d->nodes[r].dir);
            goto out;
        }
    {
        char sdir[1100];
        struct cr_err err;
        cr_err_clear(&err);
        snprintf(sdir, sizeof sdir, "%s/synthetic", d->dir);
        if (cr_cli_demo_pick(sdir, pk, &err) != CR_OK) {
            fprintf(stderr, "carerecord demo: %s\n", err.msg);
            goto out;
        }
    }
    np = make_personas(d, pk, ps);
    if (!mint_tokens(d, ps, np))
        goto out;
    if (!d->is_quiet)
        fprintf(stderr, "Starting five nodes on 127.0.0.1:%d-%d ...\n",
                d->base_port, d->base_port + NODES - 1);
    if (!start_nodes(d))
        goto stop;
    if (!write_json(d, pk, ps, np, json_path)) {
        fprintf(stderr, "carerecord demo: cannot write %s\n", json_path);
        goto stop;
    }
    if (d->is_quiet)
        printf("demo running: %s\n", json_path);
    else
        print_all(d, pk, ps, np, json_path);
    fflush(stdout);

    /* Run until asked to stop; say so when a node ends by itself. */
    for (;;) {
        int sig = 0;
        struct timespec t = { 1, 0 };
        sig = sigtimedwait(&sigs, NULL, &t);
        if (sig == SIGINT || sig == SIGTERM)
            break;
        for (r = 0; r < NODES; r++) {
            struct node *n = &d->nodes[r];
            int st;
            if (n->pid > 0 && waitpid(n->pid, &st, WNOHANG) == n->pid) {
                fprintf(stderr, "carerecord demo: node %s (pid %d) stopped "
                        "(%s %d); see %s\n", n->id, (int)n->pid,
                        WIFSIGNALED(st) ? "signal" : "exit status",
                        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
                        n->log);
                n->pid = 0;
                is_lost = true;
            }
        }
    }
    if (!d->is_quiet)
        fprintf(stderr, "\nStopping the nodes ...\n");
    status = is_lost ? 1 : 0;
stop:
    if (!stop_nodes(d))
        status = 1;
    remove(json_path);
out:
    for (i = 0; i < np; i++)
        free(ps[i].token);
    for (r = 0; d && r < NODES; r++)
        cr_token_keys_close(d->nodes[r].keys);
    free(pk);
    free(d);
    return status;
}
