"""Checks a pain.001 file with tools Relais does not write: the ISO 20022 schema shipped
by sepaxml (its namespace says which version), then every IBAN and BIC with schwifty.

    python3 verifier_pain001.py FICHIER.xml

Prints one JSON line: the schema, the transfers (name, IBAN, amount), the control sum;
exits 1 with the reason on any failure.
"""
import json
import os
import sys
from decimal import Decimal
from xml.etree import ElementTree

import sepaxml
import xmlschema
from schwifty import BIC, IBAN


def main(path):
    tree = ElementTree.parse(path)
    root = tree.getroot()
    ns = root.tag[1:].split("}")[0]
    version = ns.rsplit(":", 1)[1]
    schema = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", version + ".xsd")
    if not os.path.exists(schema):
        sys.exit(f"aucun schéma {version} dans sepaxml")
    xmlschema.XMLSchema(schema).validate(path)
    q = {"p": ns}
    for iban in root.iterfind(".//p:IBAN", q):
        IBAN(iban.text)  # raises on a wrong key, length or country
    for tag in ("BICFI", "BIC"):
        for bic in root.iterfind(f".//p:{tag}", q):
            BIC(bic.text)
    transfers = []
    for tx in root.iterfind(".//p:CdtTrfTxInf", q):
        transfers.append({
            "nom": tx.find("p:Cdtr/p:Nm", q).text,
            "iban": tx.find("p:CdtrAcct/p:Id/p:IBAN", q).text,
            "montant": tx.find("p:Amt/p:InstdAmt", q).text,
        })
    control = root.find(".//p:GrpHdr/p:CtrlSum", q).text
    total = sum(Decimal(t["montant"]) for t in transfers)
    if Decimal(control) != total:
        sys.exit(f"somme de contrôle {control} ≠ {total}")
    print(json.dumps({"schema": version, "virements": transfers, "total": control}))


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as e:  # the reason, in one line, for the test's message
        sys.exit(f"{type(e).__name__}: {e}")
