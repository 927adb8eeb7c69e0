"""Per-tenant quotas: request rate and concurrent sessions, in-process or in Redis."""
