"""Use cases that span the ERP, the planning engine and the store, each in one commit scope.

The API, the CLI and the Temporal activities call these; none of them re-implements them.
"""
