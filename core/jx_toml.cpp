// The TOML bridge: toml++ parses, this file converts the tree into jx_values
// and answers position queries.  Built with TOML_EXCEPTIONS=0, so parse
// failures come back as toml::parse_result values, never as throws.

#include "jx_toml.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>

#include <toml++/toml.h>

extern "C" {
#include "jx_buf.h"
#include "jx_err.h"
}

struct jx_toml_doc {
  std::string name; // the path, or the name given for an in-memory text
  toml::table tree; // kept for the source positions of its nodes
  jx_value root;    // the converted tree, a JX_MAP
};

// Dates and times as toml++ prints them, which is their TOML/ISO 8601 form.
template <typename T> static jx_value iso_text(const T &v) {
  std::ostringstream os;
  os << v;
  const std::string s = os.str();
  return jx_strn(s.data(), s.size());
}

// Fills *out (nil on entry) from n.  On failure *out may be partly built;
// it belongs to the doc's root, which the caller frees.
static int convert(const jx_toml_doc *doc, const toml::node &n, jx_value *out) {
  switch (n.type()) {
  case toml::node_type::table:
    *out = jx_map();
    for (auto &&[key, child] : *n.as_table()) {
      const std::string name(key.str()); // NUL-terminated for jx_map_set
      // A C string would cut the key short and could merge two keys.
      if (name.find('\0') != std::string::npos) {
        const toml::source_position &p = key.source().begin;
        return jx_err_set(JX_EINVAL, "%s:%u:%u: a key contains a NUL byte",
                          doc->name.c_str(), unsigned(p.line),
                          unsigned(p.column));
      }
      int rc = convert(doc, child, jx_map_set(out, name.c_str(), jx_nil()));
      if (rc != 0)
        return rc;
    }
    return 0;
  case toml::node_type::array:
    *out = jx_array();
    for (const toml::node &child : *n.as_array()) {
      int rc = convert(doc, child, jx_array_push(out, jx_nil()));
      if (rc != 0)
        return rc;
    }
    return 0;
  case toml::node_type::string: {
    const std::string &s = n.as_string()->get();
    *out = jx_strn(s.data(), s.size());
    return 0;
  }
  case toml::node_type::integer:
    *out = jx_int(n.as_integer()->get());
    return 0;
  case toml::node_type::floating_point:
    *out = jx_float(n.as_floating_point()->get());
    return 0;
  case toml::node_type::boolean:
    *out = jx_bool(n.as_boolean()->get());
    return 0;
  case toml::node_type::date:
    *out = iso_text(n.as_date()->get());
    return 0;
  case toml::node_type::time:
    *out = iso_text(n.as_time()->get());
    return 0;
  case toml::node_type::date_time:
    *out = iso_text(n.as_date_time()->get());
    return 0;
  case toml::node_type::none:
    break;
  }
  return 0; // toml++ never yields a node without a type in a parsed tree
}

static int parse(jx_toml_doc **out, std::string_view text, const char *name) {
  toml::parse_result res = toml::parse(text);
  if (!res) {
    const toml::parse_error &e = res.error();
    const toml::source_position &p = e.source().begin;
    const std::string_view what = e.description();
    return jx_err_set(JX_EINVAL, "%s:%u:%u: %.*s", name, unsigned(p.line),
                      unsigned(p.column), int(what.size()), what.data());
  }
  jx_toml_doc *doc = new jx_toml_doc{name, std::move(res).table(), jx_nil()};
  int rc = convert(doc, doc->tree, &doc->root);
  if (rc != 0) {
    jx_toml_free(doc);
    return rc;
  }
  *out = doc;
  return 0;
}

// Reads with jx_buf_read_file rather than toml::parse_file, whose failure
// to open a file says neither why nor errno.
int jx_toml_load(jx_toml_doc **out, const char *path) {
  jx_buf b = JX_BUF_INIT;
  int err = jx_buf_read_file(&b, path, JX_FILE_MAX);
  int rc = err ? jx_err_set(JX_EINVAL, "%s: cannot read: %s", path,
                            strerror(err))
               : parse(out, std::string(b.data ? b.data : "", b.len), path);
  jx_buf_free(&b);
  return rc;
}

int jx_toml_load_string(jx_toml_doc **out, const char *text, size_t len,
                        const char *name) {
  return parse(out, std::string_view(text, len), name);
}

const jx_value *jx_toml_root(const jx_toml_doc *doc) { return &doc->root; }

// Digits only: "+1", " 1" and "-1" are not indexes.
static bool parse_index(const char *s, size_t *out) {
  size_t i = 0;
  if (*s == '\0')
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || i > (SIZE_MAX - 9) / 10)
      return false;
    i = i * 10 + size_t(*s - '0');
  }
  *out = i;
  return true;
}

static const toml::node *child_of(const toml::node *n, const char *seg) {
  if (const toml::table *t = n->as_table())
    return t->get(std::string_view(seg));
  size_t i;
  if (const toml::array *a = n->as_array())
    return parse_index(seg, &i) ? a->get(i) : nullptr;
  return nullptr;
}

bool jx_toml_pos(const jx_toml_doc *doc, const char *const *keys, size_t n,
                 unsigned *line, unsigned *col) {
  // The root is not a candidate: its "position" 1:1 points at nothing.
  const toml::node *found = nullptr;
  const toml::node *node = &doc->tree;
  for (size_t i = 0; i < n && node; i++) {
    node = child_of(node, keys[i]);
    if (node && node->source().begin.line != 0)
      found = node;
  }
  if (!found)
    return false;
  *line = unsigned(found->source().begin.line);
  *col = unsigned(found->source().begin.column);
  return true;
}

int jx_toml_error_at(const jx_toml_doc *doc, const char *const *keys, size_t n,
                     const char *fmt, ...) {
  char msg[JX_ERR_MSG_MAX]; // formatted first: args may point into jx_err
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  unsigned line, col;
  if (jx_toml_pos(doc, keys, n, &line, &col))
    return jx_err_set(JX_EINVAL, "%s:%u:%u: %s", doc->name.c_str(), line, col,
                      msg);
  return jx_err_set(JX_EINVAL, "%s: %s", doc->name.c_str(), msg);
}

void jx_toml_free(jx_toml_doc *doc) {
  if (!doc)
    return;
  jx_value_free(&doc->root);
  delete doc;
}
