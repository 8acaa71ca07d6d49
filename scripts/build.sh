#!/bin/sh
# Builds the one binary: dist/hostward (or $1). Identifiers are not minified: ssh2 tells its
# channel types apart by constructor.name, which --minify-identifiers renames (a user could
# crash the agent with `ssh -s foo`; Bun 1.4.5 --keep-names does not keep class names).
# --splitting keeps each dynamically imported command in its own chunk inside the binary:
# without it Bun hoists every built-in module import (node:http, node:zlib, bun:sqlite…)
# to the top of one bundle, and `hostward version` paid ~120 ms loading them.
# --bytecode embeds JavaScriptCore bytecode of every chunk, so a command does not parse its
# modules at start (`ctl get locks`: 40 -> 27 ms of CPU; the agent: 3 MiB less heap, 3.6 MiB
# more mapped from the binary). With it Bun defaults to CommonJS, which cannot split: hence
# --format esm.
# Built to a temporary name and renamed, so
# parallel test processes never run a half-written binary.
set -eu
cd "$(dirname "$0")/.."
out="${1:-dist/hostward}"
# Bun writes each chunk's source map beside the output, so it builds in a scratch dir.
tmpdir="$out.tmp.$$"
trap 'rm -rf "$tmpdir"' EXIT
mkdir -p "$tmpdir"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
node_modules/.bin/bun build --compile --bytecode --format esm --splitting --minify-whitespace --minify-syntax --sourcemap \
  --define "process.env.HOSTWARD_COMMIT=\"$commit\"" \
  src/cli.ts src/agent/recording/encoder-worker.ts src/auth/recording/part-check-worker.ts --outfile "$tmpdir/hostward"
mv -f "$tmpdir/hostward" "$out"
