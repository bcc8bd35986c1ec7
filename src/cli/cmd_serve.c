/* cmd_serve.c: `carerecord serve`: open the store and keys, start the
 * HTTP server, wait for a signal, stop cleanly. Depends on every module
 * below api/. */
#include "cli/cmd_serve.h"

#include "access/token.h"
#include "api/api.h"
#include "cli/config.h"
#include "core/log.h"
#include "federation/federation.h"
#include "http/http.h"
#include "store/store.h"
#include "webui/webui.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "Usage: carerecord serve [--listen ADDR:PORT] [--data DIR] "
    "[--config FILE]\n"
    "\n"
    "Run one carerecord node: the FHIR R4 API under /fhir and the web UI\n"
    "under /ui/.\n"
    "\n"
    "Options:\n"
    "  --listen ADDR:PORT  address to listen on (default 127.0.0.1:8080;\n"
    "                      [::1]:8080 for IPv6; port 0 picks a free port,\n"
    "                      printed in the 'listening' log line)\n"
    "  --data DIR          data directory, created if missing (default\n"
    "                      ./carerecord-data): the database and the node's\n"
    "                      signing key live there\n"
    "  --config FILE       JSON settings; flags given here win over it.\n"
    "                      Keys: listen, data, node_id, base_url,\n"
    "                      max_body_bytes (default 8388608),\n"
    "                      max_response_bytes (67108864), max_json_depth\n"
    "                      (64), default_count (50), max_count (1000),\n"
    "                      max_connections (1024),\n"
    "                      log_requests (true), policy (access\n"
    "                      rules: docs/access.md), mpi (patient\n"
    "                      matching weights: docs/mpi.md), peers,\n"
    "                      locator, deadline_ms (2000) (federation:\n"
    "                      docs/federation.md), personas (the demo\n"
    "                      personas file for the UI's sign-in page;\n"
    "                      default DATA/demo.json when present:\n"
    "                      docs/ui.md), audit ({\"journal\": true,\n"
    "                      \"journal_ms\": 10, \"journal_kb\": 8192}: records\n"
    "                      of reads reach the audit table through a\n"
    "                      journal file; false: each answer waits for\n"
    "                      its record's commit; docs/internals/audit.md)\n"
    "  --node-id ID        this node's id (default 'local')\n"
    "  --personas FILE     demo personas for the UI's sign-in page\n"
    "  --quiet             no per-request log lines\n"
    "  -h, --help          show this help\n"
    "\n"
    "Logs go to stderr, one JSON object per line. SIGINT or SIGTERM stops\n"
    "the node after the requests in flight finish.\n";

static void
warn_audit(void *ctx, const char *msg)
{
    (void)ctx;
    cr_log("error", "audit journal: %s", msg);
}

/* mkdir -p for the data directory. */
static int
make_dirs(const char *path)
{
    char tmp[1024];
    size_t i, n = strlen(path);

    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == '\0') {
            char c = tmp[i];
            tmp[i] = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -1;
            tmp[i] = c;
        }
    }
    return 0;
}

int
cr_cli_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        { "listen", required_argument, NULL, 'l' },
        { "data", required_argument, NULL, 'd' },
        { "config", required_argument, NULL, 'c' },
        { "node-id", required_argument, NULL, 'n' },
        { "personas", required_argument, NULL, 'p' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *listen = NULL, *data = NULL, *config = NULL, *node = NULL;
    const char *personas = NULL;
    bool is_quiet = false;
    struct cr_config cfg;
    struct cr_err err;
    struct cr_keys *keys = NULL;
    struct cr_store *store = NULL;
    struct cr_api *api = NULL;
    struct cr_webui *ui = NULL;
    struct cr_webui_opts uo;
    struct cr_fed *fed = NULL;
    struct cr_http *http = NULL;
    struct cr_store_opts so;
    struct cr_api_config ac;
    struct cr_http_opts ho;
    sigset_t sigs;
    int c, sig = 0, status = 1;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen = optarg; break;
        case 'd': data = optarg; break;
        case 'c': config = optarg; break;
        case 'n': node = optarg; break;
        case 'p': personas = optarg; break;
        case 'q': is_quiet = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "carerecord serve: unexpected argument '%s'\n\n%s",
                argv[optind], usage);
        return 2;
    }
    cr_err_clear(&err);
    cr_config_defaults(&cfg);
    if ((config && cr_config_load(&cfg, config, &err) != CR_OK) ||
        (listen && cr_config_listen(&cfg, listen, &err) != CR_OK)) {
        fprintf(stderr, "carerecord serve: %s\n", err.msg);
        cr_config_free(&cfg);
        return 2;
    }
    if (data)
        snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", data);
    if (node)
        snprintf(cfg.node_id, sizeof cfg.node_id, "%s", node);
    if (personas)
        snprintf(cfg.personas, sizeof cfg.personas, "%s", personas);
    if (cfg.personas[0] == '\0')
        snprintf(cfg.personas, sizeof cfg.personas, "%s/demo.json",
                 cfg.data_dir);
    if (is_quiet)
        cfg.log_requests = false;
    cr_log_set_requests(cfg.log_requests);

    /* Signals are taken by this thread alone, with sigwait: block them
     * before any other thread starts so every thread inherits the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (make_dirs(cfg.data_dir) != 0) {
        fprintf(stderr, "carerecord serve: cannot create data directory "
                        "%s: %s\n", cfg.data_dir, strerror(errno));
        return 1;
    }
    if (cr_token_keys_open(cfg.data_dir, &keys, &err) != CR_OK)
        goto fail;
    memset(&so, 0, sizeof so);
    so.node_id = cfg.node_id;
    if (cr_store_open(cfg.data_dir, &so, &store, &err) != CR_OK)
        goto fail;
    memset(&ho, 0, sizeof ho);
    ho.host = cfg.host;
    ho.port = cfg.port;
    ho.max_body = cfg.max_body;
    ho.max_connections = cfg.max_connections;
    if (cr_http_listen(&ho, &http, &err) != CR_OK)
        goto fail;
    if (cfg.base_url[0] == '\0')
        snprintf(cfg.base_url, sizeof cfg.base_url, "http://%s%s%s:%u/fhir",
                 strchr(cfg.host, ':') ? "[" : "", cfg.host,
                 strchr(cfg.host, ':') ? "]" : "",
                 (unsigned)cr_http_port(http));
    if (cfg.npeers > 0 || cfg.locator != CR_CONFIG_LOCATOR_NONE) {
        struct cr_fed_peer peers[CR_FED_MAX_PEERS];
        struct cr_fed_config fc;
        size_t i;
        memset(&fc, 0, sizeof fc);
        for (i = 0; i < cfg.npeers && i < CR_FED_MAX_PEERS; i++) {
            peers[i].id = cfg.peers[i].id;
            peers[i].base_url = cfg.peers[i].base_url;
            peers[i].public_key = cfg.peers[i].public_key;
        }
        fc.node_id = cfg.node_id;
        fc.base_url = cfg.base_url;
        fc.data_dir = cfg.data_dir;
        fc.peers = peers;
        fc.npeers = i;
        fc.locator = cfg.locator == CR_CONFIG_LOCATOR_SELF
                         ? CR_FED_LOCATOR_SELF
                     : cfg.locator == CR_CONFIG_LOCATOR_PEER
                         ? CR_FED_LOCATOR_PEER
                         : CR_FED_LOCATOR_NONE;
        fc.locator_peer = cfg.locator_node;
        fc.deadline_ms = cfg.deadline_ms;
        fc.max_answer = cfg.max_response;
        if (cr_fed_create(&fc, keys, store, &fed, &err) != CR_OK)
            goto fail;
    }
    memset(&ac, 0, sizeof ac);
    ac.base_url = cfg.base_url;
    ac.fed = fed;
    ac.max_body = cfg.max_body;
    ac.max_response = cfg.max_response;
    ac.max_json_depth = cfg.max_json_depth;
    ac.default_count = cfg.default_count;
    ac.max_count = cfg.max_count;
    ac.policy = cfg.policy;
    ac.mpi = cfg.mpi;
    if (cfg.audit_journal) {
        ac.audit.journal_dir = cfg.data_dir;
        ac.audit.move_ms = cfg.audit_journal_ms;
        ac.audit.journal_bytes = cfg.audit_journal_bytes;
        ac.audit.warn = warn_audit;
    }
    memset(&uo, 0, sizeof uo);
    uo.personas_path = cfg.personas;
    if (cr_api_create(store, keys, &ac, &api, &err) != CR_OK ||
        cr_webui_create(&uo, cr_api_handle, api, &ui, &err) != CR_OK ||
        cr_http_run(http, cr_webui_handle, ui, &err) != CR_OK)
        goto fail;
#ifdef CR_BENCH_NO_ACCESS
    cr_log("warn", "benchmark build: no access policy and no audit records; "
           "never serve real data with this binary");
#endif
    cr_log("info", "listening on http://%s%s%s:%u (FHIR base %s, node %s, "
           "data %s)", strchr(cfg.host, ':') ? "[" : "", cfg.host,
           strchr(cfg.host, ':') ? "]" : "", (unsigned)cr_http_port(http),
           cfg.base_url, cfg.node_id, cfg.data_dir);
    if (fed)
        cr_log("info", "federation: %zu peers, record locator %s, deadline "
               "%d ms", cr_fed_npeers(fed),
               cfg.locator == CR_CONFIG_LOCATOR_SELF ? "kept here"
               : cfg.locator == CR_CONFIG_LOCATOR_PEER ? cfg.locator_node
                                                       : "none",
               cr_fed_deadline_ms(fed));
    while (sigwait(&sigs, &sig) != 0)
        ;
    cr_log("info", "signal %d: finishing requests in flight, then stopping",
           sig);
    status = 0;
    goto out;
fail:
    fprintf(stderr, "carerecord serve: %s\n", err.msg);
out:
    /* Requests waiting for peers end within the deadline: let them. */
    cr_http_stop(http, 10000 + (fed ? cr_fed_deadline_ms(fed) : 0));
    cr_webui_destroy(ui);
    cr_api_destroy(api);
    cr_fed_destroy(fed);
    cr_store_close(store);
    cr_token_keys_close(keys);
    cr_config_free(&cfg);
    if (status == 0)
        cr_log("info", "stopped");
    return status;
}
