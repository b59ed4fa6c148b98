#!/bin/sh
# Serve the AI-gateway sample: two OpenAI-compatible demo model servers (primary on :9101,
# secondary on :9102), then the gateway on :8080 (admin :9090). Run from the repository root;
# Ctrl-C stops all three.
set -e
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-$(command -v .venv/bin/python || command -v python3)}"
"$PYTHON" -m tests.support.openai_server primary 9101 >/dev/null &
PRIMARY=$!
"$PYTHON" -m tests.support.openai_server secondary 9102 >/dev/null &
SECONDARY=$!
trap 'kill $PRIMARY $SECONDARY 2>/dev/null' EXIT INT TERM
"$PYTHON" -m policygate serve samples/ai-gateway/gateway.yaml
