"""Validates a data·inclusion v1 export with the models of the `data-inclusion-schema`
package: every structure and every service, each service's structure present, ids
unique. Prints each error; exits 1 if there is any.

Usage: python validate_data_inclusion.py STRUCTURES.json SERVICES.json
"""

import json
import sys
from collections import Counter

import pydantic
from data_inclusion.schema import v1


def validate(path, model, label):
    with open(path, encoding="utf-8") as f:
        items = json.load(f)
    errors, warnings, valid = [], 0, []
    for n, item in enumerate(items, start=1):
        try:
            valid.append(model.model_validate(item))
        except pydantic.ValidationError as e:
            for err in e.errors():
                where = ".".join(str(p) for p in err["loc"])
                errors.append(f"{label} n° {n} ({item.get('id')}) {where} : {err['msg']}")
            continue
        # The package's warnings (e.g. a name ending with a period) do not fail.
        try:
            model.model_validate(item, context={"ignore_warnings": False})
        except pydantic.ValidationError:
            warnings += 1
    for id_, count in Counter(i.get("id") for i in items).items():
        if count > 1:
            errors.append(f"{label} : id {id_} présent {count} fois")
    return items, valid, errors, warnings


def main(structures_path, services_path):
    structures, s_valid, s_errors, s_warnings = validate(
        structures_path, v1.Structure, "structure"
    )
    services, v_valid, v_errors, v_warnings = validate(
        services_path, v1.Service, "service"
    )
    ids = {s.get("id") for s in structures}
    orphans = [s.get("id") for s in services if s.get("structure_id") not in ids]
    errors = s_errors + v_errors
    errors += [f"service {o} : structure_id absent des structures" for o in orphans]
    for e in errors[:200]:
        print(e)
    print(
        f"data·inclusion v1 (data-inclusion-schema) : {len(s_valid)}/{len(structures)} "
        f"structures valides, {len(v_valid)}/{len(services)} services valides, "
        f"{len(orphans)} service(s) sans structure, {len(errors)} erreur(s), "
        f"{s_warnings + v_warnings} avertissement(s)"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
