#!/usr/bin/env bash
# Validates the Linux desktop integration: AppStream metainfo (appstreamcli), the .desktop entry
# (desktop-file-validate), the .opro MIME type (compiled and queried through GLib: by glob, by
# SQLite application_id magic, and a plain SQLite file must NOT match), and a user-local
# install/uninstall round trip into a throwaway XDG_DATA_HOME. Installs the tools with apt-get
# (Debian/Ubuntu, as root) when they are missing. Exit status 0 means every check passed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
linux=$here/linux
APP_ID=io.github.opro_studio.OproStudio

need=()
command -v appstreamcli >/dev/null || need+=(appstream)
command -v desktop-file-validate >/dev/null || need+=(desktop-file-utils)
command -v update-mime-database >/dev/null || need+=(shared-mime-info)
command -v gio >/dev/null || need+=(libglib2.0-bin)
if [[ ${#need[@]} -gt 0 ]]; then
    echo "installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== AppStream metainfo"
appstreamcli validate --no-net "$linux/$APP_ID.metainfo.xml"

echo "== desktop entry"
desktop-file-validate "$linux/$APP_ID.desktop"
echo "ok"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== MIME type"
mkdir -p "$tmp/share/mime/packages"
cp "$linux/opro-studio-mime.xml" "$tmp/share/mime/packages/"
XDG_DATA_DIRS="$tmp/share:/usr/share" update-mime-database "$tmp/share/mime"
python3 - "$tmp" <<'EOF'
import sqlite3, sys
d = sys.argv[1]
for name, app_id in (("by-glob.opro", 0), ("by-magic.bin", 0x4F50524F), ("plain.sqlite3", 0)):
    con = sqlite3.connect(f"{d}/{name}")
    con.execute(f"PRAGMA application_id = {app_id}")
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
EOF
content_type() {
    XDG_DATA_DIRS="$tmp/share:/usr/share" XDG_DATA_HOME="$tmp/none" \
        gio info -a standard::content-type "$1" | sed -n 's/.*standard::content-type: //p'
}
expect() {
    local got
    got=$(content_type "$tmp/$1")
    if [[ $got != "$2" ]]; then echo "FAIL: $1 detected as '$got', expected '$2'" >&2; exit 1; fi
    echo "ok: $1 -> $got"
}
expect by-glob.opro application/x-opro-project
expect by-magic.bin application/x-opro-project
expect plain.sqlite3 application/vnd.sqlite3

echo "== user-local install round trip"
XDG_DATA_HOME="$tmp/home" "$here/install_desktop.sh" --exec /opt/OPRO\ Studio/opro-gui
for f in "applications/$APP_ID.desktop" "metainfo/$APP_ID.metainfo.xml" \
    "icons/hicolor/256x256/apps/$APP_ID.png" "icons/hicolor/scalable/mimetypes/application-x-opro-project.svg" \
    "mime/packages/$APP_ID-mime.xml" "mime/mime.cache"; do
    [[ -f $tmp/home/$f ]] || { echo "FAIL: $f not installed" >&2; exit 1; }
done
grep -qx 'Exec="/opt/OPRO Studio/opro-gui" %f' "$tmp/home/applications/$APP_ID.desktop" \
    || { echo "FAIL: Exec line not rewritten" >&2; exit 1; }
desktop-file-validate "$tmp/home/applications/$APP_ID.desktop"
XDG_DATA_HOME="$tmp/home" "$here/install_desktop.sh" --uninstall
[[ ! -e $tmp/home/applications/$APP_ID.desktop ]] || { echo "FAIL: uninstall left files" >&2; exit 1; }
echo "ok"
echo "ALL DESKTOP CHECKS PASSED"
