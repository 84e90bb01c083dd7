#!/usr/bin/env bash
# Install llama-cpp-python into a virtual environment, built PORTABLE by default.
#
# Why: llama.cpp compiles for the build machine's CPU unless told otherwise. A native build on a CPU
# with AMX or AVX-512 (common cloud Xeons) crashes with a general protection fault on any CPU without
# them, and pip's wheel cache hands that native wheel to later installs whatever CMAKE_ARGS says.
# So: we build the wheel ourselves with pip's cache off, keep it in our own wheelhouse keyed by the
# version and the exact CMake flags, force-reinstall it, and check what the installed library reports.
#
# Usage: scripts/install-llama-cpp.sh VENV_PYTHON
#   LLAMA_CPP_VERSION  version to build (default below)
#   LLAMA_NATIVE=1     opt in to a build tuned for this CPU only (-DGGML_NATIVE=ON)
#   LLAMA_CMAKE_ARGS   extra CMake flags appended to either build
#   CVJ_WHEELHOUSE     where built wheels are kept (default ~/.cache/cvj-kit/wheels)
set -euo pipefail

python=${1:?usage: $0 VENV_PYTHON}
version=${LLAMA_CPP_VERSION:-0.3.36}
if [ "${LLAMA_NATIVE:-0}" = 1 ]; then
  mode=native
  flags="-DGGML_NATIVE=ON"
else
  mode=portable
  # Any x86-64 CPU from the last decade (Haswell / Zen 1 onwards): AVX2, FMA, F16C, BMI2; no AVX-512, no AMX.
  flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
  flags="$flags -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF"
  flags="$flags -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  if [ "$(uname -m)" != x86_64 ]; then flags="-DGGML_NATIVE=OFF"; fi
fi
flags="$flags ${LLAMA_CMAKE_ARGS:-}"
key=$(printf '%s|%s|%s' "$version" "$(uname -m)" "$flags" | sha1sum | cut -c1-12)
house=${CVJ_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/cvj-kit/wheels}/llama-cpp-python-$version-$mode-$key
pip=("$python" -m pip --disable-pip-version-check)

if ! compgen -G "$house/llama_cpp_python-*.whl" >/dev/null; then
  echo "Compiling llama-cpp-python $version, $mode build (about 5 minutes on 2 cores; done once per machine)."
  echo "  CMAKE_ARGS=$flags"
  rm -rf "$house.partial"
  CMAKE_ARGS="$flags" FORCE_CMAKE=1 "${pip[@]}" wheel -q --no-cache-dir --no-deps -w "$house.partial" \
    "llama-cpp-python==$version"
  mv "$house.partial" "$house"
fi
wheel=$(compgen -G "$house/llama_cpp_python-*.whl" | head -n 1)
# --force-reinstall: replace whatever build was there before (a native one from pip's cache, say).
"${pip[@]}" install -q --no-cache-dir --no-deps --force-reinstall "$wheel"
# Its dependencies (the server extra); the package itself is already satisfied by the wheel above.
"${pip[@]}" install -q "llama-cpp-python[server]==$version"

info=$("$python" -c 'import llama_cpp; print(llama_cpp.llama_print_system_info().decode())')
echo "llama.cpp $mode build: $info"
if [ "$mode" = portable ]; then
  # What the library says it was built for, and (where binutils is installed) what its machine code holds.
  lib=$("$python" -c 'import llama_cpp, pathlib; print(pathlib.Path(llama_cpp.__file__).parent / "lib")')
  wide=0
  if command -v objdump >/dev/null; then
    wide=$(objdump -d "$lib"/libggml-cpu.so* 2>/dev/null | grep -cE '%zmm|ldtilecfg|tileloadd|tdpb[su][su]d' || true)
  fi
  if grep -Eq '(AVX512[A-Z_]*|AMX[A-Z_]*) = 1' <<<"$info" || [ "$wide" -gt 0 ]; then
    echo "error: the installed llama-cpp-python uses AVX-512 or AMX ($wide such instructions), so it is not" >&2
    echo "       the portable build and would crash on CPUs without them. Remove $house and run make setup again." >&2
    exit 1
  fi
  echo "llama.cpp machine code: no AVX-512 or AMX instructions."
fi
