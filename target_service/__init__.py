"""The reference target: a multi-tenant AI-orchestration service built to be load-tested.

Never imports from the harness (``scenarios``, ``slo``, ``reports``, ``slogate``): it must
stand alone like any service a user points slogate at.
"""
