#!/bin/sh
# header.sh — the public header stands alone (CTest `public_header`, label install):
#   tests/install/header.sh SOURCE_DIR
# include/p3cfg.h compiled by itself and in a program that uses its macros, as C11 and
# as C++11, pedantic, with every warning an error.
set -eu
SRC=$(cd "$1" && pwd)
CC=${CC:-cc}
CXX=${CXX:-c++}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/use.c" <<'C'
#include <p3cfg.h>
int main(void)
{
  p3cfg_plan plan = P3CFG_PLAN_INIT;
  p3cfg_search_options so = P3CFG_SEARCH_OPTIONS_INIT;
  p3cfg_estimate_options eo = P3CFG_ESTIMATE_OPTIONS_INIT;
  p3cfg_buffer buf = {0, 0};
  (void)buf;
  return (int)(plan.version + so.version + eo.version) == 0 && p3cfg_version_string() == 0;
}
C
FLAGS="-pedantic -Wall -Wextra -Werror -I$SRC/include"
$CC -std=c11 $FLAGS -fsyntax-only -x c "$SRC/include/p3cfg.h"
$CC -std=c11 $FLAGS -Wshadow -Wstrict-prototypes -Wmissing-prototypes -c "$WORK/use.c" \
  -o "$WORK/use-c.o"
echo "ok   p3cfg.h as C11"
$CXX -std=c++11 $FLAGS -fsyntax-only -x c++ "$SRC/include/p3cfg.h"
$CXX -std=c++11 $FLAGS -x c++ -c "$WORK/use.c" -o "$WORK/use-cxx.o"
echo "ok   p3cfg.h as C++11"
