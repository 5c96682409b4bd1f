/*
 * parse_host.c — the cluster file's optional `host` mapping (docs/formats.md, "The
 * host"): what the launch exports need to know of a node beyond its GPUs. gpu_sockets
 * gives the CPU socket each local GPU hangs off (the rankfile binds each rank to the
 * cores of its GPU's socket); nccl_socket_ifname and nccl_ib_hca are NCCL's interface
 * settings, written into the launch environment (export_env.c) as given. Every node of
 * a cluster file is the same kind of node, so there is one `host`.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "parse_objects.h"

enum { H_SOCKETS, H_IFNAME, H_HCA, H_COUNT };
static const p3cfg__key host_keys[H_COUNT] = {
    [H_SOCKETS] = {"gpu_sockets", false},
    [H_IFNAME] = {"nccl_socket_ifname", false},
    [H_HCA] = {"nccl_ib_hca", false},
};


static int read_sockets(p3cfg__pctx *c, const yaml_node_t *seq, p3cfg_cluster *cl,
                        bool counts_ok)
{
  if (seq->type != YAML_SEQUENCE_NODE) {
    char buf[P3CFG__DESCRIBE_CAP];
    p3cfg__problem(c, seq, "host.gpu_sockets must be a list of socket numbers, one per gpu "
                           "of a node, got %s",
                   p3cfg__describe(buf, seq));
    return P3CFG_OK;
  }
  const size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
  if (!counts_ok)
    return P3CFG_OK;
  if (n != cl->gpus_per_node) {
    p3cfg__problem(c, seq, "host.gpu_sockets has %zu entries, expected gpus_per_node = %u "
                           "(the socket of each local gpu)",
                   n, cl->gpus_per_node);
    return P3CFG_OK;
  }
  uint32_t *sockets = p3cfg__calloc(n, sizeof *sockets);
  if (!sockets)
    return P3CFG_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    char label[48];
    uint64_t v = 0;
    snprintf(label, sizeof label, "host.gpu_sockets[%zu]", i);
    if (p3cfg__read_uint(c, p3cfg__node(c, seq->data.sequence.items.start[i]), label, 0,
                         P3CFG__MAX_SOCKETS - 1, &v) == 0)
      sockets[i] = (uint32_t)v;
  }
  cl->gpu_sockets = sockets;
  return P3CFG_OK;
}

bool p3cfg__nccl_list_ok(p3cfg__pctx *c, const yaml_node_t *node, const char *label,
                         const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
          (s[i] >= '0' && s[i] <= '9') || (s[i] != '\0' && strchr("_.,:=^-", s[i])))) {
      p3cfg__problem(c, node, "%s must be NCCL interface names (letters, digits and _ . , : = ^ "
                              "-), got \"%.*s\" with '%c'",
                     label, (int)len, s, s[i]);
      return false;
    }
  return true;
}

static int read_nccl(p3cfg__pctx *c, const yaml_node_t *node, const char *label, char **out)
{
  const char *s;
  size_t len;
  if (p3cfg__read_string(c, node, label, P3CFG__MAX_NCCL_BYTES, &s, &len) != 0 ||
      !p3cfg__nccl_list_ok(c, node, label, s, len))
    return P3CFG_OK;
  *out = p3cfg__strndup(s, len);
  return *out ? P3CFG_OK : P3CFG_ENOMEM;
}

int p3cfg__host_from_node(p3cfg__pctx *c, const yaml_node_t *map, p3cfg_cluster *cl,
                          bool counts_ok)
{
  const yaml_node_t *v[H_COUNT];
  if (p3cfg__map_fields(c, map, "host", host_keys, H_COUNT, v) != 0)
    return P3CFG_OK;
  int rc = P3CFG_OK;
  if (v[H_SOCKETS])
    rc = read_sockets(c, v[H_SOCKETS], cl, counts_ok);
  if (rc == P3CFG_OK && v[H_IFNAME])
    rc = read_nccl(c, v[H_IFNAME], "host.nccl_socket_ifname", &cl->nccl_socket_ifname);
  if (rc == P3CFG_OK && v[H_HCA])
    rc = read_nccl(c, v[H_HCA], "host.nccl_ib_hca", &cl->nccl_ib_hca);
  return rc;
}
