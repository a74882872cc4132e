"""Reads an XLSX file with openpyxl and prints its sheets as JSON: {"feuilles": [name...],
"cellules": {name: [[value...]...]}}, dates as YYYY-MM-DD. Used by the Rust tests to
check an export with a reader Relais did not write."""
import datetime
import json
import sys

import openpyxl


def valeur(v):
    if isinstance(v, datetime.datetime):
        return v.date().isoformat()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def main(path):
    wb = openpyxl.load_workbook(path, read_only=True)
    out = {"feuilles": wb.sheetnames, "cellules": {}}
    for ws in wb.worksheets:
        out["cellules"][ws.title] = [
            [valeur(v) for v in row] for row in ws.iter_rows(values_only=True)
        ]
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])
