"""The API used by the TUI and the CLI, one module per domain.

Every call takes the acting user and enforces who may see or change what. Services return plain
dataclasses / pydantic models, never ORM rows.
"""
