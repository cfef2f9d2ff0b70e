"""Print the JSON Schema of autostack.yml: `python -m deployer.schema > docs/autostack.schema.json`."""

from __future__ import annotations

import sys

from deployer.config import schema_text

if __name__ == "__main__":
    sys.stdout.write(schema_text())
