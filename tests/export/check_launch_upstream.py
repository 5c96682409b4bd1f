#!/usr/bin/env python3
"""check_launch_upstream.py - the launch exports run by the launchers' own code.

For every plan of plan_suite.py (and two of a 4-socket cluster with NCCL settings,
tests/fixtures/export/quad-socket-2n.yaml):

  rankfile  Open MPI itself (mpirun 4.1, Debian 12's) reads the rankfile, maps every rank
            and binds it, on a synthetic hwloc topology of the plan's node (sockets of
            host.gpu_sockets; loaded through OMPI_MCA_hwloc_base_topo_file), with one
            daemon per host started here (plm_rsh_agent runs it locally) and the one
            system call this machine cannot honour, sched_setaffinity for CPUs it lacks,
            recorded by tests/upstream/stubs/openmpi/affinity_probe.c. Every rank must
            be on its host (mpirun's --display-map), bound to exactly the CPUs of its
            GPU's socket, and see its GPU through the header's use-gpu.sh wrapper.
            Plans on more than MPI_MAX_HOSTS hosts are checked line by line against the
            same grammar instead (a daemon per host on two cores is slow).
  sbatch    bash -n; the #SBATCH directives (nodes x processes per node = the plan's
            GPUs, the node list in placement order, every GPU of a node); then the script
            runs under bash with `srun` and `torchrun` stand-ins that record what they
            are given: one step per node, pinned to it, whose torchrun arguments parse
            with torchrun's parser (torchrun_args.py) and whose CUDA_VISIBLE_DEVICES and
            --node-rank rebuild the placement; the environment (CUDA_DEVICE_MAX_CONNECTIONS
            as Megatron-LM's validate_args needs it, NCCL settings from the cluster file).
  launch    the same lines, run once per host.

Registered as the CTest `export_launch_upstream` (label cli):
  check_launch_upstream.py --p3cfg build/p3cfg --root . --probe libaffinity_probe.so
"""

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plan_suite import PLANS  # noqa: E402
import torchrun_args  # noqa: E402

# Plans that mpirun runs: one daemon per host is started here, about a second each on
# two cores; larger plans are checked against the grammar alone.
MPI_MAX_HOSTS = 2
EXTRA = [("quad-socket-tp4", "estimate models/llama3-8b.yaml tests/fixtures/export/"
          "quad-socket-2n.yaml --tp 4 --mbs 1"),
         ("quad-socket-zero3", "estimate models/llama3-8b.yaml tests/fixtures/export/"
          "quad-socket-2n.yaml --tp 2 --zero 3 --mbs 1")]
FAILURES = []
COUNTS = {"rankfile_mpirun": 0, "rankfile_grammar": 0, "sbatch": 0, "launch": 0, "refused": 0}


def check(cond, what):
    if not cond:
        FAILURES.append(what)
    return cond


def p3cfg_run(p3cfg, root, args, ok=(0,)):
    proc = subprocess.run([p3cfg] + args, cwd=root, capture_output=True, text=True)
    if proc.returncode not in ok:
        raise RuntimeError(f"p3cfg {' '.join(args)}: exit {proc.returncode}\n{proc.stderr}")
    return proc


def placement(plan):
    return {r["rank"]: (r["node"], r["gpu"]) for r in plan["placement"]["ranks"]}


def sockets_of(plan):
    c = plan["cluster"]
    gpn = c["gpus_per_node"]
    if "gpu_sockets" in c:
        return c["gpu_sockets"]
    return [(2 * g) // gpn if gpn >= 2 else 0 for g in range(gpn)]  # docs/formats.md default


# ---- Open MPI ---------------------------------------------------------------------------

CORES, PUS = 4, 2  # per socket, per core: `slot=S:*` does not depend on them


def bitmap(cpus):
    """hwloc's bitmap string: 32-bit words, most significant first."""
    mask = 0
    for c in cpus:
        mask |= 1 << c
    words = []
    while True:
        words.append(f"0x{mask & 0xffffffff:08x}")
        mask >>= 32
        if not mask:
            break
    return ",".join(reversed(words))


def topology_xml(n_sockets):
    """A synthetic machine of n_sockets packages, each one NUMA node of CORES x PUS."""
    pus = n_sockets * CORES * PUS
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE topology SYSTEM "hwloc2.dtd">',
           '<topology version="2.0">']
    allcpus, allnodes = bitmap(range(pus)), bitmap(range(n_sockets))
    gp = iter(range(1, 1 << 20))
    out.append(f'<object type="Machine" os_index="0" cpuset="{allcpus}" complete_cpuset="{allcpus}"'
               f' allowed_cpuset="{allcpus}" nodeset="{allnodes}" complete_nodeset="{allnodes}"'
               f' allowed_nodeset="{allnodes}" gp_index="{next(gp)}">')
    for s in range(n_sockets):
        cs = bitmap(range(s * CORES * PUS, (s + 1) * CORES * PUS))
        ns = bitmap([s])
        out.append(f'<object type="Package" os_index="{s}" cpuset="{cs}" complete_cpuset="{cs}"'
                   f' nodeset="{ns}" complete_nodeset="{ns}" gp_index="{next(gp)}">')
        out.append(f'<object type="NUMANode" os_index="{s}" cpuset="{cs}" complete_cpuset="{cs}"'
                   f' nodeset="{ns}" complete_nodeset="{ns}" gp_index="{next(gp)}">'
                   '<page_type size="4096" count="0"/></object>')
        for c in range(CORES):
            first = (s * CORES + c) * PUS
            cc = bitmap(range(first, first + PUS))
            out.append(f'<object type="Core" os_index="{s * CORES + c}" cpuset="{cc}"'
                       f' complete_cpuset="{cc}" nodeset="{ns}" complete_nodeset="{ns}"'
                       f' gp_index="{next(gp)}">')
            for p in range(first, first + PUS):
                pc = bitmap([p])
                out.append(f'<object type="PU" os_index="{p}" cpuset="{pc}" complete_cpuset="{pc}"'
                           f' nodeset="{ns}" complete_nodeset="{ns}" gp_index="{next(gp)}"/>')
            out.append('</object>')
        out.append('</object>')
    out += ['</object>', '</topology>', '']
    return "\n".join(out)


RANK_LINE = re.compile(r"rank (\d+)=(\S+) slot=(\d+):\* # gpu=(\d+)")


def check_rankfile_grammar(text, plan, name):
    want, socks = placement(plan), sockets_of(plan)
    got = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = RANK_LINE.fullmatch(line)
        if not check(m is not None, f"{name}: rankfile line {line!r}"):
            continue
        r, host, sock, gpu = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        check(r not in got, f"{name}: rank {r} twice")
        got[r] = (host, gpu)
        check(sock == socks[gpu], f"{name}: rank {r} gpu {gpu} on socket {sock}, want {socks[gpu]}")
    check(got == want, f"{name}: rankfile placement differs")


def use_gpu_wrapper(text, path):
    """use-gpu.sh as the rankfile's header comment spells it (the two lines after
    'use-gpu.sh:'), with THIS_FILE the rankfile."""
    lines = [l[1:].strip() for l in text.splitlines() if l.startswith("#")]
    i = next(k for k, l in enumerate(lines) if l.startswith("use-gpu.sh:"))
    body = lines[i][len("use-gpu.sh:"):].strip() + "\n" + lines[i + 1] + "\n"
    return "#!/bin/sh\n" + body.replace("THIS_FILE", shlex.quote(path))


def check_rankfile_mpirun(text, plan, name, tmp, probe, mpirun):
    c = plan["cluster"]
    socks = sockets_of(plan)
    n_sockets = max(socks) + 1
    d = tempfile.mkdtemp(dir=tmp)
    rf, xml, wrap, log = (os.path.join(d, x) for x in ("rankfile", "topo.xml", "use-gpu.sh", "log"))
    with open(rf, "w") as f:
        f.write(text)
    with open(xml, "w") as f:
        f.write(topology_xml(n_sockets))
    with open(wrap, "w") as f:
        f.write(use_gpu_wrapper(text, rf))
    os.chmod(wrap, 0o755)
    agent = os.path.join(d, "agent.sh")  # "ssh HOST CMD": run CMD here
    with open(agent, "w") as f:
        # each daemon its own session directory: daemons of one machine race for one
        f.write('#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in -*) shift ;; *) shift; break ;; '
                'esac; done\nOMPI_MCA_orte_tmpdir_base=$(mktemp -d -p "%s")\n'
                'export OMPI_MCA_orte_tmpdir_base\nexec sh -c "$*"\n' % d)
    os.chmod(agent, 0o755)
    want = placement(plan)
    hosts = sorted({h for h, _ in want.values()})
    env = dict(os.environ, OMPI_MCA_hwloc_base_topo_file=xml, LD_PRELOAD=probe,
               P3CFG_AFFINITY_LOG=log, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    cmd = [mpirun, "-np", str(len(want)), "--host",
           ",".join(f"{h}:{c['gpus_per_node']}" for h in hosts), "--rankfile", rf,
           "--mca", "plm_rsh_agent", agent, "--mca", "rtc_hwloc_vmhole", "none",
           "--mca", "btl", "self", "-x", "LD_PRELOAD", "-x", "P3CFG_AFFINITY_LOG",
           "--display-map", wrap, "sh", "-c",
           'echo "rank=$OMPI_COMM_WORLD_RANK pid=$$ gpu=$CUDA_VISIBLE_DEVICES"']
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if not check(proc.returncode == 0, f"{name}: mpirun exit {proc.returncode}: "
                 f"{(proc.stdout + proc.stderr)[-1500:]}"):
        return
    # mpirun's own map: which host each rank was mapped to.
    mapped, host = {}, None
    for line in proc.stdout.splitlines():
        m = re.match(r"\s*Data for node: (\S+)", line)
        if m:
            host = m.group(1)
        m = re.search(r"Process rank: (\d+)", line)
        if m:
            mapped[int(m.group(1))] = host
    ranks = {}
    for m in re.finditer(r"rank=(\d+) pid=(\d+) gpu=(\d*)", proc.stdout):
        ranks[int(m.group(2))] = (int(m.group(1)), m.group(3))
    bound = {}
    if not check(os.path.exists(log), f"{name}: the affinity probe recorded nothing"):
        return
    with open(log) as f:
        for line in f:
            m = re.fullmatch(r"pid=(\d+) cpus=([0-9,]*)\n", line)
            if m and int(m.group(1)) in ranks:
                bound[ranks[int(m.group(1))][0]] = [int(x) for x in m.group(2).split(",") if x]
    check(len(ranks) == len(want), f"{name}: {len(ranks)} ranks ran, want {len(want)}")
    per_socket = CORES * PUS
    for r, (h, gpu) in want.items():
        check(mapped.get(r) == h, f"{name}: Open MPI mapped rank {r} to {mapped.get(r)}, plan {h}")
        s = socks[gpu]
        check(bound.get(r) == list(range(s * per_socket, (s + 1) * per_socket)),
              f"{name}: rank {r} (gpu {gpu}) bound to {bound.get(r)}, want socket {s}")
    for pid, (r, gpu) in ranks.items():
        check(gpu == str(want[r][1]), f"{name}: rank {r} sees CUDA_VISIBLE_DEVICES={gpu!r}")
    COUNTS["rankfile_mpirun"] += 1


# ---- Slurm and torchrun -----------------------------------------------------------------

FAKE_SRUN = """#!/bin/bash
# srun stand-in: record the step's options, run its command here.
opts=()
while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do opts+=("$1"); shift; done
printf '%s\\n' "${opts[@]}" > "$FAKE_LOG/srun.$BASHPID"
export FAKE_STEP=$BASHPID
exec "$@"
"""
FAKE_TORCHRUN = """#!/bin/bash
# torchrun stand-in: record the arguments and the environment the launch gives it.
out="$FAKE_LOG/torchrun.${FAKE_STEP:-$BASHPID}"
printf '%s\\0' "$@" > "$out.argv"
{ echo "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-<unset>}"
  echo "CUDA_DEVICE_MAX_CONNECTIONS=${CUDA_DEVICE_MAX_CONNECTIONS-<unset>}"
  echo "NCCL_SOCKET_IFNAME=${NCCL_SOCKET_IFNAME-<unset>}"
  echo "NCCL_IB_HCA=${NCCL_IB_HCA-<unset>}"; } > "$out.env"
"""


def fake_bin(tmp):
    d = os.path.join(tmp, "bin")
    if not os.path.isdir(d):
        os.makedirs(d)
        for name, body in (("srun", FAKE_SRUN), ("torchrun", FAKE_TORCHRUN)):
            with open(os.path.join(d, name), "w") as f:
                f.write(body)
            os.chmod(os.path.join(d, name), 0o755)
    return d


def expected_env(plan):
    c, cl = plan["config"], plan["cluster"]
    model_parallel = c["tp"] > 1 or c.get("cp", 1) > 1
    if c.get("framework", "megatron") != "megatron":
        conn = "<unset>"  # torchtitan and DeepSpeed do not ask for it
    elif c["zero_stage"] >= 2:
        conn = "<unset>"  # arguments.py: FSDP2 (3) and Megatron-FSDP (2) assert != "1"
    elif model_parallel:
        conn = "1"  # arguments.py: tp > 1 or cp > 1 asserts == "1" (before Blackwell)
    else:
        conn = "<unset>"
    return {"CUDA_DEVICE_MAX_CONNECTIONS": conn,
            "NCCL_SOCKET_IFNAME": cl.get("nccl_socket_ifname", "<unset>"),
            "NCCL_IB_HCA": cl.get("nccl_ib_hca", "<unset>")}


def megatron_args(p3cfg, root, path, i, d):
    """megatron_args.sh for the script to source: the real export, or an empty array
    where Megatron-LM cannot express the plan (the launch lines do not depend on it)."""
    out = os.path.join(d, "megatron_args.sh")
    proc = p3cfg_run(p3cfg, root, ["export", path, "--to", "megatron", "--plan", str(i)], ok=(0, 1))
    with open(out, "w") as f:
        f.write(proc.stdout if proc.returncode == 0 else "MEGATRON_ARGS=()\n")
    argv = subprocess.run(["bash", "-c", 'source "$1"; printf "%s\\0" "${MEGATRON_ARGS[@]}"',
                           "bash", out], capture_output=True, text=True, check=True).stdout
    return [a for a in argv.split("\0") if a]


def check_steps(log, plan, name, margs, expect_srun):
    want = placement(plan)
    hosts = []
    for r in sorted(want):
        if want[r][0] not in hosts:
            hosts.append(want[r][0])
    per = len(want) // len(hosts)
    env_want = expected_env(plan)
    seen = {}
    for fn in os.listdir(log):
        if not fn.endswith(".argv"):
            continue
        stem = fn[:-len(".argv")]
        with open(os.path.join(log, fn)) as f:
            argv = [a for a in f.read().split("\0")][:-1]
        with open(os.path.join(log, stem + ".env")) as f:
            env = dict(l.rstrip("\n").split("=", 1) for l in f)
        try:
            a = torchrun_args.parse(argv)
        except torchrun_args.ParseError as e:
            check(False, f"{name}: torchrun rejects {argv}: {e}")
            continue
        k = a.node_rank
        check(a.min_nodes == a.max_nodes == len(hosts), f"{name}: --nnodes {a.nnodes}")
        check(a.local_world_size * a.min_nodes == len(want),
              f"{name}: nodes x nproc-per-node = {a.local_world_size * a.min_nodes}, "
              f"plan {len(want)} GPUs")
        check(a.master_addr == hosts[0] and a.master_port == 29500, f"{name}: master")
        check(a.rdzv_backend == "static", f"{name}: static rendezvous")
        # The framework's program (issue 15): Megatron-LM's pretrain_gpt.py with the
        # exported arguments, torchtitan's train module with the exported config module,
        # a DeepSpeed training script with the exported ds_config.json.
        user = ["--p3cfg-test-arg", "x y"]
        fw = plan["config"].get("framework", "megatron")
        if fw == "torchtitan":
            ok = (a.module and a.training_script == "torchtitan.train" and
                  a.training_script_args == ["--module", "p3cfg_plan", "--config",
                                             "p3cfg_plan"] + user)
        elif fw == "deepspeed":
            ok = (a.training_script.endswith("train.py") and
                  a.training_script_args == ["--deepspeed", "--deepspeed_config",
                                             "ds_config.json"] + user)
        else:
            ok = (a.training_script.endswith("pretrain_gpt.py") and
                  a.training_script_args == margs + user)
        check(ok, f"{name}: {fw} program {a.training_script} {a.training_script_args[:4]}...")
        gpus = [int(x) for x in env["CUDA_VISIBLE_DEVICES"].split(",")]
        check(len(gpus) == a.local_world_size, f"{name}: CUDA_VISIBLE_DEVICES {gpus}")
        for i, g in enumerate(gpus):
            r = k * a.local_world_size + i
            check(want.get(r) == (hosts[k], g), f"{name}: node rank {k} local {i} = rank {r} "
                  f"on ({hosts[k]}, {g}), plan {want.get(r)}")
        for key, v in env_want.items():
            check(env[key] == v, f"{name}: {key}={env[key]}, want {v}")
        if expect_srun:
            step = stem.split(".")[1]
            with open(os.path.join(log, "srun." + step)) as f:
                opts = f.read().split()
            check(f"--nodelist={hosts[k]}" in opts and "--nodes=1" in opts and "--ntasks=1" in opts,
                  f"{name}: srun step of node rank {k}: {opts}")
        check(k not in seen, f"{name}: node rank {k} twice")
        seen[k] = True
    check(sorted(seen) == list(range(len(hosts))), f"{name}: node ranks {sorted(seen)}")
    return hosts, per


def sbatch_directives(text):
    d = {}
    for line in text.splitlines():
        m = re.fullmatch(r"#SBATCH --([a-z-]+)(?:=(\S+))?", line)
        if m:
            d[m.group(1)] = m.group(2)
    return d


def check_sbatch(text, plan, name, tmp, p3cfg, root, path, i):
    d = tempfile.mkdtemp(dir=tmp)
    script = os.path.join(d, "job.sh")
    with open(script, "w") as f:
        f.write(text)
    if not check(subprocess.run(["bash", "-n", script]).returncode == 0, f"{name}: bash -n"):
        return
    want = placement(plan)
    hosts = []
    for r in sorted(want):
        if want[r][0] not in hosts:
            hosts.append(want[r][0])
    dv = sbatch_directives(text)
    check(text.startswith("#!/bin/bash\n"), f"{name}: shebang")
    check(int(dv.get("nodes", 0)) == len(hosts), f"{name}: --nodes {dv.get('nodes')}")
    check(dv.get("ntasks-per-node") == "1", f"{name}: one task (torchrun) per node")
    check(int(dv.get("gpus-per-node", 0)) == plan["cluster"]["gpus_per_node"] and
          "exclusive" in dv, f"{name}: every GPU of each node")
    check(dv.get("nodelist", "").split(",") == hosts, f"{name}: --nodelist in placement order")
    # sbatch reads directives only before the first command.
    first_cmd = next(k for k, l in enumerate(text.splitlines()) if l and not l.startswith("#"))
    check(all(not l.startswith("#SBATCH") for l in text.splitlines()[first_cmd:]),
          f"{name}: #SBATCH after the first command")
    margs = megatron_args(p3cfg, root, path, i, d)
    log = os.path.join(d, "log")
    os.makedirs(log)
    env = dict(os.environ, PATH=fake_bin(tmp) + os.pathsep + os.environ["PATH"], FAKE_LOG=log)
    for k in ("CUDA_DEVICE_MAX_CONNECTIONS", "NCCL_SOCKET_IFNAME", "NCCL_IB_HCA",
              "CUDA_VISIBLE_DEVICES"):
        env.pop(k, None)
    proc = subprocess.run(["bash", script, "--p3cfg-test-arg", "x y"], cwd=d, env=env,
                          capture_output=True, text=True, timeout=300)
    if not check(proc.returncode == 0, f"{name}: sbatch script exit {proc.returncode}: "
                 f"{proc.stderr[-800:]}"):
        return
    hosts2, per = check_steps(log, plan, name, margs, True)
    check(int(dv.get("nodes", 0)) * per == len(want), f"{name}: nodes x tasks = GPUs")
    COUNTS["sbatch"] += 1


def check_launch(text, plan, name, tmp, p3cfg, root, path, i):
    d = tempfile.mkdtemp(dir=tmp)
    script = os.path.join(d, "launch.sh")
    with open(script, "w") as f:
        f.write(text)
    if not check(subprocess.run(["bash", "-n", script]).returncode == 0, f"{name}: bash -n"):
        return
    margs = megatron_args(p3cfg, root, path, i, d)
    log = os.path.join(d, "log")
    os.makedirs(log)
    env = dict(os.environ, PATH=fake_bin(tmp) + os.pathsep + os.environ["PATH"], FAKE_LOG=log)
    for k in ("CUDA_DEVICE_MAX_CONNECTIONS", "NCCL_SOCKET_IFNAME", "NCCL_IB_HCA",
              "CUDA_VISIBLE_DEVICES", "FAKE_STEP"):
        env.pop(k, None)
    hosts = sorted({h for h, _ in placement(plan).values()})
    for h in hosts:
        proc = subprocess.run(["bash", script, h, "--p3cfg-test-arg", "x y"], cwd=d, env=env,
                              capture_output=True, text=True, timeout=60)
        check(proc.returncode == 0, f"{name}: launch {h}: exit {proc.returncode} {proc.stderr}")
    proc = subprocess.run(["bash", script, "not-a-host"], cwd=d, env=env, capture_output=True,
                          text=True)
    check(proc.returncode == 1 and "not one of the plan's" in proc.stderr,
          f"{name}: launch on an unknown host: {proc.returncode} {proc.stderr}")
    check_steps(log, plan, name, margs, False)
    COUNTS["launch"] += 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p3cfg", required=True)
    ap.add_argument("--root", default=".")
    ap.add_argument("--probe", help="libaffinity_probe.so (without it: no mpirun runs)")
    ap.add_argument("--mpirun", default=shutil.which("mpirun"))
    args = ap.parse_args(argv)
    p3cfg, root = os.path.abspath(args.p3cfg), os.path.abspath(args.root)
    if not args.probe or not args.mpirun:
        print("FAIL: needs --probe and mpirun (Open MPI) to check the rankfile")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for name, cmd in PLANS + EXTRA:
            path = os.path.join(tmp, name + ".json")
            p3cfg_run(p3cfg, root, shlex.split(cmd) + ["--format", "json", "-o", path], ok=(0, 3))
            with open(path) as f:
                doc = json.load(f)
            plans = doc["plans"] if "plans" in doc else [doc]
            for i, plan in enumerate(plans, 1):
                label = f"{name}#{i}"
                rf = p3cfg_run(p3cfg, root, ["export", path, "--to", "rankfile", "--plan", str(i)])
                check_rankfile_grammar(rf.stdout, plan, label + " rankfile")
                COUNTS["rankfile_grammar"] += 1
                if len({r["node"] for r in plan["placement"]["ranks"]}) <= MPI_MAX_HOSTS:
                    check_rankfile_mpirun(rf.stdout, plan, label + " mpirun", tmp,
                                          os.path.abspath(args.probe), args.mpirun)
                hf = p3cfg_run(p3cfg, root, ["export", path, "--to", "hostfile", "--plan", str(i)],
                               ok=(0, 1))
                for fmt, fn in (("sbatch", check_sbatch), ("launch", check_launch)):
                    proc = p3cfg_run(p3cfg, root, ["export", path, "--to", fmt, "--plan", str(i)],
                                     ok=(0, 1))
                    if hf.returncode == 1:  # torchrun's numbering cannot express it
                        check(proc.returncode == 1 and "use --to rankfile" in proc.stderr,
                              f"{label} {fmt}: should refuse as the hostfile does: {proc.stderr}")
                        COUNTS["refused"] += 1
                        continue
                    if check(proc.returncode == 0, f"{label} {fmt}: {proc.stderr.strip()}"):
                        fn(proc.stdout, plan, f"{label} {fmt}", tmp, p3cfg, root, path, i)
    for f in FAILURES:
        print("FAIL", f)
    print(", ".join(f"{k} {v}" for k, v in COUNTS.items()) + f"; {len(FAILURES)} failures")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
