/*
 * jx_config: the deployment file, workflow.toml, loaded and checked once at
 * start-up into plain C fields: where the store is, which workflow runs,
 * the plugins with their parameters and the limits of their sandbox, and
 * who may act in which role.
 *
 * Every mistake in the file is refused with "file:line:col: what is wrong"
 * (the position of the offending value, or of its table when a key is
 * missing): unknown sections and keys, missing required keys, wrong types,
 * non-positive numbers, invalid or duplicate names, a role-less actor, a
 * plugin file that cannot be read.  Relative paths are resolved against the
 * file's directory, so the engine may run from any working directory.
 *
 * Memory: a jx_config owns every string, array and value below it and is
 * freed with jx_config_free; getters return borrowed pointers valid until
 * then.  Threads: load on one thread; a loaded config is read-only and may
 * then be read from any thread.
 */
#ifndef JX_CONFIG_H
#define JX_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "jx_buf.h"
#include "jx_sandbox.h" /* jx_sandbox_limits: [sandbox], defaults
                           1000000 instructions, 16 MiB, 200 ms */
#include "jx_value.h"

/* One [[plugin]]. */
typedef struct jx_plugin_conf {
  char *name;      /* a valid id (jx_id_check), unique among plugins */
  char *path;      /* `file` resolved against plugin_dir; readable at load */
  jx_value params; /* JX_MAP: every key of the table except name, file and
                      guard_on, as written (handed to the plugin) */
  jx_value guard_on; /* JX_ARRAY of event names whose transitions this
                        plugin guards besides those the definition lists
                        (a local rule added in workflow.toml alone) */
} jx_plugin_conf;

/* One entry of [actors]. */
typedef struct jx_actor_conf {
  char *name;     /* a valid id (jx_id_check) */
  char *role;     /* non-empty; not checked against the workflow here */
  jx_value scope; /* map of strings: every key but role (department,
                     unit, ...); the actor acts only on projects whose
                     fields of those names are equal */
} jx_actor_conf;

/* One [[calendar.timer]]: on `date`, `jx tick` sends `event` to every
 * project in one of `states` whose fields match `where`. */
typedef struct jx_timer_conf {
  char *name;      /* a valid id; recorded in the project as fired */
  char *date;      /* "YYYY-MM-DD" in the fiscal year */
  char *event;     /* an event of the workflow */
  jx_value states; /* array of state names */
  jx_value where;  /* map of field name -> string the field must equal
                      (a project without the field does not match); empty:
                      every project */
} jx_timer_conf;

typedef struct jx_config {
  char *path;       /* the file loaded, as given */
  jx_buf source;    /* its bytes, as parsed: what each commit records */
  char *dir;        /* its directory, absolute; relative paths in the
                       file resolve against it */
  char *store_path; /* [store] path, resolved (required) */
  char *signing_key; /* [store] signing_key: an SSH private key signing
                        every seal (jx_sign.h), resolved; or NULL */
  size_t max_batch; /* [store] transitions per group commit (1000) */
  size_t max_frame;      /* [store] largest state or event, bytes (1 MiB) */
  uint32_t lock_wait_ms; /* [store] how long a writer waits for the lock */
  char *workflow_path; /* [workflow] definition, resolved (required) */
  char *plugin_dir;
  char *library_path;  /* the plugins' helper library, resolved against
                          plugin_dir; NULL if none */    /* [workflow] plugin_dir, resolved ("plugins") */
  jx_sandbox_limits limits;
  jx_plugin_conf *plugins; /* in file order, the order guards run */
  size_t nplugins;
  int64_t fiscal_year;   /* [calendar] year; 0 without a calendar */
  jx_timer_conf *timers; /* sorted by date */
  size_t ntimers;
  jx_actor_conf *actors; /* sorted by name (bytewise) */
  size_t nactors;
  struct {
    char *socket;            /* Unix socket, resolved; NULL: the default */
    char *listen;            /* "HOST:PORT" for TCP, or NULL: off */
    size_t max_frame;        /* largest request, bytes (8 MiB) */
    size_t max_write_buffer; /* unread responses before a disconnect */
    unsigned max_clients;    /* connections at once (1024) */
    unsigned tick_seconds;   /* how often the real clock fires timers */
    unsigned auth_seconds;   /* to authenticate before a disconnect (10) */
  } serve;                   /* [serve]: jx serve */
} jx_config;

/* Loads and checks the deployment file at `path` into *out (the caller's,
 * freed with jx_config_free).  Returns 0, or JX_EINVAL with the message
 * "path:line:col: what is wrong" ("path: ..." when there is no position to
 * give, e.g. a missing section).  *out is set only on success. */
int jx_config_load(jx_config **out, const char *path);

/* The actor called `name`, or NULL if there is none; borrowed. */
const jx_actor_conf *jx_config_actor(const jx_config *c, const char *name);

/* The first scope key of actor `a` (department, unit, ...) on which the
 * project's state differs from the actor's, or NULL when the actor may
 * act on it (a field the project lacks does not stand in the way). */
const char *jx_actor_scope_mismatch(const jx_actor_conf *a,
                                    const jx_value *state);

/* Replaces the actors with a registry: a map of actor name -> { role,
 * scope keys... } (the store's, see jx_engine_register).  JX_ESTORE, and
 * the actors unchanged, if it is malformed. */
int jx_config_set_actors(jx_config *c, const jx_value *actors);

/* Frees the actors (c keeps none). */
void jx_config_clear_actors(jx_config *c);

/* The actors as such a map (the caller's). */
jx_value jx_config_actors(const jx_config *c);

/* The plugin called `name`, or NULL if there is none; borrowed. */
const jx_plugin_conf *jx_config_plugin(const jx_config *c, const char *name);

/* The daemon's Unix socket: [serve] socket, else jx.sock inside the store
 * (which --store may have moved).  The caller's, to free. */
char *jx_config_socket(const jx_config *c);

/* Frees c and everything it owns; NULL is allowed. */
void jx_config_free(jx_config *c);

#endif
