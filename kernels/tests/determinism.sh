#!/bin/sh
# Bit-exactness across compilers (make determinism; docs/kernels-abi.md, "Determinism").
# Builds libaria and tests/determinism.c with gcc and clang at -O2 and -O3 (warnings are
# errors), each into <root>/<compiler>-<level>; runs each program (which itself checks that
# every kernel tier, thread count, chunking and batch composition gives the same bytes); runs
# the gcc -O2 one again with glibc's non-FMA libm variants (libaria must not depend on them);
# and fails unless every run printed the same SHA-256 for every case.
# Usage (from kernels/): sh tests/determinism.sh <root>; DET_GCC / DET_CLANG pick compilers.
set -u
root=${1:?usage: determinism.sh <build root>}
gcc=${DET_GCC:-gcc}
clang=${DET_CLANG:-clang}
make=${MAKE:-make}
say() { echo "kernels determinism: $*" >&2; }

for cc in "$gcc" "$clang"; do
  if ! command -v "$cc" >/dev/null 2>&1; then
    case $cc in *clang*) pkg=clang ;; *) pkg=gcc ;; esac
    say "\`$cc\` not found: install the \`$pkg\` package (Debian/Ubuntu: apt-get install $pkg)"
    exit 1
  fi
done
echo "compilers: $("$gcc" --version | head -n 1); $("$clang" --version | head -n 1)"

mkdir -p "$root" || exit 1
runs=""
for b in "gcc -O2" "gcc -O3" "clang -O2" "clang -O3"; do
  set -- $b
  cc=$gcc
  [ "$1" = clang ] && cc=$clang
  name=$1$2
  dir=$root/$name
  # -j2 at most (2-core CI); the parent's make flags (jobserver, -s) do not apply here.
  if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$make" -s -j2 --no-print-directory \
      CC="$cc" OPT="$2" CFLAGS=-Werror BUILD="$dir" determinism-build >"$root/$name.build.log" 2>&1; then
    cat "$root/$name.build.log" >&2
    say "building with $cc $2 failed (see above)"
    exit 1
  fi
  if ! "$dir/determinism" >"$root/$name.out" 2>"$root/$name.err"; then
    cat "$root/$name.err" >&2
    say "$name: variants of a case differ within the build (see above)"
    exit 1
  fi
  runs="$runs $name"
done

# The same gcc -O2 binary with glibc's SSE2 (non-FMA) expf / sinf / cosf / pow selected
# (x86-64 glibc only; elsewhere the tunable is ignored and the run is simply repeated).
name=gcc-O2+libm-noFMA
if ! GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F "$root/gcc-O2/determinism" \
    >"$root/$name.out" 2>"$root/$name.err"; then
  cat "$root/$name.err" >&2
  say "$name: variants of a case differ within the run (see above)"
  exit 1
fi
runs="$runs $name"

# Compare every run's "<case> <hash>" lines with the first run's.
set -- $runs
first=$1
shift
for other in "$@"; do
  if ! awk -v a="$first" -v b="$other" '
      FNR == NR { if ($1 !~ /^#/) { h[$1] = $2; order[++n] = $1 } next }
      $1 !~ /^#/ {
        seen[$1] = 1
        if (!($1 in h)) { printf "case %s: printed by %s only\n", $1, b; bad = 1; exit }
        if (h[$1] != $2) { printf "case %s: %s printed %s, %s printed %s\n", $1, a, h[$1], b, $2; bad = 1; exit }
      }
      END {
        if (bad) exit 1
        for (i = 1; i <= n; i++) if (!(order[i] in seen)) { printf "case %s: printed by %s only\n", order[i], a; exit 1 }
      }' "$root/$first.out" "$root/$other.out" >"$root/compare.txt"; then
    say "$(cat "$root/compare.txt") (outputs in $root)"
    exit 1
  fi
done

cat "$root/$first.out"
echo "bit-identical across$(echo "$runs" | sed 's/ /, /g; s/^,//'): $(grep -vc '^#' "$root/$first.out") cases"
