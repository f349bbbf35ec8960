#!/usr/bin/env bash
# Packs @tessera/tensor, @tessera/kernels-cpu and @tessera/autograd as they would be published,
# installs the three tarballs with plain npm into an empty project (npm resolves the rewritten
# @tessera/tensor dependency from the local tarball) and runs .ci/pack-check/grad.{mjs,cjs} there:
# a user's first program, from ESM and from CommonJS.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
packages=(tensor kernels-cpu autograd)

pnpm exec turbo run build --filter=@tessera/tensor --filter=@tessera/kernels-cpu --filter=@tessera/autograd

work="$(mktemp -d "${TMPDIR:-/tmp}/tessera-pack-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tarballs" "$work/app"

tarballs=()
for p in "${packages[@]}"; do
  (cd "packages/$p" && pnpm pack --pack-destination "$work/tarballs" >/dev/null)
done
for t in "$work"/tarballs/*.tgz; do
  manifest="$(tar -xzOf "$t" package/package.json)"
  if grep -q '"workspace:' <<<"$manifest"; then
    echo "pack-check: $(basename "$t") still has a workspace: dependency in its package.json" >&2
    exit 1
  fi
  listing="$(tar -tzf "$t")" # captured first: `tar | grep -q` can die of SIGPIPE under pipefail
  for f in package/dist/index.js package/dist/index.cjs package/dist/index.d.ts package/dist/index.d.cts; do
    grep -qx "$f" <<<"$listing" || { echo "pack-check: $(basename "$t") lacks $f" >&2; exit 1; }
  done
  tarballs+=("$t")
done
ls -l "$work/tarballs"

cd "$work/app"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "${tarballs[@]}"
cp "$root"/.ci/pack-check/grad.mjs "$root"/.ci/pack-check/grad.cjs .
node grad.mjs
node grad.cjs
echo "pack-check: OK"
