#!/usr/bin/env bash
# `make reproduce` on a fresh clone of this repository's committed HEAD, as a new user would, under /usr/bin/time -v;
# unlike ../shared/tools/fresh-clone-check it keeps the clone and its outputs (for bench/cell_times.py).
# Usage: bench/fresh_clone_reproduce.sh [DIR] [make arguments...]   (default DIR /tmp/fcq; e.g. PROFILE=smoke)
src=$(git rev-parse --show-toplevel)
dir=${1:-/tmp/fcq}; shift || true
if [ -e "$dir" ] && [ ! -f "$dir/.fresh-clone" ]; then
  echo "$dir exists and was not made by this script: give a new folder" >&2; exit 2
fi
rm -rf "$dir"; mkdir -p "$dir"; touch "$dir/.fresh-clone"
git clone -q "$src" "$dir/medgan_nb"
cd "$dir/medgan_nb" && git log --oneline -1 > "$dir/commit"
start=$(date +%s)
# a cache folder of its own (medgan_nb.core.cache_dir): a user's first run has none
MEDGAN_CACHE_DIR="$dir/cache" /usr/bin/time -v make reproduce "$@" > "$dir/log" 2>&1
rc=$?
echo "== make reproduce rc $rc in $(( $(date +%s) - start )) s" >> "$dir/log"
echo "log: $dir/log; per-cell times: python bench/cell_times.py $dir/medgan_nb/outputs"
