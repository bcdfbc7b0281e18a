/*
 * jx-bench: transitions per second through the engine (embedded, durable,
 * group commit) beside the raw libgit2 floor: the same number of commits
 * written directly with libgit2, in batches of the same size, each batch
 * one pack and one fsynced ref.  Both run in the same process, one after
 * the other, so their ratio is meaningful on a shared machine.
 *
 * With --history H it only builds a store of N projects with H commits
 * each (submit .. release, then flag and resume in turn), left in
 * DIR/engine.git for the scale figures.
 *
 * usage: jx-bench [-c workflow.toml] [--projects N] [--batch B] [--feed F]
 *        [--history H] DIR
 */
#include <git2.h>
#include <git2/sys/commit.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "jx_buf.h"
#include "jx_codec.h"
#include "jx_config.h"
#include "jx_engine.h"
#include "jx_err.h"
#include "jx_store.h"
#include "workload.h"

static const struct {
  const char *event, *actor;
} steps[] = {
    {"submit", "edu-school-1"},
    {"dept_approve", "edu-dept"},
    {"finance_approve", "fin-business"},
    {"release", "fin-budget"},
    {"flag", "edu-dept"},
    {"resume", "edu-dept"},
    {"close", "edu-dept"},
    {"self_evaluate", "edu-school-1"},
};
#define NSTEPS (sizeof steps / sizeof *steps)

static void die(const char *what) {
  fprintf(stderr, "jx-bench: %s: %s\n", what, jx_err_last()->msg);
  exit(1);
}

static void die_git(const char *what) {
  const git_error *e = git_error_last();
  fprintf(stderr, "jx-bench: %s: %s\n", what, e ? e->message : "?");
  exit(1);
}

typedef struct counts {
  size_t ok, failed;
} counts;

static void done_cb(const jx_outcome *o, void *payload) {
  counts *c = payload;
  if (o->code == 0)
    c->ok++;
  else
    c->failed++;
}

/* Requests arrive as a stream, `feed` per loop turn, as a daemon's clients
 * send them: the engine decides the next ones while the writer thread
 * makes the previous batch durable. */
typedef struct feeder {
  uv_idle_t idle;
  jx_engine *engine;
  char (*ids)[24];
  jx_value *evaluation;
  size_t n, next, feed;
  size_t history; /* 0: the 8 steps; else submit..release, then flag and
                     resume in turn, `history` commits per project */
  counts *c;
  uint64_t deciding; /* ns spent in jx_engine_apply */
} feeder;

static size_t commits_per_project(const feeder *f) {
  return f->history ? f->history : NSTEPS;
}

/* Step s of project i; `fields` is what a submit sets (the caller frees
 * it: built per submit, so a million projects are not held at once). */
static jx_request request(const feeder *f, size_t s, size_t i,
                          jx_value *fields) {
  size_t k = s;
  if (f->history && s >= 4) /* released: flag (4), resume (5) in turn */
    k = 4 + (s - 4) % 2;
  return (jx_request){.project = f->ids[i],
                      .event = steps[k].event,
                      .actor = steps[k].actor,
                      .time = 1614556800 + (int64_t)(s < 300 ? s : 300) * 86400,
                      .set = k == 0            ? fields
                             : k == NSTEPS - 1 ? f->evaluation
                                               : NULL,
                      .create = k == 0};
}

static void feed_cb(uv_idle_t *h) {
  feeder *f = h->data;
  size_t total = f->n * commits_per_project(f);
  uint64_t t0 = uv_hrtime();
  for (size_t k = 0; k < f->feed && f->next < total; k++, f->next++) {
    size_t s = f->next / f->n, i = f->next % f->n;
    jx_value fields = s == 0 ? jx_bench_project_fields("bench", i) : jx_nil();
    jx_request req = request(f, s, i, &fields);
    if (jx_engine_apply(f->engine, &req, NULL, done_cb, f->c) < 0)
      die(req.event);
    jx_value_free(&fields);
  }
  f->deciding += uv_hrtime() - t0;
  if (f->next == total)
    uv_close((uv_handle_t *)h, NULL);
}

static double run_engine(const char *config, const char *path, size_t n,
                         size_t history, size_t batch, size_t feed,
                         double *deciding) {
  jx_config *cfg;
  jx_store *store;
  jx_engine *engine;
  uv_loop_t loop;
  bool created;
  counts c = {0};
  if (jx_config_load(&cfg, config) < 0)
    die(config);
  free(cfg->store_path);
  cfg->store_path = strdup(path);
  cfg->max_batch = batch;
  if (jx_store_init(path, &created) < 0 ||
      jx_store_open(&store, path, JX_STORE_WRITE, cfg->max_frame,
                    cfg->lock_wait_ms) < 0)
    die(path);
  uv_loop_init(&loop);
  if (jx_engine_new(&engine, &loop, cfg, store) < 0)
    die("engine");
  char(*ids)[24] = calloc(n, sizeof *ids);
  for (size_t i = 0; i < n; i++)
    snprintf(ids[i], sizeof ids[i], "B-%07zu", i);
  jx_value evaluation;
  if (jx_bench_self_evaluation(&evaluation) < 0)
    die("self_evaluation");
  feeder f = {.engine = engine, .ids = ids,
              .evaluation = &evaluation, .n = n, .feed = feed,
              .history = history, .c = &c};
  uv_idle_init(&loop, &f.idle);
  f.idle.data = &f;
  uv_idle_start(&f.idle, feed_cb);
  uint64_t t0 = uv_hrtime();
  uv_run(&loop, UV_RUN_DEFAULT);
  double secs = (double)(uv_hrtime() - t0) / 1e9;
  *deciding = (double)f.deciding / 1e9;
  if (c.ok != n * commits_per_project(&f))
    fprintf(stderr, "jx-bench: %zu transitions failed\n", c.failed);
  jx_engine_close(engine);
  uv_run(&loop, UV_RUN_DEFAULT);
  jx_engine_free(engine);
  uv_loop_close(&loop);
  jx_store_free(store);
  jx_config_free(cfg);
  jx_value_free(&evaluation);
  free(ids);
  return secs;
}

/* What the engine committed, per transition, for the floor to write again:
 * the same state and event bytes and the same message. */
typedef struct written {
  jx_buf state, event;
  char *message;
} written;

typedef struct collect {
  written *w; /* this project's NSTEPS, filled newest first */
  size_t left;
} collect;

static int collect_cb(const jx_store_entry *e, void *payload) {
  collect *c = payload;
  if (!c->left)
    return 0;
  written *w = &c->w[--c->left];
  if (jx_codec_encode(&w->state, e->state, SIZE_MAX) < 0 ||
      jx_codec_encode(&w->event, e->event, SIZE_MAX) < 0)
    die("re-encoding the engine's commits");
  w->message = strdup(e->message);
  return 0;
}

/* Indexed [step * n + project], the order both runs write in. */
static written *read_back(const char *path, size_t n) {
  jx_store *store;
  written *all = calloc(n * NSTEPS, sizeof *all), *mine = calloc(NSTEPS,
                                                                  sizeof *mine);
  if (jx_store_open(&store, path, JX_STORE_READ, SIZE_MAX, 0) < 0)
    die(path);
  for (size_t i = 0; i < n; i++) {
    char id[24];
    snprintf(id, sizeof id, "B-%07zu", i);
    memset(mine, 0, NSTEPS * sizeof *mine);
    collect c = {mine, NSTEPS};
    if (jx_store_log(store, id, collect_cb, &c) < 0 || c.left)
      die("reading the engine's store back");
    for (size_t s = 0; s < NSTEPS; s++)
      all[s * n + i] = mine[s];
  }
  jx_store_free(store);
  free(mine);
  return all;
}

static void free_written(written *w, size_t n) {
  for (size_t i = 0; i < n * NSTEPS; i++) {
    jx_buf_free(&w[i].state);
    jx_buf_free(&w[i].event);
    free(w[i].message);
  }
  free(w);
}

/* The floor: the engine's commits written again by a minimal libgit2
 * program through the public API (blobs with git_odb_write, a treebuilder,
 * git_commit_create_from_ids; parents by id), in batches of the same size,
 * each batch one pack (mempack + git_odb_write_pack) and one fsynced ref.
 * Same number of commits, same state and event bytes, same messages; no
 * rules, no seal, no per-project refs, no decisions. */
static double run_floor(const char *dir, const written *w, size_t n,
                        size_t batch) {
  git_repository *repo;
  git_odb *odb;
  git_odb_backend *mempack;
  git_signature *sig;
  char path[4096];
  snprintf(path, sizeof path, "%s/floor.git", dir);
  git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
  git_libgit2_opts(GIT_OPT_ENABLE_STRICT_OBJECT_CREATION, 0);
  if (git_repository_init(&repo, path, 1) < 0 ||
      git_repository_odb(&odb, repo) < 0 || git_mempack_new(&mempack) < 0 ||
      git_odb_add_backend(odb, mempack, 1000) < 0 ||
      git_signature_now(&sig, "bench", "bench@jixiao") < 0)
    die_git(path);
  git_oid *heads = calloc(n, sizeof *heads);
  size_t total = n * NSTEPS, done = 0;
  uint64_t t0 = uv_hrtime();
  while (done < total) {
    size_t end = done + batch < total ? done + batch : total;
    git_oid last;
    for (; done < end; done++) {
      size_t i = done % n, s = done / n;
      const written *x = &w[done];
      git_oid state, event, tree;
      git_treebuilder *tb;
      if (git_odb_write(&state, odb, x->state.data, x->state.len,
                        GIT_OBJECT_BLOB) < 0 ||
          git_odb_write(&event, odb, x->event.data, x->event.len,
                        GIT_OBJECT_BLOB) < 0 ||
          git_treebuilder_new(&tb, repo, NULL) < 0 ||
          git_treebuilder_insert(NULL, tb, "event", &event,
                                 GIT_FILEMODE_BLOB) < 0 ||
          git_treebuilder_insert(NULL, tb, "state", &state,
                                 GIT_FILEMODE_BLOB) < 0 ||
          git_treebuilder_write(&tree, tb) < 0)
        die_git("floor tree");
      git_treebuilder_free(tb);
      const git_oid *parent = &heads[i];
      if (git_commit_create_from_ids(&heads[i], repo, NULL, sig, sig, NULL,
                                     x->message, &tree, s ? 1 : 0,
                                     s ? &parent : NULL) < 0)
        die_git("floor commit");
      last = heads[i];
    }
    git_buf pack = {0};
    git_odb_writepack *wp;
    git_indexer_progress st = {0};
    git_reference *ref;
    if (git_mempack_dump(&pack, repo, mempack) < 0 ||
        git_odb_write_pack(&wp, odb, NULL, NULL) < 0 ||
        wp->append(wp, pack.ptr, pack.size, &st) < 0 || wp->commit(wp, &st) < 0)
      die_git("floor pack");
    wp->free(wp);
    git_buf_dispose(&pack);
    git_mempack_reset(mempack);
    if (git_reference_create(&ref, repo, "refs/heads/seal", &last, 1, NULL) < 0)
      die_git("floor ref");
    git_reference_free(ref);
  }
  double secs = (double)(uv_hrtime() - t0) / 1e9;
  free(heads);
  git_signature_free(sig);
  git_odb_free(odb);
  git_repository_free(repo);
  return secs;
}

int main(int argc, char **argv) {
  const char *config = "workflow.toml", *dir = NULL;
  size_t n = 1000, batch = 1000, feed = 100, history = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-c") && i + 1 < argc)
      config = argv[++i];
    else if (!strcmp(argv[i], "--projects") && i + 1 < argc)
      n = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
      batch = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--feed") && i + 1 < argc)
      feed = strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--history") && i + 1 < argc)
      history = strtoul(argv[++i], NULL, 10);
    else
      dir = argv[i];
  }
  if (!dir || !n || !batch || !feed || (history && history < 6)) {
    fputs("usage: jx-bench [-c workflow.toml] [--projects N] [--batch B] "
          "[--feed F] [--history H (>= 6)] DIR\n",
          stderr);
    return 1;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/engine.git", dir);
  if (history) {
    /* A store for the scale figures, left in DIR/engine.git. */
    double deciding;
    double te = run_engine(config, path, n, history, batch, feed, &deciding);
    printf("store: projects=%zu history=%zu commits=%zu seconds=%.2f "
           "rate=%.0f\n",
           n, history, n * history, te, (double)(n * history) / te);
    git_libgit2_shutdown();
    return 0;
  }
  size_t total = n * NSTEPS;
  printf("jx-bench: %zu projects x %zu transitions = %zu, batch %zu, "
         "%zu requests per loop turn\n",
         n, NSTEPS, total, batch, feed);
  double deciding;
  double te = run_engine(config, path, n, 0, batch, feed, &deciding);
  written *w = read_back(path, n);
  size_t bytes = 0;
  for (size_t i = 0; i < total; i++)
    bytes += w[i].state.len + w[i].event.len;
  double tf = run_floor(dir, w, n, batch);
  free_written(w, n);
  printf("engine (embedded, durable):   %9.0f transitions/s  (%.2f s)\n",
         (double)total / te, te);
  printf("  of which deciding (Lua guards, encoding): %.2f s\n", deciding);
  printf("libgit2 floor (same commits): %9.0f commits/s      (%.2f s)\n",
         (double)total / tf, tf);
  printf("  state + event bytes per commit: %zu\n", bytes / total);
  printf("ratio engine/floor:           %9.2f\n", tf / te);
  /* For scripts/bench. */
  printf("bench: batch=%zu projects=%zu transitions=%zu engine_rate=%.0f "
         "floor_rate=%.0f deciding_rate=%.0f ratio=%.2f\n",
         batch, n, total, (double)total / te, (double)total / tf,
         (double)total / deciding, tf / te);
  git_libgit2_shutdown();
  return 0;
}
