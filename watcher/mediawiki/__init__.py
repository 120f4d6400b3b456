"""The one Action API client: serial requests, ``maxlag``, backoff, continuation, live and bulk queries.

Owns: ``client`` (the connection, etiquette, errors, revision look-ups for the live path), ``bulk``
(the batched queries of history mode: page histories, revision metadata, user groups), ``wire``
(what both share: values batched 50 per request, the parts of a response), ``types`` (the plain
records both return).
May import: ``config``, ``base``.
"""
