"""The one Action API client: serial requests, ``maxlag``, backoff, continuation, live and bulk queries.

Owns: ``client`` (the connection, etiquette, errors, revision look-ups for the live path), ``bulk``
(the batched queries of history mode: page histories, revision metadata, user groups), ``types``
(the plain records both return).
May import: ``config``, ``base``.
"""
