#!/usr/bin/env bash
# The interop suite's Go clients (packages/server/test/interop/go): golang-jwt/jwt v5 and
# MicahParks/keyfunc v3 at the versions go.sum pins, fetched through the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/../../packages/server/test/interop/go"
command -v go >/dev/null || { echo "go is missing: the Go interop tests cannot run" >&2; exit 1; }
go mod download || { echo "go mod download failed (is the Go module proxy reachable?)" >&2; exit 1; }
go vet ./...
