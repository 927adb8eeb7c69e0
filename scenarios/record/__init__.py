"""The run record: what a run leaves on disk, and the only code that reads or writes it."""

from scenarios.record.files import write_text_atomic
from scenarios.record.reader import read_samples, read_stream, read_timeseries
from scenarios.record.schema import (
    RUN_SCHEMA_VERSION,
    SAMPLE_SCHEMA,
    RunInfo,
    RunLayout,
    RunStatus,
    SampleKind,
)
from scenarios.record.tail import StreamTail
from scenarios.record.writer import SampleColumns, SampleWriter, finalize_stream

__all__ = [
    "RUN_SCHEMA_VERSION",
    "SAMPLE_SCHEMA",
    "RunInfo",
    "RunLayout",
    "RunStatus",
    "SampleColumns",
    "SampleKind",
    "SampleWriter",
    "StreamTail",
    "finalize_stream",
    "read_samples",
    "read_stream",
    "read_timeseries",
    "write_text_atomic",
]
