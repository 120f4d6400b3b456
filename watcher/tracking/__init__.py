"""Which files are the museum's, and the filter stage that keeps that set current from the stream.

Owns: ``resolver`` (the tracked set, resolved through the Action API from categories, uploaders,
templates and lists), ``ingest`` (stream batches → tracked-set changes and inbox rows, committed with
the cursor in one transaction), ``catchup`` (the same through ``list=recentchanges`` when the stored
position is older than the stream keeps), ``objectids`` (each tracked file's object id, looked up
from its current page for `watcher tracked`, stored for `watcher status`).
May import: ``store``, ``diff``, ``mediawiki``, ``stream``, ``config``, ``base``.
"""
