#!/usr/bin/env bash
# Copies Leaflet (the map of /lieux) from npm into crates/web/static/leaflet/.
#
# The copied files are committed: the server embeds crates/web/static/ at build time and
# never needs npm. Run this only after changing the version in
# crates/web/vendor-leaflet/package.json:
#
#   (cd crates/web/vendor-leaflet && npm install)
#   scripts/vendor-leaflet.sh
set -euo pipefail

cd "$(dirname "$0")/.."

SRC=crates/web/vendor-leaflet/node_modules/leaflet
DEST=crates/web/static/leaflet

if [ ! -f "$SRC/dist/leaflet.js" ]; then
  echo "vendor-leaflet: $SRC not found; run 'npm install' in crates/web/vendor-leaflet first" >&2
  exit 1
fi

rm -rf "$DEST"
mkdir -p "$DEST/images"
cp "$SRC/dist/leaflet.js" "$SRC/dist/leaflet.css" "$DEST/"
cp "$SRC"/dist/images/*.png "$DEST/images/"
cp "$SRC/LICENSE" "$DEST/LICENSE.txt"
# The source map is not shipped.
sed -i 's#^//\# sourceMappingURL=.*$##' "$DEST/leaflet.js"
node -p "require('./$SRC/package.json').version" > "$DEST/VERSION"

echo "vendor-leaflet: Leaflet $(cat "$DEST/VERSION") copied into $DEST ($(du -sb "$DEST" | cut -f1) bytes)"
