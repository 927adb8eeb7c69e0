"""Sample columns as numpy arrays, and selections over them (vectorised, no per-sample loops).

String columns (``kind``, ``name``, ``tier``, ``tenant``) are held as integer codes plus the
list of distinct values, so a selection such as ``name: "GET /v1/*"`` matches the glob
against the few distinct names once and then compares integer codes -- the cost is one
pass over an int32 array, not a string comparison per sample.

Example::

    cols = SampleColumns.from_arrow(read_samples(run_dir, columns=[...]))
    mask = cols.select(Select(kind="http"))
    p95 = percentiles(cols.latency_ms[mask], [95])[0]
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from slo.spec.model import Select

__all__ = ["CATEGORICAL", "NUMERIC", "BoolArray", "Categorical", "SampleColumns"]

CATEGORICAL: Final = ("kind", "name", "tier", "tenant")
NUMERIC: Final = ("ts", "intended_ts", "latency_ms", "ok", "status")

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Categorical:
    """A string column as ``codes`` (int32, index into ``categories``)."""

    codes: npt.NDArray[np.int32]
    categories: tuple[str, ...]

    @classmethod
    def from_arrow(cls, column: pa.ChunkedArray) -> Categorical:
        """Dictionary-encode ``column``; chunks may carry different dictionaries, so each
        chunk's codes are remapped onto one shared category list (a lookup per chunk)."""
        dictionary = pa.types.is_dictionary(column.type)
        encoded = column if dictionary else column.dictionary_encode()
        categories: dict[str, int] = {}
        parts: list[npt.NDArray[np.int32]] = []
        previous: pa.Array | None = None
        identity = True
        for chunk in encoded.chunks:
            if previous is None or not chunk.dictionary.equals(previous):
                previous = chunk.dictionary
                local = previous.to_pylist()
                lookup = np.fromiter(
                    (categories.setdefault(v, len(categories)) for v in local),
                    dtype=np.int32, count=len(local),
                )
                identity = bool(np.array_equal(lookup, np.arange(len(local))))
            indices = chunk.indices.to_numpy(zero_copy_only=False)
            # Parquet row groups usually share one dictionary order: then no gather is needed.
            parts.append(indices if identity else lookup[indices])
        codes = np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)
        return cls(codes.astype(np.int32, copy=False), tuple(categories))

    @classmethod
    def from_values(cls, values: Iterable[str]) -> Categorical:
        """Build from Python strings (tests, importers)."""
        return cls.from_arrow(pa.chunked_array([pa.array(list(values), type=pa.string())]))

    def matching(self, patterns: tuple[str, ...]) -> npt.NDArray[np.int32]:
        """Codes of categories equal to, or matching the glob of, any pattern."""
        hits = [
            i for i, value in enumerate(self.categories)
            if any(value == p or fnmatch.fnmatchcase(value, p) for p in patterns)
        ]
        return np.asarray(hits, dtype=np.int32)

    def mask(self, patterns: tuple[str, ...]) -> BoolArray:
        """Samples whose value matches any of ``patterns``."""
        codes = self.matching(patterns)
        if codes.size == 1:
            return np.asarray(self.codes == codes[0])
        return np.isin(self.codes, codes)


@dataclass(frozen=True, slots=True)
class SampleColumns:
    """The columns of a run's samples that an evaluation needs; absent ones are ``None``."""

    n: int
    ts: npt.NDArray[np.float64]
    ok: BoolArray
    latency_ms: npt.NDArray[np.float64] | None = None
    intended_ts: npt.NDArray[np.float64] | None = None
    status: npt.NDArray[np.int32] | None = None
    kind: Categorical | None = None
    name: Categorical | None = None
    tier: Categorical | None = None
    tenant: Categorical | None = None

    @classmethod
    def from_arrow(cls, table: pa.Table) -> SampleColumns:
        """Convert a samples table (any subset of the record's columns incl. ``ts``, ``ok``)."""
        def num(name: str, dtype: type[np.generic]) -> npt.NDArray[Any] | None:
            if name not in table.column_names:
                return None
            return np.asarray(table.column(name).to_numpy(), dtype=dtype)

        cats = {
            c: Categorical.from_arrow(table.column(c)) if c in table.column_names else None
            for c in CATEGORICAL
        }
        ts = num("ts", np.float64)
        ok = num("ok", np.bool_)
        if ts is None or ok is None:
            raise ValueError("samples need at least the ts and ok columns")
        return cls(
            n=table.num_rows,
            ts=ts,
            ok=ok,
            latency_ms=num("latency_ms", np.float64),
            intended_ts=num("intended_ts", np.float64),
            status=num("status", np.int32),
            **cats,
        )

    def categorical(self, column: str) -> Categorical:
        """The string column ``column``; it must have been loaded."""
        value = getattr(self, column)
        if not isinstance(value, Categorical):
            raise KeyError(f"column {column!r} was not loaded")
        return value

    def select(self, select: Select, since_ts: float | None = None) -> BoolArray:
        """Samples matching every field of ``select`` and sent at or after ``since_ts``."""
        mask: BoolArray = (
            np.ones(self.n, dtype=np.bool_) if since_ts is None else self.ts >= since_ts
        )
        for column in CATEGORICAL:
            patterns = select.patterns(column)
            if patterns is not None:
                mask &= self.categorical(column).mask(patterns)
        return mask

    def take(self, mask: BoolArray) -> SampleColumns:
        """The samples under ``mask`` (categories kept, so codes stay comparable)."""
        def cut(cat: Categorical | None) -> Categorical | None:
            return None if cat is None else Categorical(cat.codes[mask], cat.categories)

        def arr(a: npt.NDArray[Any] | None) -> npt.NDArray[Any] | None:
            return None if a is None else a[mask]

        return SampleColumns(
            n=int(np.count_nonzero(mask)), ts=self.ts[mask], ok=self.ok[mask],
            latency_ms=arr(self.latency_ms), intended_ts=arr(self.intended_ts),
            status=arr(self.status), kind=cut(self.kind), name=cut(self.name),
            tier=cut(self.tier), tenant=cut(self.tenant),
        )

    def groups(self, column: str, mask: BoolArray) -> list[tuple[str, BoolArray]]:
        """``(value, mask & column == value)`` for every value present under ``mask``."""
        cat = self.categorical(column)
        present = np.flatnonzero(np.bincount(cat.codes[mask], minlength=len(cat.categories)))
        return [(cat.categories[c], mask & (cat.codes == c)) for c in present]

