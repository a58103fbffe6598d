#!/usr/bin/env bash
# One command, Linux: builds the one-folder bundle packaging/dist/opro-studio/ (opro-gui + opro).
# Creates a venv under packaging/build/venv (reused on the next run; --fresh deletes it first),
# pip-installs the project and PyInstaller into it, runs packaging/opro-studio.spec, copies the
# desktop-integration installer beside the executables, then prints build time and bundle size.
#
#   packaging/build.sh [--fresh]          PYTHON=python3.11 packaging/build.sh
#
# Then: packaging/dist/opro-studio/opro-gui, packaging/dist/opro-studio/opro,
#       python packaging/smoke_test.py           (offscreen GUI + CLI end-to-end check)
#       packaging/dist/opro-studio/install_desktop.sh   (menu entry, .opro MIME type, icons)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
venv=$here/build/venv
dist=$here/dist
python=${PYTHON:-python3}

if [[ ${1:-} == --fresh ]]; then rm -rf "$here/build" "$dist"; fi

start=$(date +%s)
if [[ ! -x $venv/bin/python ]]; then
    echo "== creating venv $venv"
    "$python" -m venv "$venv"
fi
py=$venv/bin/python
echo "== installing build tools and the project"
"$py" -m pip install --quiet --upgrade pip
"$py" -m pip install --quiet -r "$here/requirements.txt"
# Install the wheel a user would get: sdist first, then the wheel built from that sdist. (A plain
# `pip install .` builds in the checkout's build/lib, which keeps modules deleted since the last
# build, so a stale module could end up in the bundle.)
rm -rf "$here/build/wheel"
"$py" -m build --outdir "$here/build/wheel" "$root" >"$here/build/wheel.log" 2>&1 \
    || { tail -30 "$here/build/wheel.log"; exit 1; }
wheel=$(ls "$here"/build/wheel/*.whl)
"$py" -m pip install --quiet "$wheel"
"$py" -m pip install --quiet --force-reinstall --no-deps "$wheel"

echo "== running PyInstaller"
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$here/build/work" "$here/opro-studio.spec"

bundle=$dist/opro-studio
cp "$here/install_desktop.sh" "$bundle/"
rm -rf "$bundle/linux"
cp -r "$here/linux" "$bundle/linux"

end=$(date +%s)
size=$(du -sh "$bundle" | cut -f1)
files=$(find "$bundle" -type f | wc -l)
echo "== built $bundle"
echo "build time: $((end - start)) s"
echo "bundle size: $size ($files files)"
if command -v tar >/dev/null && [[ ${OPRO_BUILD_ARCHIVE:-0} == 1 ]]; then
    version=$("$py" -c "import opro_gui; print(opro_gui.__version__)")
    archive=$dist/opro-studio-$version-linux-$(uname -m).tar.gz
    tar -C "$dist" -czf "$archive" opro-studio
    echo "archive: $archive ($(du -sh "$archive" | cut -f1))"
fi
