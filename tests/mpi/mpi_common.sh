# mpi_common.sh — sourced by the mpi tests: how to run mpirun on this one machine.
# Root is allowed, ranks may outnumber cores (oversubscribe, no binding, yield when
# idle), and TRANSPORT picks shared memory (vader) or TCP over loopback. Open MPI leaks
# by design, so AddressSanitizer's leak check is off for these runs.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# mpirun_args TRANSPORT NP: print the mpirun argument list, one per line.
mpirun_args() {
  local btl
  case "$1" in
    vader) btl="vader,self" ;;
    tcp) btl="tcp,self" ;;
    *) echo "unknown transport $1" >&2; return 1 ;;
  esac
  printf '%s\n' --oversubscribe --bind-to none --mca mpi_yield_when_idle 1 \
    --mca pml ob1 --mca btl "$btl" --mca btl_vader_single_copy_mechanism none
  if [ "$1" = tcp ]; then printf '%s\n' --mca btl_tcp_if_include lo; fi
  printf '%s\n' -np "$2"
}

fail() { echo "FAIL: $*"; exit 1; }
