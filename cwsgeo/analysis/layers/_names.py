"""Text helpers of the layers: tag values, list fields, line refs and comparable names."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..._text import fold

__all__: list[str] = []

_STOPWORDS = frozenset({"de", "del", "d", "la", "el", "l", "les", "els", "los", "las", "i",
                        "y", "the", "of", "and", "s"})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _tag(tags: Mapping[str, Any], key: str) -> str:
    return _text(tags.get(key)).strip().lower()


def _clean_text(value: str) -> str:
    return " ".join(value.split())


def _split(value: Any) -> list[str]:
    """Split a ``;``/``,`` list, a JSON array string or an array into clean parts."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return _split(json.loads(text))
            except ValueError:
                pass
        return [p.strip() for p in re.split(r"[;,]", text) if p.strip()]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value)]


def _natural(text: str) -> list[Any]:
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", text)]


def _join_lines(parts: Iterable[str]) -> str:
    return ";".join(sorted(set(parts), key=_natural))


def _norm_name(name: str) -> str:
    """Lower-case, no accents, punctuation, articles or ``*remark``: for comparing names."""
    text = name.split("*")[0] if name.split("*")[0].strip() else name
    text = text.replace("·", "").replace("’", "'")
    return " ".join(t for t in fold(text).split() if t not in _STOPWORDS)
