#!/usr/bin/env bash
# Run on the target machine: its CPU flags, then the bundled build prefilling and generating (exit 0 = it runs).
cd "$(dirname "$0")"
echo "== cpu"; lscpu | grep -E 'Model name|^CPU\(s\)'
echo "flags of note: $(grep -m1 -o -wE 'avx2|avx512f|avx512_vnni|avx512_bf16|amx_tile|amx_int8|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "== glibc: $(ldd --version | head -1)"
sha256sum libggml-cpu.so.0 libllama.so.0
chmod +x check
status=0
for t in 4 16; do
  echo "== run threads=$t"
  timeout 100 ./check model.gguf "$t" 2>"llama-$t.log" && rc=0 || rc=$?
  echo "rc=$rc"
  if [ "$rc" -ne 0 ]; then status=1; tail -5 "llama-$t.log"; fi
done
dmesg 2>/dev/null | grep -iE 'general protection|segfault' | tail -3
exit $status
