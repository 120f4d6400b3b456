"""The ``watcher`` command: shared options once, one module per family of commands.

Owns: ``options`` (``--config``, ``--log-level`` and the choices derived from the value lists),
``main`` (the group and the queue commands), ``history``, ``notify``, ``web``, ``demo``.
May import: everything.
"""
