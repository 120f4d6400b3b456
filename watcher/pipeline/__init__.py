"""One path from a pair of revisions to change records, used by the live worker and by history mode.

Owns: ``labels`` (Wikidata labels of item values, cached), ``worker`` (inbox rows → both revisions
from the Action API → diff → records, committed with the row's completion).
May import: ``tracking``, ``store``, ``diff``, ``mediawiki``, ``stream``, ``config``, ``base``.
"""
