"""One path from a pair of revisions to change records, used by the live worker and by history mode.

Owns: ``records`` (a revision pair → change records and provenance: diff, language filter, labels;
what history mode uses too), ``labels`` (Wikidata labels of item values, cached), ``worker`` (inbox
rows → both revisions from the Action API → records, committed with the row's completion).
May import: ``tracking``, ``store``, ``diff``, ``mediawiki``, ``stream``, ``config``, ``base``.
"""
