"""Keyword checking, dict inputs, the GIL and threads."""

import threading
import time

import pytest

import p3cfg
from conftest import strip_timing

LLAMA3_8B = {  # models/llama3-8b.yaml as a dict
    "name": "llama3-8b", "layers": 32, "hidden": 4096, "heads": 32, "kv_heads": 8,
    "ffn_hidden": 14336, "activation": "swiglu", "vocab": 128256, "seq_len": 8192,
    "tied_embeddings": False, "position_embedding": "rope", "norm": "rmsnorm",
    "flash_attention": True, "global_batch": 512, "precision": "bf16",
    "optimizer": "adam", "bias": False, "dropout": False,
    "rope_theta": 500000, "norm_eps": 1e-05,
}
DGX_H100_1N = {  # clusters/dgx-h100-1n.yaml as a dict
    "name": "dgx-h100-1n", "nodes": 1, "gpus_per_node": 8, "gpu": "h100-sxm",
    "network": {"intra_node_GBps": 450, "inter_node_GBps": 50},
}


def paths(root):
    return root / "models/llama3-8b.yaml", root / "clusters/dgx-h100-1n.yaml"


def test_dict_inputs_equal_file_inputs(root):
    model, cluster = paths(root)
    for m, c in ((LLAMA3_8B, DGX_H100_1N), (LLAMA3_8B, cluster), (model, DGX_H100_1N)):
        assert (strip_timing(p3cfg.search(m, c, top=4))
                == strip_timing(p3cfg.search(model, cluster, top=4)))
        assert (p3cfg.estimate(m, c, tp=2, pp=2, zero=1)
                == p3cfg.estimate(model, cluster, tp=2, pp=2, zero=1))


def test_unknown_keyword_is_a_type_error_with_a_suggestion(root):
    model, cluster = paths(root)
    with pytest.raises(TypeError, match=r"search\(\) got an unexpected keyword argument "
                                        r"'tpp'; did you mean 'tp'\?"):
        p3cfg.search(model, cluster, tpp=2)
    with pytest.raises(TypeError, match="did you mean 'recompute'"):
        p3cfg.estimate(model, cluster, recompte="full")
    with pytest.raises(TypeError, match="'threads'.*option of search"):
        p3cfg.estimate(model, cluster, threads=2)
    with pytest.raises(TypeError, match="'mbs' and another name"):
        p3cfg.estimate(model, cluster, micro_batch=1, mbs=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'frobnicate'$"):
        p3cfg.search(model, cluster, frobnicate=1)


def test_values_are_checked(root):
    model, cluster = paths(root)
    with pytest.raises(TypeError, match="tp must be an int"):
        p3cfg.search(model, cluster, tp="2")
    with pytest.raises(TypeError, match="tp must be an int"):
        p3cfg.search(model, cluster, tp=True)
    with pytest.raises(ValueError, match=r"tp must be in \[1, "):
        p3cfg.search(model, cluster, tp=0)
    with pytest.raises(ValueError, match="did you mean 'selective'"):
        p3cfg.estimate(model, cluster, recompute="selectve")
    with pytest.raises(ValueError, match="overlap must be one of grad, param, tp"):
        p3cfg.estimate(model, cluster, overlap="grad,params")
    with pytest.raises(ValueError, match="zero must be in"):
        p3cfg.estimate(model, cluster, zero=4)
    with pytest.raises(ValueError, match=r"top must be in \[1, 1000\]"):
        p3cfg.search(model, cluster, top=0)
    with pytest.raises(ValueError, match="not a multiple of tp\\*pp"):
        p3cfg.estimate(model, cluster, tp=3, gpus=8)
    with pytest.raises(ValueError, match="place needs the time model"):
        p3cfg.estimate(model, cluster, place=True, time=False)
    with pytest.raises(TypeError, match="model must be a path or a dict"):
        p3cfg.search(42, cluster)
    with pytest.raises(TypeError, match="stage_layers must be a sequence"):
        p3cfg.estimate(model, cluster, stage_layers="16,16")


def test_constraints_are_applied(root):
    model, cluster = paths(root)
    found = p3cfg.search(model, cluster, top=20, tp=2, zero=1, recompute="full")
    assert found["plans"]
    for plan in found["plans"]:
        c = plan["config"]
        assert (c["tp"], c["zero_stage"], c["recompute"]) == (2, 1, "full")


def test_search_releases_the_gil(root):
    """While one thread searches, another keeps running Python code.

    Most of this search is the placement of its 20 best plans on 128 GPUs' measured
    links, inside one p3cfg_search call: loaded with PyDLL (GIL held) the other thread
    stalls for nearly the whole search, with CDLL its longest pause is milliseconds.
    """
    model = root / "models/llama3-70b.yaml"
    cluster = root / "clusters/pipette-a100-16n.yaml"
    done = {}

    def work():
        t0 = time.perf_counter()
        done["result"] = p3cfg.search(model, cluster, top=1, place_top=20)
        done["seconds"] = time.perf_counter() - t0

    worker = threading.Thread(target=work)
    ticks = [time.perf_counter()]
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
        sum(range(200))  # pure Python: needs the GIL
    worker.join()
    ticks.append(time.perf_counter())
    assert done["result"]["plans"]
    longest = max(b - a for a, b in zip(ticks, ticks[1:]))
    assert done["seconds"] > 0.1, done
    assert longest < done["seconds"] / 2, (longest, done["seconds"])


def test_threads_search_at_once_and_agree(root):
    model, cluster = root / "models/llama3-70b.yaml", root / "clusters/pipette-a100-16n.yaml"
    want = strip_timing(p3cfg.search(model, cluster, top=3))
    got = [None] * 4

    def work(i):
        got[i] = strip_timing(p3cfg.search(model, cluster, top=3, threads=1 + i % 2))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == [want] * 4


def test_errors_stay_on_their_thread(root, tmp_path):
    """The last error is thread-local: each thread's Error is its own."""
    model, cluster = paths(root)
    errors = {}

    def bad(i):
        try:
            p3cfg.search(tmp_path / f"missing-{i}.yaml", cluster)
        except p3cfg.Error as e:
            errors[i] = e.file

    threads = [threading.Thread(target=bad, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == {i: str(tmp_path / f"missing-{i}.yaml") for i in range(8)}


def test_versions():
    assert p3cfg.library_version() == p3cfg.__version__
    assert p3cfg.library_path
