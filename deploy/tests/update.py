"""Regenerates what the tests keep in sync with the chart: the values table
of deploy/helm/peregrine/README.md, the chart's values.schema.json (from
schema.py) and deploy/kubernetes/peregrine.yaml.

    ~/.cache/peregrine/helm-venv/bin/python deploy/tests/update.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import chartlib as lib  # noqa: E402
import schema  # noqa: E402

SCHEMA_FILE = lib.CHART_DIR / "values.schema.json"


def main() -> None:
    text = schema.values_schema_json()
    if SCHEMA_FILE.read_text() != text:
        SCHEMA_FILE.write_text(text)
        print(f"updated {SCHEMA_FILE.relative_to(lib.ROOT)}")
    readme = lib.README.read_text()
    updated = lib.readme_with_table(readme)
    if updated != readme:
        lib.README.write_text(updated)
        print(f"updated {lib.README.relative_to(lib.ROOT)}")
    manifests = lib.plain_manifests()
    if not lib.MANIFESTS.exists() or lib.MANIFESTS.read_text() != manifests:
        lib.MANIFESTS.parent.mkdir(parents=True, exist_ok=True)
        lib.MANIFESTS.write_text(manifests)
        print(f"updated {lib.MANIFESTS.relative_to(lib.ROOT)}")


if __name__ == "__main__":
    main()
