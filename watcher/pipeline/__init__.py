"""One path from a pair of revisions to change records, used by the live worker and by history mode.

Owns: ``records`` (a revision pair → change records and provenance: diff, language filter, labels;
what history mode uses too), ``labels`` (Wikidata labels of item values, cached), ``editors`` (the
editor facts and tags in words each record carries, looked up once per batch), ``worker`` (inbox
rows → both revisions from the Action API → records, committed with the row's completion),
``reverts`` (which changes a later edit undid or changed again: pure), ``queueing`` (an edit's records
queued with that applied, for the worker and history mode alike), ``revdel`` (pending changes of
revisions Commons hid are withdrawn).
May import: ``tracking``, ``store``, ``diff``, ``mediawiki``, ``stream``, ``config``, ``base``.
"""
