"""Tests here import ``locust`` in-process, so they only run inside a child pytest.

Locust monkey-patches the interpreter with gevent on import; in the main pytest process
that would break every later test that runs a server in a thread (measured: a uvicorn
server in a thread never answers once ``locust`` is imported). ``test_http_in_locust.py``
runs this folder in a fresh interpreter with ``SLOGATE_IN_LOCUST=1``.
"""

import os

if os.environ.get("SLOGATE_IN_LOCUST") != "1":
    collect_ignore_glob = ["test_*.py"]
