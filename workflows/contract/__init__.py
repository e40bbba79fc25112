"""The workflows' contract: inputs, results, statuses, update/signal payloads and names.

Everything here is plain pydantic and constants, importable by `services/`, `activities/`
and `api/` without pulling in a workflow definition.
"""
