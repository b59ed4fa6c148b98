#!/bin/sh
# Serve the AI-gateway sample: the OpenAI-compatible demo model server on :9101, then the gateway
# on :8080 (admin :9090). Run from the repository root; Ctrl-C stops both.
set -e
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-$(command -v .venv/bin/python || command -v python3)}"
"$PYTHON" -m tests.support.openai_server model 9101 >/dev/null &
MODEL=$!
trap 'kill $MODEL 2>/dev/null' EXIT INT TERM
"$PYTHON" -m policygate serve samples/ai-gateway/gateway.yaml
