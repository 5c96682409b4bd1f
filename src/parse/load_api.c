/*
 * load_api.c — the public entry points of the parse stage (p3cfg.h, "Models and
 * clusters"): loading a model or cluster from a file or a string, validating a file of
 * either kind, and the read-only info of a loaded object.
 *
 * Every load runs the same steps: read (input_file.c), check and load the document
 * (yaml_doc.c), decide the kind when asked to, build the object (parse_model.c,
 * parse_cluster.c), then sort the problems by position. The object is returned only
 * when no problem was found; the first problem becomes the thread's last error.
 */
#include <string.h>

#include "alloc.h"
#include "model_params.h"
#include "parse_objects.h"
#include "yaml_doc.h"

typedef struct loaded {
  p3cfg_file_kind kind; /* as decided; AUTO when it could not be */
  p3cfg_model *model;
  p3cfg_cluster *cluster;
} loaded;

/* Keys that tell the kinds apart (spec §2, §3). */
static const char *const model_only[] = {"layers", "hidden", "heads", NULL};
static const char *const cluster_only[] = {"nodes",   "gpus_per_node", "gpu",
                                           "network", "links",         NULL};

static const char *first_key_of(const p3cfg__pctx *c, const yaml_node_t *map,
                                const char *const *keys)
{
  for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
       p++) {
    const yaml_node_t *k = p3cfg__node(c, p->key);
    if (k->type != YAML_SCALAR_NODE)
      continue;
    for (const char *const *w = keys; *w; w++)
      if (strlen(*w) == k->data.scalar.length && memcmp(*w, k->data.scalar.value, strlen(*w)) == 0)
        return *w;
  }
  return NULL;
}

static p3cfg_file_kind detect_kind(p3cfg__pctx *c, const yaml_node_t *root)
{
  if (root->type != YAML_MAPPING_NODE) {
    char buf[P3CFG__DESCRIBE_CAP];
    p3cfg__problem(c, root, "the top level must be a mapping, got %s", p3cfg__describe(buf, root));
    return P3CFG_FILE_AUTO;
  }
  const char *m = first_key_of(c, root, model_only);
  const char *k = first_key_of(c, root, cluster_only);
  if (m && !k)
    return P3CFG_FILE_MODEL;
  if (k && !m)
    return P3CFG_FILE_CLUSTER;
  if (m && k)
    p3cfg__problem(c, root,
                   "cannot tell a model from a cluster: the file has model key '%s' and cluster "
                   "key '%s'",
                   m, k);
  else
    p3cfg__problem(c, root,
                   "cannot tell a model from a cluster: no model key (layers, hidden, heads) "
                   "and no cluster key (nodes, gpus_per_node, gpu, network, links)");
  return P3CFG_FILE_AUTO;
}

/* Whether a file read as `kind` is plainly the other kind: keys of the other kind and
 * none of its own. Then one problem says so (at the top-level mapping), instead of every
 * key of the one being unknown and every key of the other missing. */
static int wrong_kind(p3cfg__pctx *c, const yaml_node_t *root, p3cfg_file_kind kind)
{
  if (root->type != YAML_MAPPING_NODE)
    return 0;
  const char *m = first_key_of(c, root, model_only);
  const char *k = first_key_of(c, root, cluster_only);
  if (kind == P3CFG_FILE_MODEL && k && !m) {
    p3cfg__problem(c, root,
                   "expected a model, but this is a cluster file (it has cluster key '%s' and "
                   "no layers, hidden or heads)",
                   k);
    return 1;
  }
  if (kind == P3CFG_FILE_CLUSTER && m && !k) {
    p3cfg__problem(c, root,
                   "expected a cluster, but this is a model file (it has model key '%s' and "
                   "no nodes, gpus_per_node, gpu, network or links)",
                   m);
    return 1;
  }
  return 0;
}

/* Load `path` (or text[0..len) when path is NULL) as `kind`, named `name` in positions. */
static int load_any(loaded *res, p3cfg_file_kind kind, const char *path, const char *text,
                    size_t len, const char *name, p3cfg_diagnostics **diags_out)
{
  memset(res, 0, sizeof *res);
  p3cfg_diagnostics *d = p3cfg__diags_new(name);
  if (!d)
    return p3cfg__error_nomem();
  char *buf = NULL;
  p3cfg__ydoc y;
  memset(&y, 0, sizeof y);
  int rc = P3CFG_OK;
  if (path) {
    rc = p3cfg__read_file(&buf, &len, d, path);
    text = buf;
  } else if (len > P3CFG__MAX_INPUT_BYTES) {
    rc = p3cfg__diag(d, P3CFG_EIO, 0, 0, "text is larger than the limit of %u MiB",
                     P3CFG__MAX_INPUT_BYTES / (1024u * 1024u));
  }
  if (rc == P3CFG_OK)
    rc = p3cfg__ydoc_load(&y, d, text, len);
  if (rc == P3CFG_OK) {
    yaml_node_t *root = yaml_document_get_root_node(&y.doc);
    p3cfg__pctx c = {&y.doc, d};
    int skip = 0; /* the file is plainly of the other kind: reported, parse nothing */
    if (kind == P3CFG_FILE_AUTO)
      kind = detect_kind(&c, root);
    else
      skip = wrong_kind(&c, root, kind);
    if (!skip && kind == P3CFG_FILE_MODEL)
      rc = p3cfg__model_from_doc(&res->model, &c, root, name);
    else if (!skip && kind == P3CFG_FILE_CLUSTER)
      rc = p3cfg__cluster_from_doc(&res->cluster, &c, root, name);
  }
  p3cfg__ydoc_dispose(&y);
  p3cfg__free(buf);
  res->kind = kind;
  if (rc != P3CFG_ENOMEM)
    p3cfg__diags_finish(d);
  if (rc == P3CFG_ENOMEM || d->nomem) {
    rc = p3cfg__error_nomem();
  } else {
    rc = p3cfg__diags_to_error(d);
  }
  if (rc != P3CFG_OK) {
    p3cfg_model_free(res->model);
    p3cfg_cluster_free(res->cluster);
    res->model = NULL;
    res->cluster = NULL;
  }
  if (diags_out && rc != P3CFG_ENOMEM)
    *diags_out = d;
  else
    p3cfg_diagnostics_free(d);
  return rc;
}

static int null_arg(const char *fn)
{
  return p3cfg__error_set(P3CFG_EINVALID, "%s: a required argument is NULL", fn);
}

P3CFG_API int p3cfg_model_load(p3cfg_model **out, const char *path, p3cfg_diagnostics **diags)
{
  p3cfg__error_clear();
  if (diags)
    *diags = NULL;
  if (!out || !path)
    return null_arg("p3cfg_model_load");
  loaded r;
  int rc = load_any(&r, P3CFG_FILE_MODEL, path, NULL, 0, path, diags);
  *out = r.model;
  return rc;
}

P3CFG_API int p3cfg_model_load_string(p3cfg_model **out, const char *text, size_t len,
                                      const char *name, p3cfg_diagnostics **diags)
{
  p3cfg__error_clear();
  if (diags)
    *diags = NULL;
  if (!out || !text)
    return null_arg("p3cfg_model_load_string");
  loaded r;
  int rc = load_any(&r, P3CFG_FILE_MODEL, NULL, text, len, name ? name : "<string>", diags);
  *out = r.model;
  return rc;
}

P3CFG_API int p3cfg_cluster_load(p3cfg_cluster **out, const char *path, p3cfg_diagnostics **diags)
{
  p3cfg__error_clear();
  if (diags)
    *diags = NULL;
  if (!out || !path)
    return null_arg("p3cfg_cluster_load");
  loaded r;
  int rc = load_any(&r, P3CFG_FILE_CLUSTER, path, NULL, 0, path, diags);
  *out = r.cluster;
  return rc;
}

P3CFG_API int p3cfg_cluster_load_string(p3cfg_cluster **out, const char *text, size_t len,
                                        const char *name, p3cfg_diagnostics **diags)
{
  p3cfg__error_clear();
  if (diags)
    *diags = NULL;
  if (!out || !text)
    return null_arg("p3cfg_cluster_load_string");
  loaded r;
  int rc = load_any(&r, P3CFG_FILE_CLUSTER, NULL, text, len, name ? name : "<string>", diags);
  *out = r.cluster;
  return rc;
}

P3CFG_API int p3cfg_validate_file(p3cfg_diagnostics **diags, p3cfg_file_kind *kind_out,
                                  const char *path, p3cfg_file_kind kind)
{
  p3cfg__error_clear();
  if (kind_out)
    *kind_out = P3CFG_FILE_AUTO;
  if (diags)
    *diags = NULL;
  if (!diags || !path)
    return null_arg("p3cfg_validate_file");
  if (kind != P3CFG_FILE_AUTO && kind != P3CFG_FILE_MODEL && kind != P3CFG_FILE_CLUSTER)
    return p3cfg__error_set(P3CFG_EINVALID, "p3cfg_validate_file: unknown file kind %d", (int)kind);
  loaded r;
  int rc = load_any(&r, kind, path, NULL, 0, path, diags);
  p3cfg_model_free(r.model);
  p3cfg_cluster_free(r.cluster);
  if (kind_out)
    *kind_out = r.kind;
  return rc;
}

P3CFG_API int p3cfg_model_get_info(p3cfg_model_info *out, const p3cfg_model *model)
{
  p3cfg__error_clear();
  if (!out || !model)
    return null_arg("p3cfg_model_get_info");
  p3cfg__params p;
  p3cfg__model_params(&p, model, 1);
  *out = (p3cfg_model_info){model->name,         model->layers,     model->hidden,   model->heads,
                            model->kv_heads,     model->ffn_hidden, model->vocab,    model->seq_len,
                            model->global_batch, p.total,           p.non_embedding, p.layer};
  return P3CFG_OK;
}

P3CFG_API int p3cfg_cluster_get_info(p3cfg_cluster_info *out, const p3cfg_cluster *cluster)
{
  p3cfg__error_clear();
  if (!out || !cluster)
    return null_arg("p3cfg_cluster_get_info");
  *out = (p3cfg_cluster_info){cluster->name,
                              cluster->gpu.name,
                              cluster->nodes,
                              cluster->gpus_per_node,
                              cluster->gpu.memory_bytes,
                              cluster->gpu.peak_flops,
                              cluster->gpu.hbm_Bps,
                              cluster->links.granularity != P3CFG_LINKS_NONE};
  return P3CFG_OK;
}

P3CFG_API const char *p3cfg_cluster_node_name(const p3cfg_cluster *cluster, uint32_t index)
{
  if (!cluster || !cluster->node_names || index >= cluster->nodes)
    return NULL;
  return cluster->node_names[index];
}
