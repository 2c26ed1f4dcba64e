#!/usr/bin/env bash
# Development install, as CI runs it: deepviz with every extra the tests use, into the active
# Python environment. A user needs only `pip install -e .` (README). torch is here because some
# tests compare the torch-free ONNX models with torch; it is pinned so that pip takes the CPU
# build CI machines hold locally, where `torch>=2.1` alone would resolve to a CUDA build of several GB.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install torch==2.13.0 -e ".[torch,import,figure,ray,fast,hf,notebook,docs,dev]"
