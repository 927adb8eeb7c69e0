"""The run record's samples: the only code that writes or reads ``samples/`` and the time series.

The layout of a run directory and run.json are shared by every room: :mod:`foundation.layout`.
"""

from scenarios.record.reader import read_samples, read_stream, read_timeseries
from scenarios.record.schema import SAMPLE_SCHEMA, SampleKind
from scenarios.record.tail import StreamTail
from scenarios.record.writer import SampleColumns, SampleWriter, finalize_stream

__all__ = [
    "SAMPLE_SCHEMA",
    "SampleColumns",
    "SampleKind",
    "SampleWriter",
    "StreamTail",
    "finalize_stream",
    "read_samples",
    "read_stream",
    "read_timeseries",
]
