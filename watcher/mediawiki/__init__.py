"""The one Action API client: serial requests, ``maxlag``, backoff, continuation, live and bulk queries.

Owns: ``client`` (the connection, etiquette, errors, revision look-ups for the live path), ``bulk``
(the batched queries of history mode: page histories, revision metadata, user groups), ``wire``
(what both share: values batched 50 per request, the parts of a response, which ids an answer named
gone and which it left unanswered), ``parse`` (answers → the client's records), ``checks`` (second
look-ups confirming what a listing left out), ``types`` (the plain records and errors all return),
``accounts`` (who made an edit: ``list=users`` facts of its editor, ``list=tags`` descriptions),
``names`` (user names as MediaWiki spells them; IP addresses and temporary accounts).
May import: ``config``, ``base``.
"""
