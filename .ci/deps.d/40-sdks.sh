#!/usr/bin/env bash
# The Python and Go verification SDKs (sdks/python, sdks/go): their test dependencies, pinned in
# sdks/python/pyproject.toml (PyJWT[crypto], pytest) and sdks/go/go.sum (golang-jwt/jwt/v5).
# Fails loudly when a toolchain is missing or a registry cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v python3 >/dev/null; then
  echo "FATAL: python3 is missing; the Python SDK suite cannot run" >&2
  exit 1
fi
python3 -m pip --version >/dev/null 2>&1 || { echo "FATAL: pip is missing for python3" >&2; exit 1; }
python3 -m pip install --disable-pip-version-check -q -e 'sdks/python[test]'
python3 -c 'import jwt, pytest, cryptography' || { echo "FATAL: the Python SDK test dependencies did not install" >&2; exit 1; }

if ! command -v go >/dev/null; then
  echo "FATAL: go is missing (Go 1.25 or later); the Go SDK suite cannot run" >&2
  exit 1
fi
(cd sdks/go && go mod download && go mod verify)
