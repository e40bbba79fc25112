"""Fingerprints of stored content: what a sync read, what a plan was made from.

The hash is of canonical JSON (sorted keys, no spaces), so equal content gives an equal
fingerprint whatever order it was built in. Fingerprints are stored and compared across
releases: changing the encoding would make every customer's next review look changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def content_fingerprint(content: Mapping[str, Any]) -> str:
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()
