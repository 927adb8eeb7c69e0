"""The bottom room: what every room of slogate shares, importing none of them.

- :mod:`foundation.errors`: the one exception tree and the exit code of each branch.
- :mod:`foundation.yamlfile`: YAML into pydantic, errors naming file, line and field.
- :mod:`foundation.durations`: the one duration grammar (``30s``, ``1h30m``, ``30d``).
- :mod:`foundation.documents`: atomic writes and schema-versioned JSON documents.
- :mod:`foundation.layout`: the run directory's file names and ``run.json``.

Arrows only point down here: ``scenarios``, ``slo``, ``reports``, ``target_service`` and
``slogate`` may import ``foundation``; ``foundation`` imports only third-party libraries
(``tests/foundation/test_bottom_room.py`` checks it).
"""
