"""Handing changes back: the terminal table, CSV and JSONL a collection system imports.

Owns: ``formats`` (the registry: each format's name, extension, content type and writer, once),
one module per format (``table``, ``csvfile``, ``jsonl``), ``shared`` (what they share), ``writers``
(writing records in a registered format), ``routine`` (which export marks what it wrote: the routine
selection only, decided once for the CLI and the review page).
May import: ``store``, ``diff``, ``config``, ``base``.
"""
