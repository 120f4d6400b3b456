"""``watcher history``: what the community changed since the museum's own last revision of each file.

Owns: ``plan`` (which files, from which baseline), ``walk`` (page histories through the bulk queries),
``progress`` (resumable per-file progress in the database), ``run`` (the whole run, coordinated with
the live path).
May import: ``pipeline``, ``tracking``, ``store``, ``diff``, ``mediawiki``, ``stream``, ``config``, ``base``.
"""
