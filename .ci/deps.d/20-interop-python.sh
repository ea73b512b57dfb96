#!/usr/bin/env bash
# The interop suite's Python clients (packages/server/test/interop/python): PyJWT and Authlib at
# pinned versions. PyJWT matches the version sdks/python pins, so the two suites share one install.
set -euo pipefail
cd "$(dirname "$0")/../.."
requirements=packages/server/test/interop/python/requirements.txt
command -v python3 >/dev/null || { echo "python3 is missing: the Python interop tests cannot run" >&2; exit 1; }
# pip returns at once when the pinned versions are there already, and corrects any other version.
python3 -m pip install --quiet -r "$requirements" || { echo "pip could not install $requirements" >&2; exit 1; }
python3 -c 'import jwt, authlib, cryptography; print("PyJWT", jwt.__version__, "Authlib", authlib.__version__)'
