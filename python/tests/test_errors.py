"""p3cfg.Error carries the library's positioned message, as the CLI prints it."""

import json

import pytest

import p3cfg

GOOD_MODEL = """name: tiny
layers: 4
hidden: 1024
heads: 16
ffn_hidden: 4096
vocab: 32000
seq_len: 2048
global_batch: 64
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bad_model_file_has_line_and_column(cli, root, tmp_path):
    bad = write(tmp_path, "bad.yaml", GOOD_MODEL.replace("heads: 16", "heads: -16"))
    with pytest.raises(p3cfg.Error) as e:
        p3cfg.search(bad, root / "clusters/dgx-h100-1n.yaml")
    err = e.value
    assert err.code == p3cfg.Error.EVALUE and err.name == "P3CFG_EVALUE"
    assert (err.file, err.line) == (str(bad), 4)
    assert err.column > 0
    assert "heads" in err.message
    # The same line as the CLI's, which prints "p3cfg: FILE:LINE:COL: message".
    p = cli("search", bad, "clusters/dgx-h100-1n.yaml")
    assert p.returncode == 1
    assert p.stderr == f"p3cfg: {err}\n"
    assert str(err) == f"{bad}:4:{err.column}: {err.message}"


def test_syntax_error_in_cluster(cli, root, tmp_path):
    bad = write(tmp_path, "bad-cluster.yaml", "name: c\nnodes: [1, 2\ngpus_per_node: 8\n")
    with pytest.raises(p3cfg.Error) as e:
        p3cfg.estimate(root / "models/llama3-8b.yaml", bad)
    assert e.value.code == p3cfg.Error.ESYNTAX
    assert e.value.file == str(bad) and e.value.line >= 2 and e.value.column > 0
    p = cli("estimate", "models/llama3-8b.yaml", bad)
    assert p.stderr == f"p3cfg: {e.value}\n"


def test_missing_file(tmp_path, root):
    with pytest.raises(p3cfg.Error) as e:
        p3cfg.search(tmp_path / "nope.yaml", root / "clusters/dgx-h100-1n.yaml")
    assert e.value.code == p3cfg.Error.EIO
    assert e.value.file == str(tmp_path / "nope.yaml")


def test_error_in_a_dict_is_positioned_in_its_json_text(root):
    model = {"name": "tiny", "layers": 4, "hidden": 1024, "heads": "many", "ffn_hidden": 4096,
             "vocab": 32000, "seq_len": 2048, "global_batch": 64}
    with pytest.raises(p3cfg.Error) as e:
        p3cfg.search(model, root / "clusters/dgx-h100-1n.yaml")
    err = e.value
    assert err.file == "<model dict>"
    # json.dumps(indent=2) puts "heads" on line 5.
    text = json.dumps(model, indent=2).splitlines()
    assert text[err.line - 1].lstrip().startswith('"heads"'), (err, text)


def test_invalid_plan_names_the_rule(cli, root):
    with pytest.raises(p3cfg.Error) as e:
        p3cfg.estimate(root / "models/llama3-8b.yaml", root / "clusters/dgx-h100-8n.yaml",
                       tp=3, dp=1)
    assert e.value.code == p3cfg.Error.EPLAN
    p = cli("estimate", "models/llama3-8b.yaml", "clusters/dgx-h100-8n.yaml", "--tp", 3,
            "--dp", 1)
    assert p.stderr == f"p3cfg: {e.value}\n"


def test_nothing_fits_carries_the_closest_miss(cli, root):
    args = ("models/llama3-405b.yaml", "clusters/dgx-h100-1n.yaml")
    with pytest.raises(p3cfg.Error) as e:
        p3cfg.search(*(root / a for a in args), top=3)
    err = e.value
    assert err.code == p3cfg.Error.EINFEASIBLE
    p = cli("search", *args, "--top", 3, "--format", "json")
    assert p.returncode == 3
    assert p.stderr == f"p3cfg: {err}\n"
    want = json.loads(p.stdout)
    for doc in (err.result, want):
        del doc["elapsed_s"]
    assert err.result == want
    assert err.result["plans"][0]["memory"]["fits"] is False


def test_export_errors(root, tmp_path):
    found = p3cfg.search(root / "models/llama3-8b.yaml", root / "clusters/dgx-h100-1n.yaml",
                         top=2, zero=1)
    with pytest.raises(ValueError, match="did you mean 'megatron'"):
        p3cfg.export(found, to="megatorn")
    with pytest.raises(IndexError, match="has 2 plans"):
        p3cfg.export(found, index=2)
    broken = dict(found)
    broken["plans"] = [dict(found["plans"][0], config="no")]
    with pytest.raises(p3cfg.Error) as e:
        p3cfg.export(broken)
    assert e.value.file == "<plan dict>" and e.value.line > 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"plans": [\n  {"config": 1]]\n')
    with pytest.raises(p3cfg.Error) as e:
        p3cfg.export(bad)
    assert e.value.code == p3cfg.Error.ESYNTAX and e.value.line == 2
