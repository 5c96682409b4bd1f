# emu_cluster.sh — sourced by the emu tests: the emulated four-node cluster of
# docs/emulated-cluster.md on this one machine.
#
# Four network namespaces are the nodes (p3emu1..p3emu4, 10.77.0.11-14/24, each with its
# own host name), joined by a bridge in a fifth namespace; tc caps node 4's link at
# 200 Mbit/s (tbf on both ends) and the pair node1 <-> node2 at 500 Mbit/s (htb + u32 on
# the bridge ports). Traffic never leaves the namespaces.
#
#   emu_start          checks (skip 77 when not root / no namespaces / no qdiscs), the
#                      lock, the cleanup trap, the cluster; sets WORK and MPIRUN_FLAGS
#   emu_mpirun ARGS    mpirun inside node 1 (the root namespace has no route to the
#                      test subnet), at a higher priority, with MPIRUN_FLAGS
NODES="p3emu1 p3emu2 p3emu3 p3emu4"
SWITCH=p3emu-sw
SUBNET=10.77.0
WORK=""

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

emu_cleanup() {
  for ns in $NODES $SWITCH; do
    if ip netns list 2>/dev/null | grep -qw "$ns"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
      ip netns del "$ns" 2>/dev/null
    fi
  done
  if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}

emu_start() {
  [ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces and tc"
  for tool in ip tc unshare flock mpirun; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
  done
  # One emulated cluster at a time on this machine (ctest -j, two build trees).
  exec 9>/tmp/p3cfg-emu.lock
  flock -w 150 9 || fail "another emulated cluster holds /tmp/p3cfg-emu.lock"
  trap emu_cleanup EXIT
  emu_cleanup # leftovers of a run that was killed
  WORK=$(mktemp -d /tmp/p3cfg-emu.XXXXXX)

  ip netns add $SWITCH 2>/dev/null || skip "cannot create network namespaces here"
  ip -n $SWITCH link add br0 type bridge || skip "no bridge support"
  ip -n $SWITCH link set br0 up
  local i=0 ns
  for ns in $NODES; do
    i=$((i + 1))
    ip netns add "$ns" || fail "ip netns add $ns"
    ip -n "$ns" link add eth0 type veth peer name "port$i" netns $SWITCH || skip "no veth support"
    ip -n $SWITCH link set "port$i" master br0 up
    ip -n "$ns" addr add "$SUBNET.1$i/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
  # Node 4: 200 Mbit/s both ways (tbf on its eth0 and on its bridge port).
  tc -n p3emu4 qdisc replace dev eth0 root tbf rate 200mbit burst 64kb latency 100ms ||
    skip "the kernel has no tbf qdisc"
  tc -n $SWITCH qdisc replace dev port4 root tbf rate 200mbit burst 64kb latency 100ms
  # Pair 1 <-> 2: 500 Mbit/s, on the bridge port towards each, for packets from the other.
  emu_cap_pair port2 $SUBNET.11 || skip "the kernel has no htb qdisc or u32 filter"
  emu_cap_pair port1 $SUBNET.12 || skip "the kernel has no htb qdisc or u32 filter"

  # Launcher agent: "AGENT [-options] HOST command..." runs the command in HOST's
  # namespace under its own host name, as ssh would run it on that host.
  cat >"$WORK/agent.sh" <<EOF
#!/bin/sh
while [ \$# -gt 0 ]; do case "\$1" in -*) shift ;; *) break ;; esac; done
host=\$1; shift
case "\$host" in
  $SUBNET.1[1-4]) ns=p3emu\${host#$SUBNET.1} ;;
  *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" unshare --uts sh -c "hostname \$ns; \$*"
EOF
  chmod +x "$WORK/agent.sh"
  for i in 1 2 3 4; do echo "$SUBNET.1$i slots=2"; done >"$WORK/hosts"

  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 # Open MPI leaks
  MPIRUN_FLAGS=(--map-by node --bind-to none --oversubscribe --mca mpi_yield_when_idle 1
    --mca plm_rsh_agent "$WORK/agent.sh" --mca plm_rsh_no_tree_spawn 1
    --mca pml ob1 --mca btl tcp,vader,self --mca btl_tcp_if_include $SUBNET.0/24
    --mca oob_tcp_if_include $SUBNET.0/24 --mca btl_vader_single_copy_mechanism none)
}

emu_cap_pair() { # PORT SOURCE_ADDRESS
  tc -n $SWITCH qdisc replace dev "$1" root handle 1: htb default 20 || return 1
  tc -n $SWITCH class add dev "$1" parent 1: classid 1:10 htb rate 500mbit ceil 500mbit \
    burst 64k cburst 64k quantum 60000 || return 1
  tc -n $SWITCH class add dev "$1" parent 1: classid 1:20 htb rate 100gbit quantum 60000 || return 1
  tc -n $SWITCH filter add dev "$1" parent 1: protocol ip prio 1 u32 \
    match ip src "$2/32" flowid 1:10 || return 1
}

# emu_mpirun TIMEOUT mpirun-arguments...: mpirun runs inside node 1 at a higher priority
# (nice -10): on a shared two-core machine other jobs would otherwise starve the TCP
# senders and bend the measured caps.
emu_mpirun() {
  local limit=$1
  shift
  timeout "$limit" nice -n -10 ip netns exec p3emu1 unshare --uts \
    sh -c 'hostname p3emu1; exec "$@"' sh mpirun "${MPIRUN_FLAGS[@]}" "$@"
}
