#!/usr/bin/env bash
# Installs (or with --uninstall removes) OPRO Studio's desktop entry, AppStream metadata, .opro MIME
# type and icons for the current user under ${XDG_DATA_HOME:-~/.local/share}. No root needed.
#
#   packaging/install_desktop.sh                  # Exec = opro-gui found on PATH (pipx/pip install)
#   packaging/install_desktop.sh --exec /opt/opro-studio/opro-gui   # e.g. a PyInstaller bundle
#   packaging/install_desktop.sh --uninstall
#
# Works from a source checkout (packaging/ + resources/) and from a PyInstaller bundle folder, where
# build.sh copies this script next to the executables (icons then come from _internal/resources).
set -euo pipefail

APP_ID=io.github.opro_studio.OproStudio
MIME_ICON=application-x-opro-project
APP_SIZES=(16 24 32 48 64 128 256 512)
MIME_SIZES=(16 24 32 48 64 128 256)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec_path=""
uninstall=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --exec) exec_path=$2; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done

linux_dir=$here/linux
icons_dir=""
for d in "$here/../resources/icons" "$here/_internal/resources/icons" "$here/resources/icons"; do
    if [[ -f $d/opro-studio.svg ]]; then icons_dir=$(cd "$d" && pwd); break; fi
done
[[ -d $linux_dir ]] || { echo "missing $linux_dir" >&2; exit 1; }
[[ -n $icons_dir ]] || { echo "icons not found beside $here" >&2; exit 1; }

data=${XDG_DATA_HOME:-$HOME/.local/share}
hicolor=$data/icons/hicolor
targets=(
    "$data/applications/$APP_ID.desktop"
    "$data/metainfo/$APP_ID.metainfo.xml"
    "$data/mime/packages/$APP_ID-mime.xml"
    "$hicolor/scalable/apps/$APP_ID.svg"
    "$hicolor/scalable/mimetypes/$MIME_ICON.svg"
)
for s in "${APP_SIZES[@]}"; do targets+=("$hicolor/${s}x${s}/apps/$APP_ID.png"); done
for s in "${MIME_SIZES[@]}"; do targets+=("$hicolor/${s}x${s}/mimetypes/$MIME_ICON.png"); done

refresh() {
    if command -v update-mime-database >/dev/null; then update-mime-database "$data/mime"; fi
    if command -v update-desktop-database >/dev/null; then
        update-desktop-database "$data/applications" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null; then
        gtk-update-icon-cache -f -t -q "$hicolor" || true
    fi
}

if [[ $uninstall == 1 ]]; then
    rm -f "${targets[@]}"
    mkdir -p "$data/mime/packages" "$data/applications"
    refresh
    echo "Removed OPRO Studio desktop integration from $data"
    exit 0
fi

if [[ -z $exec_path ]]; then
    if [[ -x $here/opro-gui ]]; then
        exec_path=$here/opro-gui            # inside a PyInstaller bundle folder
    elif command -v opro-gui >/dev/null; then
        exec_path=$(command -v opro-gui)     # pipx / pip install
    else
        echo "warning: opro-gui is not on PATH; the menu entry will run plain 'opro-gui'" >&2
        exec_path=opro-gui
    fi
fi
# Desktop Entry spec: quote the program when it contains a space.
exec_field=$exec_path
[[ $exec_path == *" "* ]] && exec_field="\"$exec_path\""

install -d "$data/applications" "$data/metainfo" "$data/mime/packages"
sed -e "s|^Exec=.*|Exec=$exec_field %f|" -e "s|^TryExec=.*|TryExec=$exec_path|" \
    "$linux_dir/$APP_ID.desktop" >"$data/applications/$APP_ID.desktop"
chmod 644 "$data/applications/$APP_ID.desktop"
install -m644 "$linux_dir/$APP_ID.metainfo.xml" "$data/metainfo/$APP_ID.metainfo.xml"
install -m644 "$linux_dir/opro-studio-mime.xml" "$data/mime/packages/$APP_ID-mime.xml"
install -Dm644 "$icons_dir/opro-studio.svg" "$hicolor/scalable/apps/$APP_ID.svg"
install -Dm644 "$icons_dir/$MIME_ICON.svg" "$hicolor/scalable/mimetypes/$MIME_ICON.svg"
for s in "${APP_SIZES[@]}"; do
    install -Dm644 "$icons_dir/opro-studio-$s.png" "$hicolor/${s}x${s}/apps/$APP_ID.png"
done
for s in "${MIME_SIZES[@]}"; do
    install -Dm644 "$icons_dir/$MIME_ICON-$s.png" "$hicolor/${s}x${s}/mimetypes/$MIME_ICON.png"
done
refresh
echo "Installed OPRO Studio desktop integration into $data (Exec=$exec_field)"
