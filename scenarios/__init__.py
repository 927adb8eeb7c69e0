"""Load generation: scenario files, Locust users, the WebSocket swarm, the runner. Only modules that drive Locust import it."""
