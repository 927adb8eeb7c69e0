"""Load generation: scenario files, Locust users, the WebSocket swarm, the runner.

Only the modules that drive Locust import it (it monkey-patches the process with gevent), so
``scenarios.record`` and the runner stay importable from every other room.
"""
