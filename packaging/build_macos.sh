#!/usr/bin/env bash
# macOS recipe: builds "OPRO Studio.app" (opro-gui as the app, the opro CLI beside it in
# Contents/MacOS) and a compressed .dmg with hdiutil.
#
# UNTESTED: written on Linux without a Mac. It follows PyInstaller's documented BUNDLE flow; expect
# to adjust it on first use. Not signed or notarized: Gatekeeper will ask users to right-click ▸
# Open the first time (codesign + notarytool need an Apple Developer ID).
#
#   packaging/build_macos.sh [--fresh]        PYTHON=python3.11 packaging/build_macos.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
venv=$here/build/venv-macos
dist=$here/dist
python=${PYTHON:-python3}

if [[ $(uname -s) != Darwin ]]; then
    echo "build_macos.sh runs on macOS only (use build.sh on Linux)" >&2
    exit 1
fi
if [[ ${1:-} == --fresh ]]; then rm -rf "$venv" "$here/build/work-macos" "$dist"; fi

start=$(date +%s)
[[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
py=$venv/bin/python
"$py" -m pip install --quiet --upgrade pip
"$py" -m pip install --quiet -r "$here/requirements.txt"
# The wheel built from the sdist (a plain `pip install .` can pick up stale modules in build/lib).
rm -rf "$here/build/wheel-macos"
"$py" -m build --outdir "$here/build/wheel-macos" "$root"
wheel=$(ls "$here"/build/wheel-macos/*.whl)
"$py" -m pip install --quiet "$wheel"
"$py" -m pip install --quiet --force-reinstall --no-deps "$wheel"

"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$here/build/work-macos" "$here/opro-studio.spec"

app="$dist/OPRO Studio.app"
[[ -d $app ]] || { echo "PyInstaller did not produce $app" >&2; exit 1; }
version=$("$py" -c "import opro_gui; print(opro_gui.__version__)")
dmg="$dist/OPRO-Studio-$version-macos-$(uname -m).dmg"

# A folder holding the app and a link to /Applications, so users can drag to install.
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "OPRO Studio $version" -srcfolder "$staging" -fs HFS+ \
    -format UDZO -ov "$dmg"

end=$(date +%s)
echo "build time: $((end - start)) s"
echo "app size: $(du -sh "$app" | cut -f1)"
echo "dmg: $dmg ($(du -sh "$dmg" | cut -f1))"
echo "CLI inside the app: \"$app/Contents/MacOS/opro\" --help"
