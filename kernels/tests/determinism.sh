#!/bin/sh
# Bit-exactness across compilers (make determinism; docs/kernels-abi.md, "Determinism").
# Builds libaria and tests/determinism.c with gcc and clang at -O2 and -O3 (warnings are
# errors), each into <root>/<compiler>-<level>; runs each program (which itself checks that
# every kernel tier, thread count, chunking and batch composition gives the same bytes); runs
# the gcc -O2 one again with glibc's non-FMA libm variants (libaria must not depend on them);
# and fails unless every run printed the same SHA-256 for every case. DET_ARM64=1 adds an
# aarch64 build run under qemu (below).
# Usage (from kernels/): sh tests/determinism.sh <root>; DET_GCC / DET_CLANG pick compilers.
set -u
root=${1:?usage: determinism.sh <build root>}
gcc=${DET_GCC:-gcc}
clang=${DET_CLANG:-clang}
make=${MAKE:-make}
say() { echo "kernels determinism: $*" >&2; }
# A build directory belongs to one compiler version and level: start it afresh otherwise (make
# only tracks sources, headers and the Makefile).
claim() { # <dir> <compiler> <level>
  stamp="$("$2" --version | head -n 1) $3"
  if [ "$(cat "$1/.compiler" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$1" && mkdir -p "$1" && echo "$stamp" >"$1/.compiler"
  fi
}

for cc in "$gcc" "$clang"; do
  if ! command -v "$cc" >/dev/null 2>&1; then
    case $cc in *clang*) pkg=clang ;; *) pkg=gcc ;; esac
    say "\`$cc\` not found: install the \`$pkg\` package (Debian/Ubuntu: apt-get install $pkg)"
    exit 1
  fi
done
echo "compilers: $("$gcc" --version | head -n 1); $("$clang" --version | head -n 1)"

mkdir -p "$root" || exit 1
# One build and its run: <name> <compiler> <level>; output in $root/<name>.{build.log,out,err}.
runs=""
for b in "gcc -O2" "clang -O2" "gcc -O3" "clang -O3"; do
  set -- $b
  cc=$gcc
  [ "$1" = clang ] && cc=$clang
  name=$1$2
  claim "$root/$name" "$cc" "$2" || exit 1
  # -j2 at most (2-core CI); the parent's make flags (jobserver, -s) do not apply here.
  if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$make" -s -j2 --no-print-directory \
      CC="$cc" OPT="$2" CFLAGS=-Werror BUILD="$root/$name" determinism-build >"$root/$name.build.log" 2>&1; then
    cat "$root/$name.build.log" >&2
    say "building with $cc $2 failed (see above)"
    exit 1
  fi
  if ! "$root/$name/determinism" >"$root/$name.out" 2>"$root/$name.err"; then
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

# Opt-in (slow: ~50 s more under emulation): DET_ARM64=1 also cross-builds for aarch64 (NEON tier)
# with aarch64-linux-gnu-gcc and runs it under qemu-aarch64 (Debian: gcc-aarch64-linux-gnu
# libc6-dev-arm64-cross qemu-user).
if [ "${DET_ARM64:-0}" = 1 ]; then
  name=arm64-gcc-O2
  claim "$root/$name" aarch64-linux-gnu-gcc -O2 || exit 1
  if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$make" -s -j2 --no-print-directory UNAME_M=aarch64 \
      CC=aarch64-linux-gnu-gcc OPT=-O2 CFLAGS=-Werror BUILD="$root/$name" determinism-build >"$root/$name.build.log" 2>&1; then
    cat "$root/$name.build.log" >&2
    say "building with aarch64-linux-gnu-gcc failed (see above)"
    exit 1
  fi
  if ! qemu-aarch64 -L /usr/aarch64-linux-gnu "$root/$name/determinism" >"$root/$name.out" 2>"$root/$name.err"; then
    cat "$root/$name.err" >&2
    say "$name: variants of a case differ within the build (see above)"
    exit 1
  fi
  runs="$runs $name"
fi

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
