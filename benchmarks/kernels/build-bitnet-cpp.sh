#!/usr/bin/env bash
# Builds bitnet.cpp's llama-bench from its source tree (read-only) into OUT, for this CPU
# (`native`, as its own build.sh does) or for AVX2 only (`avx2`: no AVX-512, no AVX-VNNI — what
# most PCs run, to compare like for like with ARIA_CPU=avx2 on a machine that has more).
# Needs cmake and clang. About 5 minutes on 2 cores.
#   benchmarks/kernels/build-bitnet-cpp.sh SRC OUT [native|avx2]
set -euo pipefail
src=${1:?bitnet.cpp source dir}
out=${2:?build dir}
isa=${3:-native}
case "$isa" in
  native) flags=() ;;
  avx2) flags=(-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX_VNNI=OFF) ;;
  *) echo "isa must be native or avx2" >&2; exit 2 ;;
esac
# The trimmed source has no common/cmake/build-info-gen-cpp.cmake, which its build calls: build
# from a copy with that step supplied (it only writes version strings into build-info.cpp).
copy="$out.src"
rm -rf "$copy" && mkdir -p "$(dirname "$copy")" && cp -r "$src" "$copy" && chmod -R u+w "$copy"
gen="$copy/3rdparty/llama.cpp/common/cmake/build-info-gen-cpp.cmake"
if [ ! -f "$gen" ]; then
  mkdir -p "$(dirname "$gen")"
  cat >"$gen" <<'CMAKE'
set(BUILD_NUMBER 0)
set(BUILD_COMMIT "bitnet.cpp peer")
set(BUILD_COMPILER "${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER_VERSION}")
set(BUILD_TARGET "${CMAKE_SYSTEM_PROCESSOR}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/../build-info.cpp.in" "${OUTPUT_FILE}")
CMAKE
fi
src="$copy"
cmake -S "$src" -B "$out" -DBITNET_X86_TL2=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF "${flags[@]}" >"$out.cmake.log" 2>&1 \
  || { tail -20 "$out.cmake.log"; exit 1; }
cmake --build "$out" -j"$(nproc)" --target llama-bench >"$out.build.log" 2>&1 || { tail -30 "$out.build.log"; exit 1; }
echo "built: $out/bin/llama-bench ($isa)"
