#!/usr/bin/env python3
"""Simplifies the contours of the départements for the map of /lieux (drawn when no tile
server is configured): Douglas–Peucker on each ring, coordinates rounded to 0.001° (about
100 m), rings smaller than a few pixels at the map's zoom dropped. Python stdlib only.

    scripts/simplify-departements.py SOURCE.geojson data/territoires/departements.geojson

SOURCE: departements_contours.geojson (IGN Admin Express via the territories dataset).
"""
import json
import sys

TOLERANCE = 0.006  # degrees: ~500 m, invisible at the zoom of a département
MIN_AREA = 0.0004  # square degrees: islets under ~4 km² are not drawn
DIGITS = 3


def perpendicular(p, a, b):
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
    return ((x - x1 - t * dx) ** 2 + (y - y1 - t * dy) ** 2) ** 0.5


def douglas_peucker(points, tol):
    # Iterative, so that long coastlines do not hit the recursion limit.
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        start, end = stack.pop()
        best, index = 0.0, None
        for i in range(start + 1, end):
            d = perpendicular(points[i], points[start], points[end])
            if d > best:
                best, index = d, i
        if index is not None and best > tol:
            keep[index] = True
            stack.append((start, index))
            stack.append((index, end))
    return [p for p, k in zip(points, keep) if k]


def area(ring):
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))) / 2


def ring(points):
    simple = douglas_peucker(points, TOLERANCE)
    simple = [[round(x, DIGITS), round(y, DIGITS)] for x, y in simple]
    out = [p for i, p in enumerate(simple) if i == 0 or p != simple[i - 1]]
    if len(out) < 4 or area(out) < MIN_AREA:
        return None
    return out


def polygon(rings):
    outer = ring(rings[0])
    if outer is None:
        return None
    return [outer] + [r for r in map(ring, rings[1:]) if r is not None]


def main(source, target):
    with open(source, encoding="utf-8") as f:
        data = json.load(f)
    features = []
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]]
            if geometry["type"] == "Polygon"
            else geometry["coordinates"]
        )
        kept = [p for p in map(polygon, polygons) if p is not None]
        if not kept:
            # A small département (an island): keep its largest polygon all the same.
            kept = [max(polygons, key=lambda p: area(p[0]))]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": feature["properties"]["code"],
                    "nom": feature["properties"]["nom"],
                },
                "geometry": {"type": "MultiPolygon", "coordinates": kept},
            }
        )
    features.sort(key=lambda f: f["properties"]["code"])
    with open(target, "w", encoding="utf-8") as f:
        json.dump(
            {"type": "FeatureCollection", "features": features},
            f,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
