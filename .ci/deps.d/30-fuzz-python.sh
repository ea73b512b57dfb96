#!/usr/bin/env bash
# The fuzz suite's Schemathesis run (packages/server/test/fuzz/schemathesis.test.ts), at a pinned
# version from PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."
requirements=packages/server/test/fuzz/requirements.txt
command -v python3 >/dev/null || { echo "python3 is missing: the Schemathesis run cannot happen" >&2; exit 1; }
# pip returns at once when the pinned version is there already, and corrects any other version.
python3 -m pip install --quiet -r "$requirements" || { echo "pip could not install $requirements" >&2; exit 1; }
python3 -m pip show schemathesis | sed -n 's/^Version: /Schemathesis /p'
command -v schemathesis >/dev/null || { echo "schemathesis is installed but not on PATH" >&2; exit 1; }
