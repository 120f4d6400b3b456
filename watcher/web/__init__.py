"""The review web page: curators judge provenance and accept or reject changes, then export them.

Owns: ``kit`` (app keys, access marks, sessions, rendering: what the page modules share), the page
modules ``login``, ``views`` (queue, change, export pages), ``decide`` (the review actions) and
``download``, ``overview`` (the agency's page and its monthly summary), ``app`` (only assembles them, adds the security headers and serves), ``auth``,
``queries`` (filters, counts, choices), ``grouped`` (a page of the queue grouped by file or edit), ``present`` (a card's words, times, template helpers), ``flash`` (the message after a
form, with its Undo), ``worddiff``; ``static/app.js`` enhances the page (in-place review,
keys, local times) without being needed.
May import: ``export``, ``store``, ``diff``, ``config``, ``base``.
"""
