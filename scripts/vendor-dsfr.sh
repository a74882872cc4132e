#!/usr/bin/env bash
# Copies the minimum of the DSFR (Système de Design de l'État) that Relais needs
# from node_modules/@gouvfr/dsfr/dist into crates/web/static/dsfr/.
#
# The copied files are committed: the server embeds crates/web/static/ at build
# time, so a fresh clone builds and serves pages without npm. Run this script
# only after changing the DSFR version in package.json:
#
#   npm install            # needs .dsfr.yml (acceptance of the DSFR terms of use)
#   scripts/vendor-dsfr.sh
#
# What is copied:
#   - dsfr-relais.min.css: the core CSS and the CSS of the components listed in
#     COMPONENTS below, in one file (scripts/dsfr-bundle.mjs), instead of the 728 KB
#     dsfr.min.css of every component; their main build (no print sheet, no legacy
#     rules for browsers without CSS variables)
#   - dsfr-relais.module.min.js: the core script and the scripts of the components
#     listed in SCRIPTS below, in one file (no nomodule build: every browser we
#     support runs modules)
#   - the icon CSS of the icon families listed in ICON_FAMILIES below
#     (utility/icons/icons-<family>/icons-<family>.min.css)
#   - every file that the copied CSS references with a relative url(...):
#     the icon SVGs and the fonts, except the .woff fallbacks (every browser we
#     support takes the .woff2 listed first, so the .woff are never fetched)
#   - the artwork pictograms listed in ARTWORK below
#   - the favicon files
# The tree layout of dist/ is kept, so relative url(...) references resolve.
set -euo pipefail

cd "$(dirname "$0")/.."

# Icon families whose fr-icon-* classes the templates use. Add a family here
# (and re-run) before using an icon of another family in a template.
ICON_FAMILIES=(system arrows)

# Components whose fr-* classes the templates use (with those they depend on, as
# src/dsfr/component/*/.package.yml says), in the order of the DSFR's own
# component/main.scss. Add a component here (and re-run) before using it in a template:
#   grep -ohE 'fr-[a-z]+' crates/web/templates/*.html crates/web/static/*.js | sort -u
COMPONENTS=(upload badge logo button breadcrumb form link callout pagination alert radio
  checkbox input skiplink select modal navigation footer tile table header)

# Components whose behaviour the pages need (the header's menu, the breadcrumb's
# disclosure, …), in the order of the DSFR's component/main.js.
SCRIPTS=(button checkbox breadcrumb modal navigation tile header table)

# Artwork (pictograms) used by the templates through <svg><use href="…#artwork-…">.
ARTWORK=(
  background/ovoid.svg
  pictograms/system/technical-error.svg
  pictograms/digital/search.svg
  pictograms/environment/human-cooperation.svg
  pictograms/map/map-pin.svg
  pictograms/leisure/community.svg
  pictograms/digital/data-visualization.svg
  pictograms/digital/coding.svg
)

SRC=node_modules/@gouvfr/dsfr/dist
DEST=crates/web/static/dsfr

if [ ! -f "$SRC/dsfr.min.css" ]; then
  echo "vendor-dsfr: $SRC not found; run 'npm install' at the project root first" >&2
  exit 1
fi

version=$(node -p "require('./node_modules/@gouvfr/dsfr/package.json').version")

rm -rf "$DEST"
mkdir -p "$DEST"

copy() { # copy a path relative to $SRC, keeping its directory
  mkdir -p "$DEST/$(dirname "$1")"
  cp "$SRC/$1" "$DEST/$1"
}

bundle_css=(core/core.main.min.css)
for c in "${COMPONENTS[@]}"; do
  bundle_css+=("component/$c/$c.main.min.css")
done
bundle_js=(core/core.module.min.js)
for c in "${SCRIPTS[@]}"; do
  bundle_js+=("component/$c/$c.module.min.js")
done
node scripts/dsfr-bundle.mjs "$SRC" "$DEST/dsfr-relais.min.css" "${bundle_css[@]}" >/dev/null
node scripts/dsfr-bundle.mjs "$SRC" "$DEST/dsfr-relais.module.min.js" "${bundle_js[@]}" >/dev/null

css_files=(dsfr-relais.min.css)
for family in "${ICON_FAMILIES[@]}"; do
  css_files+=("utility/icons/icons-$family/icons-$family.min.css")
  copy "utility/icons/icons-$family/icons-$family.min.css"
done

# Strip the source map comments: the maps are not shipped.
for f in "${css_files[@]}"; do
  sed -i -e 's#/\*\# sourceMappingURL=[^*]*\*/##g' "$DEST/$f"
done

# Every relative url(...) of the shipped CSS, resolved against the CSS file's directory.
missing=0
for css in "${css_files[@]}"; do
  dir=$(dirname "$css")
  grep -o 'url([^)]*)' "$DEST/$css" \
    | sed -e 's/^url(//' -e 's/)$//' -e "s/^[\"']//" -e "s/[\"']\$//" -e 's/[?#].*$//' \
    | { grep -v -e '^data:' -e '^https\?:' -e '^/' -e '^$' || true; } \
    | sort -u \
    | while read -r ref; do
        path=$(realpath -m --relative-to="$PWD/$SRC" "$PWD/$SRC/$dir/$ref")
        case "$path" in
          *.woff) continue ;; # woff2 only, see above
        esac
        if [ -f "$SRC/$path" ]; then
          [ -f "$DEST/$path" ] || copy "$path"
        else
          echo "vendor-dsfr: $css references $ref, not found in $SRC" >&2
          exit 1
        fi
      done || missing=1
done
[ "$missing" = 0 ] || exit 1

for f in "${ARTWORK[@]}"; do
  copy "artwork/$f"
done

mkdir -p "$DEST/favicon"
for f in favicon.svg favicon.ico apple-touch-icon.png android-chrome-192x192.png android-chrome-512x512.png manifest.webmanifest; do
  copy "favicon/$f"
done

cp node_modules/@gouvfr/dsfr/LICENSE.md "$DEST/LICENSE.md"
printf '%s\n' "$version" > "$DEST/VERSION"

echo "vendor-dsfr: DSFR $version copied into $DEST ($(du -sb "$DEST" | cut -f1) bytes, $(find "$DEST" -type f | wc -l) files)"
