#!/usr/bin/env python3
# megatron_rank_groups.py — runs Megatron-Core's own RankGenerator (and
# generate_masked_orthogonal_rank_groups), taken from megatron/core/parallel_state.py of a
# Megatron-LM checkout, for the cases of mesh_test.c, and prints their rank groups (the
# test's expected lists). Not run by ctest: it needs the Megatron-LM repository.
#   python3 tests/unit/common/megatron_rank_groups.py [MEGATRON_LM_GIT_DIR]
import sys
import subprocess
MIRROR = sys.argv[1] if len(sys.argv) > 1 else '/work/.mirror/NVIDIA+Megatron-LM/repo'
src = subprocess.run(['git', '-C', MIRROR, 'show', 'HEAD:megatron/core/parallel_state.py'],
                     check=True, capture_output=True, text=True).stdout.split('\n')
def block(start_pat):
    i=[k for k,l in enumerate(src) if l.startswith(start_pat)][0]
    j=i+1
    while j<len(src) and (src[j].startswith((' ',')')) or src[j]=='' ):
        j+=1
    return '\n'.join(src[i:j])
code="from typing import List, Optional\n"+block('def generate_masked_orthogonal_rank_groups')+"\n"+block('class RankGenerator')
ns={}
exec(code,ns)
RG=ns['RankGenerator']
O = 'tp-cp-ep-dp-pp'
d = RG(tp=2, ep=1, dp=4, pp=2, cp=2, order=O)
for t in ('tp', 'cp', 'dp', 'pp', 'dp-cp'):
    print('dense tp2 cp2 dp4 pp2', t, d.get_ranks(t))
for etp, ep in ((1, 4), (2, 2)):
    edp = 2 * 2 * 4 // (ep * etp)
    e = RG(tp=etp, ep=ep, dp=edp, pp=2, cp=1, order=O)
    for t in ('tp', 'ep', 'dp', 'pp'):
        print(f'expert ep{ep} etp{etp} edp{edp}', t, e.get_ranks(t))
