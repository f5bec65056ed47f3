#!/usr/bin/env bash
# Install the chat widget's browser dependencies (socket.io client) from bot/web/package-lock.json into
# bot/web/node_modules; the web app serves them from there (no CDN). Skips the work when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/../bot/web"
if ! command -v npm >/dev/null 2>&1; then
  echo "web_deps: npm is missing. Install Node.js 18+ (with npm), then run: bash scripts/web_deps.sh" >&2
  exit 1
fi
stamp=node_modules/.installed
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f node_modules/socket.io-client/dist/socket.io.min.js ]; then
  exit 0
fi
echo "web_deps: installing the chat widget's browser dependencies (npm ci in bot/web)"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
