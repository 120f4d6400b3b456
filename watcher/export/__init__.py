"""Handing changes back: the terminal table, CSV and JSONL a collection system imports.

Owns: ``formats`` (the registry: each format's name, extension, content type and writer, once),
one module per format (``table``, ``csvfile``, ``jsonl``), ``shared`` (what they share), ``writers``
(writing records in a registered format).
May import: ``store``, ``diff``, ``config``, ``base``.
"""
