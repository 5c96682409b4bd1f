"""p3cfg.search / estimate / export give what the CLI prints for the same inputs."""

import json

import pytest

import p3cfg
from conftest import cli_json, strip_timing

M8B = "models/llama3-8b.yaml"
H100_1N = "clusters/dgx-h100-1n.yaml"
H100_8N = "clusters/dgx-h100-8n.yaml"
PIPETTE = "clusters/pipette-a100-16n.yaml"  # measured links: placement is optimised


@pytest.mark.parametrize("model, cluster, top, kwargs, flags", [
    (M8B, H100_1N, 3, {}, []),
    (M8B, H100_8N, 5, {"zero": 1, "threads": 2}, ["--zero", "1", "--threads", "2"]),
    ("models/llama3-70b.yaml", PIPETTE, 2, {"tp": 8, "recompute": "selective"},
     ["--tp", "8", "--recompute", "selective"]),
    ("models/gpt3-175b.yaml", "clusters/dgx-a100-64n.yaml", 4,
     {"pp": 8, "micro_batch": 1, "sequence_parallel": True, "overlap": ["grad", "param"],
      "global_batch": 1024, "max_mbs": 4},
     ["--pp", "8", "--mbs", "1", "--sp", "--overlap", "grad,param", "--global-batch",
      "1024", "--max-mbs", "4"]),
    (M8B, H100_8N, 3, {"gpus": 32, "dp": 4, "vpp": 2, "sp": False, "place": False},
     ["--gpus", "32", "--dp", "4", "--vpp", "2", "--no-sp", "--no-place"]),
    ("models/megatron-1.7b.yaml", PIPETTE, 2,
     {"pp": 2, "stage_layers": [12, 12], "seed": 7, "place_moves": 500, "place_top": 3},
     ["--pp", "2", "--stage-layers", "12,12", "--seed", "7", "--place-budget", "500",
      "--place-top", "3"]),
])
def test_search_equals_cli_json(cli, root, model, cluster, top, kwargs, flags):
    got = p3cfg.search(root / model, str(root / cluster), top=top, **kwargs)
    want = cli_json(cli, "search", model, cluster, "--top", top, *flags)
    assert len(got["plans"]) == top
    assert strip_timing(got) == strip_timing(want)
    assert isinstance(got["elapsed_s"], float)


@pytest.mark.parametrize("model, cluster, kwargs, flags, exit_code", [
    ("models/gpt3-175b.yaml", "clusters/dgx-a100-64n.yaml",
     {"tp": 8, "pp": 8, "mbs": 1, "recompute": "selective", "sp": True},
     ["--tp", "8", "--pp", "8", "--mbs", "1", "--recompute", "selective", "--sp"], 0),
    (M8B, H100_8N, {"tp": 2, "pp": 4, "vpp": 2, "zero_stage": 1, "stage_layers": [8] * 4,
                    "overlap": "grad,tp", "gpus": 64},
     ["--tp", "2", "--pp", "4", "--vpp", "2", "--zero", "1", "--stage-layers", "8,8,8,8",
      "--overlap", "grad,tp", "--gpus", "64"], 0),
    (M8B, PIPETTE, {"tp": 4, "place": True, "place_moves": 300},
     ["--tp", "4", "--place", "--place-budget", "300"], 0),
    (M8B, H100_1N, {"time": False}, ["--no-time"], 3),  # does not fit: printed all the same
])
def test_estimate_equals_cli_json(cli, root, model, cluster, kwargs, flags, exit_code):
    got = p3cfg.estimate(str(root / model), root / cluster, **kwargs)
    want = cli_json(cli, "estimate", model, cluster, *flags, exit_code=exit_code)
    assert strip_timing(got) == strip_timing(want)
    assert got["memory"]["fits"] == (exit_code == 0)


def test_estimate_of_a_given_plan(root):
    e = p3cfg.estimate(root / M8B, root / H100_8N, tp=2, pp=2, mbs=2, zero=1)
    c = e["config"]
    assert (c["tp"], c["pp"], c["dp"], c["micro_batch"], c["zero_stage"]) == (2, 2, 16, 2, 1)
    assert c["stage_layers"] == [16, 16]
    assert e["memory"]["fits"] is True
    assert len(e["memory"]["stages"]) == 2
    assert e["time"]["iteration_s"] > 0
    assert len(e["placement"]["ranks"]) == 64


def test_export_equals_cli(cli, root, tmp_path):
    plans = tmp_path / "plans.json"
    cli("search", M8B, H100_8N, "--top", 3, "--zero", 1, "--format", "json", "-o", plans,
        check_exit=0)
    doc = json.loads(plans.read_text())
    for fmt in p3cfg.EXPORT_FORMATS:
        for index in (0, 2):
            want = cli("export", plans, "--to", fmt, "--plan", index + 1)
            if want.returncode == 0:
                assert p3cfg.export(doc, to=fmt, index=index) == want.stdout
                assert p3cfg.export(plans, to=fmt, index=index) == want.stdout
            else:
                with pytest.raises(p3cfg.Error) as e:
                    p3cfg.export(doc, to=fmt, index=index)
                assert want.stderr == f"p3cfg: {e.value}\n".replace("<plan dict>", str(plans))


def test_export_of_search_and_estimate_results(cli, root, tmp_path):
    found = p3cfg.search(root / M8B, root / H100_8N, top=2, zero=1)
    text = p3cfg.export(found, to="megatron")
    assert "MEGATRON_ARGS=(" in text and "--use-distributed-optimizer" in text
    one = p3cfg.estimate(root / M8B, root / H100_8N, tp=8, pp=2)
    path = tmp_path / "one.json"
    cli("estimate", M8B, H100_8N, "--tp", 8, "--pp", 2, "--format", "json", "-o", path,
        check_exit=0)
    assert p3cfg.export(one, to="deepspeed") == cli("export", path, "--to", "deepspeed",
                                                     check_exit=0).stdout
