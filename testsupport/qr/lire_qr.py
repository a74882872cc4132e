"""Reads the QR codes of a PDF as a phone's camera would: each page rendered by poppler's
pdftoppm at 150 dpi, then decoded by ZXing (zxing-cpp). Prints a JSON list: for each page,
the texts of the QR codes found on it.

    python3 lire_qr.py carnet.pdf
"""

import json
import pathlib
import subprocess
import sys
import tempfile

import zxingcpp
from PIL import Image


def main(pdf: str) -> None:
    with tempfile.TemporaryDirectory() as dossier:
        subprocess.run(
            ["pdftoppm", "-r", "150", "-png", pdf, f"{dossier}/page"], check=True
        )
        pages = sorted(pathlib.Path(dossier).glob("page-*.png"))
        print(
            json.dumps(
                [
                    [r.text for r in zxingcpp.read_barcodes(Image.open(page))
                     if r.format == zxingcpp.BarcodeFormat.QRCode]
                    for page in pages
                ]
            )
        )


if __name__ == "__main__":
    main(sys.argv[1])
