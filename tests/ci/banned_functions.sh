#!/usr/bin/env bash
# banned_functions.sh — refuse C library calls that have no bound on what they write or
# that hide errors, in the library and the CLI (the idea of curl's checksrc): gets,
# strcpy, strcat, sprintf, vsprintf (use snprintf / memcpy with a length), strtok (not
# re-entrant: the library is used from several threads), atoi/atol/atof (no error
# report: use strtol/strtod with an end pointer), tmpnam/mktemp (races: mkstemp).
# Usage: tests/ci/banned_functions.sh [ROOT]; exit 1 and the lines when any is called.
set -euo pipefail
root="${1:-$(dirname "$0")/../..}"
cd "$root"
pattern='(^|[^A-Za-z0-9_.>])(gets|strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atof|tmpnam|mktemp)[[:space:]]*\('
# Calls in code, not in comments: drop // comments and lines inside /* */ blocks that
# start with '*' (the project's comment style).
hits=$(grep -rnE "$pattern" src cli include --include='*.c' --include='*.h' |
  grep -vE '^[^:]+:[0-9]+:[[:space:]]*(\*|/\*|//)' || true)
if [ -n "$hits" ]; then
  echo "banned C library calls (see tests/ci/banned_functions.sh for the replacements):"
  echo "$hits"
  exit 1
fi
echo "banned_functions: none of gets strcpy strcat sprintf vsprintf strtok atoi atol atof tmpnam mktemp is called"
