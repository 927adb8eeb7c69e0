"""slogate: the CLI and the pipeline that wires the rooms together (composition root).

Also home to what every room shares: the exception tree (:mod:`slogate.errors`) and the
YAML loader that reports file, line and field (:mod:`slogate.yamlfile`).
"""

__version__ = "0.1.0"
