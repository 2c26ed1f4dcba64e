#!/usr/bin/env bash
# Development install, as CI runs it: deepviz with every extra the tests use, into the active
# Python environment. A user needs only `pip install -e .` (README); torch is here because some
# tests compare the torch-free ONNX models with torch. torch is named with its version so that pip
# takes the CPU build this machine provides instead of resolving `torch>=2.1` to a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install torch==2.13.0 -e ".[torch,import,dev]"
