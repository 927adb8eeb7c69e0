"""slogate: the CLI and the pipeline that wires the rooms together (composition root).

What every room shares (the exception tree, the YAML loader that reports file, line and
field, the run-record layout, atomic documents, durations) sits below all rooms, in
:mod:`foundation`.
"""

__version__ = "0.1.0"
