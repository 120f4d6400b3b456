"""Handing changes back: the terminal table, CSV and JSONL a collection system imports.

Owns: ``writers`` (the formats and how each is written).
May import: ``store``, ``diff``, ``config``, ``base``.
"""
