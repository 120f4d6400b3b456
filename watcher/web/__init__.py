"""The review web page: curators judge provenance and accept or reject changes, then export them.

Owns: ``kit`` (app keys, access marks, sessions, rendering: what the page modules share), the page
modules ``login``, ``views`` and ``download``, ``app`` (only assembles them, adds the security headers
and serves), ``auth``, ``queries``, ``links``, ``worddiff``.
May import: ``export``, ``store``, ``diff``, ``config``, ``base``.
"""
