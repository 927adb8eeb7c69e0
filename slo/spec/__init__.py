"""SLO files: native objectives, k6-style thresholds and OpenSLO documents."""

from slo.spec.file import SloFile
from slo.spec.load import SloSpec, load_slo, parse_slo
from slo.spec.model import (
    DEFAULT_WINDOW_S,
    AvailabilityObjective,
    CpuObjective,
    CrossCheckConfig,
    ErrorRateObjective,
    LatencyObjective,
    MemorySlopeObjective,
    Objective,
    RatioObjective,
    Select,
    ServerLatencyObjective,
    TtftObjective,
    WsDropRateObjective,
)
from slo.spec.openslo import OpenSloDocument

__all__ = [
    "DEFAULT_WINDOW_S",
    "AvailabilityObjective",
    "CpuObjective",
    "CrossCheckConfig",
    "ErrorRateObjective",
    "LatencyObjective",
    "MemorySlopeObjective",
    "Objective",
    "OpenSloDocument",
    "RatioObjective",
    "Select",
    "ServerLatencyObjective",
    "SloFile",
    "SloSpec",
    "TtftObjective",
    "WsDropRateObjective",
    "load_slo",
    "parse_slo",
]
