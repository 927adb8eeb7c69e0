"""One module per kind of SLI, behind one interface, and the registry that picks it.

| module | SLIs |
| --- | --- |
| ``latency.py`` | ``latency``, ``ttft`` |
| ``ratio.py`` | ``availability``, ``error_rate`` |
| ``ws_drop_rate.py`` | ``ws_drop_rate`` |
| ``server_latency.py`` | ``server_latency`` |
| ``memory_slope.py``, ``cpu.py`` | ``memory_slope``, ``cpu`` |

``base.py`` holds the :class:`SliKind` protocol and its answer types; ``grouped.py`` and
``single.py`` the assembly the sample SLIs and the outside-the-samples SLIs share;
``registry.py`` maps each objective model to its kind. Callers never ask an objective's type:
they ask its kind (:func:`kind_of`, :func:`traits_of`, :func:`min_events`,
:func:`threshold_text`).

Example::

    from slo.sli_kinds import kind_of, traits_of
    result = kind_of(objective).evaluate(objective, measurements)
    traits_of(objective).corrected   # judges latency corrected for coordinated omission
"""

from slo.sli_kinds.base import SliKind, Source, Threshold, Traits, WindowTest
from slo.sli_kinds.registry import KINDS, kind_of, min_events, threshold_text, traits_of

__all__ = [
    "KINDS",
    "SliKind",
    "Source",
    "Threshold",
    "Traits",
    "WindowTest",
    "kind_of",
    "min_events",
    "threshold_text",
    "traits_of",
]
