/*
 * import_hf_check.c — the model file `p3cfg import-hf` wrote, loaded before it is handed
 * out with the model loader's own rules (p3cfg__model_from_doc), so that import-hf never
 * writes a file that `p3cfg validate` would refuse: each problem of the written text is
 * reported at the config.json value (or the option) its line comes from.
 */
#include <string.h>

#include "import_hf.h"
#include "yaml_doc.h"

/* The origin of line `line` of the model file, or NULL. */
static const p3cfg__hf_origin *origin_of(const p3cfg__hf_text *t, int line)
{
  for (size_t i = 0; i < t->n_from; i++)
    if (t->from[i].line == (size_t)line)
      return &t->from[i];
  return NULL;
}

/* Load the model file written in t as the model loader does (p3cfg__model_from_doc, the
 * one set of model rules) and report each problem it finds into h's diagnostics: at the
 * config.json value its line comes from, naming the key; without a position, naming the
 * option, for a line an option gave; at the top level otherwise. Returns P3CFG_OK (the
 * problems, if any, are in h->c.d) or P3CFG_ENOMEM. */
int p3cfg__hf_check_written(p3cfg__hf_config *h, const p3cfg__hf_text *t, const char *path)
{
  p3cfg_diagnostics *d = p3cfg__diags_new(path);
  if (!d)
    return P3CFG_ENOMEM;
  p3cfg__ydoc y;
  memset(&y, 0, sizeof y);
  int rc = p3cfg__ydoc_load(&y, d, t->buf.data, t->buf.len);
  if (rc == P3CFG_OK) {
    p3cfg__pctx c = {&y.doc, d};
    p3cfg_model *m = NULL;
    rc = p3cfg__model_from_doc(&m, &c, yaml_document_get_root_node(&y.doc), path);
    p3cfg_model_free(m);
  }
  p3cfg__ydoc_dispose(&y);
  if (rc == P3CFG_ENOMEM || d->nomem) {
    p3cfg_diagnostics_free(d);
    return P3CFG_ENOMEM;
  }
  p3cfg__diags_finish(d);
  char w[P3CFG__DESCRIBE_CAP];
  for (size_t i = 0; i < d->count; i++) {
    const p3cfg_diag *e = &d->items[i];
    const p3cfg__hf_origin *o = origin_of(t, e->line);
    if (o && o->node)
      p3cfg__problem(&h->c, o->node, "%s %s makes an invalid model file: %s", o->key,
                     p3cfg__hf_shown(w, sizeof w, o->node), e->message);
    else if (o)
      p3cfg__diag(h->c.d, P3CFG_EVALUE, 0, 0, "%s makes an invalid model file: %s", o->key,
                  e->message);
    else
      p3cfg__problem(&h->c, h->root, "the model file would be invalid: %s", e->message);
  }
  p3cfg_diagnostics_free(d);
  return P3CFG_OK;
}
