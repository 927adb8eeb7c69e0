"""Load from several machines through Locust's own master/worker engine (issue 13).

Runner side (no Locust): :func:`start_distributed`, :class:`DistributedHandle`,
:class:`DistributedSettings`. Worker side: ``slogate worker`` ->
:func:`scenarios.distributed.worker.run_worker` (imports Locust). Master process:
``python -m scenarios.distributed.master``. Wire messages and the load split:
:mod:`scenarios.distributed.protocol`; sample chunks: :mod:`scenarios.distributed.chunks`.
User docs: docs/http-load.md and docs/swarm.md ("Several machines").
"""

from scenarios.distributed.handle import DistributedHandle, DistributedSettings, start_distributed

__all__ = ["DistributedHandle", "DistributedSettings", "start_distributed"]
