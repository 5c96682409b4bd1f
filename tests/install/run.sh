#!/bin/sh
# run.sh — libp3cfg installs like a C library (CTest `install`, label install):
#   tests/install/run.sh BUILD_DIR SOURCE_DIR
# Installs BUILD_DIR into a temporary prefix, then checks what a user relies on: the
# files (library with its SONAME, headers, CMake package, pkg-config file, CLI, man page,
# bash completion), that the library exports exactly the public API, that the installed
# CLI runs, and that programs outside the tree build and run against it: the consumer
# of tests/install/consumer/ with find_package(p3cfg) and with pkg-config, and the API
# example docs/example.c. Prints one line per check; exits non-zero on the first failure.
set -eu
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
CC=${CC:-cc}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PREFIX=$WORK/prefix

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

cmake --install "$BUILD" --prefix "$PREFIX" > "$WORK/install.log" 2>&1 ||
  { cat "$WORK/install.log" >&2; fail "cmake --install"; }
ok "cmake --install into $PREFIX"

LIB=$(find "$PREFIX" -name 'libp3cfg.so' | head -n 1)
[ -n "$LIB" ] || fail "libp3cfg.so not installed"
LIBDIR=$(dirname "$LIB")
for f in "$LIBDIR/libp3cfg.so.0" include/p3cfg.h bin/p3cfg share/man/man1/p3cfg.1 \
         share/bash-completion/completions/p3cfg "$LIBDIR/cmake/p3cfg/p3cfgConfig.cmake" \
         "$LIBDIR/cmake/p3cfg/p3cfgConfigVersion.cmake" "$LIBDIR/cmake/p3cfg/p3cfgTargets.cmake" \
         "$LIBDIR/pkgconfig/p3cfg.pc"; do
  case $f in /*) path=$f ;; *) path=$PREFIX/$f ;; esac
  [ -e "$path" ] || fail "missing $f"
done
ok "installed files"
if [ -e "$LIBDIR/libp3cfg_mpi.so" ]; then
  [ -e "$PREFIX/include/p3cfg/mpi.h" ] || fail "libp3cfg_mpi installed without include/p3cfg/mpi.h"
elif [ -e "$PREFIX/include/p3cfg/mpi.h" ]; then
  fail "include/p3cfg/mpi.h installed without libp3cfg_mpi"
fi
ok "include/p3cfg/mpi.h only with libp3cfg_mpi"

soname=$(readelf -d "$LIB" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libp3cfg.so.0" ] || fail "SONAME is '$soname', expected libp3cfg.so.0"
ok "SONAME $soname"

# Exported symbols: exactly the functions its public headers (p3cfg.h, p3cfg/*.h but
# mpi.h, which is libp3cfg_mpi's) declare with P3CFG_API, and each of those headers
# installed.
nm -D --defined-only "$LIB" | awk '$2 ~ /^[TDBRVWi]$/ {print $3}' | sed 's/@.*//' | sort -u \
  > "$WORK/exported"
: > "$WORK/declared"
for h in "$SRC/include/p3cfg.h" "$SRC"/include/p3cfg/*.h; do
  [ -e "$h" ] && [ "$(basename "$h")" != mpi.h ] || continue
  case $h in */include/p3cfg/*) rel=include/p3cfg/$(basename "$h") ;; *) rel=include/p3cfg.h ;; esac
  [ -e "$PREFIX/$rel" ] || fail "public header $rel not installed"
  tr '\n' ' ' < "$h" | grep -o 'P3CFG_API [^;{]*(' | sed 's/($//; s/.*[ *]//' >> "$WORK/declared"
done
sort -u -o "$WORK/declared" "$WORK/declared"
extra=$(comm -23 "$WORK/exported" "$WORK/declared" | grep -v '^_\(init\|fini\|edata\|end\|_bss_start\)$' || true)
missing=$(comm -13 "$WORK/exported" "$WORK/declared" || true)
[ -z "$extra" ] || fail "exported but not public: $(echo $extra)"
[ -z "$missing" ] || fail "declared P3CFG_API but not exported: $(echo $missing)"
ok "exports exactly the $(wc -l < "$WORK/declared") public functions"

env -u LD_LIBRARY_PATH "$PREFIX/bin/p3cfg" --version > "$WORK/version" ||
  fail "installed bin/p3cfg does not run"
ok "bin/p3cfg runs: $(cat "$WORK/version")"

if command -v bash > /dev/null; then
  PATH="$PREFIX/bin:$PATH" bash -c '. "$1" && complete -p p3cfg > /dev/null &&
    COMP_WORDS=(p3cfg export x --t) COMP_CWORD=3 && _p3cfg && [ "${COMPREPLY[*]}" = --to ] &&
    COMP_WORDS=(p3cfg export x --to m) COMP_CWORD=4 && _p3cfg &&
    [ "${COMPREPLY[*]}" = megatron ]' bash "$PREFIX/share/bash-completion/completions/p3cfg" ||
    fail "bash completion"
  ok "bash completion completes options and values"
fi
if command -v groff > /dev/null; then
  [ -z "$(groff -man -ww -z "$PREFIX/share/man/man1/p3cfg.1" 2>&1)" ] || fail "man page warnings"
  ok "man page renders without warnings"
fi

cmake -S "$SRC/tests/install/consumer" -B "$WORK/consumer" -DCMAKE_PREFIX_PATH="$PREFIX" \
  > "$WORK/consumer.log" 2>&1 && cmake --build "$WORK/consumer" >> "$WORK/consumer.log" 2>&1 ||
  { cat "$WORK/consumer.log" >&2; fail "consumer with find_package(p3cfg)"; }
"$WORK/consumer/consumer" || fail "consumer (find_package) run"
ok "consumer built with find_package(p3cfg) runs"

export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
# shellcheck disable=SC2046
$CC -std=c11 -Wall -Wextra -Werror "$SRC/tests/install/consumer/consumer.c" \
  $(pkg-config --cflags --libs p3cfg) -Wl,-rpath,"$LIBDIR" -o "$WORK/consumer-pc" ||
  fail "consumer with pkg-config"
"$WORK/consumer-pc" || fail "consumer (pkg-config) run"
ok "consumer built with pkg-config runs"

# shellcheck disable=SC2046
$CC -std=c11 -Wall -Wextra -Werror "$SRC/docs/example.c" $(pkg-config --cflags --libs p3cfg) \
  -Wl,-rpath,"$LIBDIR" -o "$WORK/example" || fail "docs/example.c does not build"
(cd "$SRC" && "$WORK/example" models/llama3-8b.yaml clusters/dgx-h100-8n.yaml) \
  > "$WORK/example.out" || fail "docs/example.c run"
grep -q '^MEGATRON_ARGS=(' "$WORK/example.out" || fail "docs/example.c printed no arguments"
ok "docs/example.c builds and runs: $(head -n 1 "$WORK/example.out")"

if [ -e "$LIBDIR/libp3cfg.a" ]; then
  # shellcheck disable=SC2046
  $CC -std=c11 "$SRC/tests/install/consumer/consumer.c" \
    $(pkg-config --static --cflags p3cfg) "$LIBDIR/libp3cfg.a" \
    $(pkg-config --static --libs-only-l p3cfg | sed 's/-lp3cfg//') -o "$WORK/consumer-static" ||
    fail "consumer with libp3cfg.a"
  "$WORK/consumer-static" || fail "consumer (static) run"
  ok "consumer linked with libp3cfg.a runs"
fi
