"""Handing changes back: the files a collection system imports, and the push to its API.

Owns: ``formats`` (the registry: each format's name, extension, content type and writer, once),
one module per format (``table``, ``csvfile``, ``jsonl``, ``annotations``: W3C Web Annotations),
``shared`` (what they share), ``delimited`` (the CSV encoder the profiles share, PHP-safe where an
importer reads with ``fgetcsv``), ``wide`` (one row per object in the museum's column names),
``profiles`` (import-ready files for a spreadsheet, CollectiveAccess and Omeka S), ``writers``
(``render_export``: the one way records become a file), ``routine`` (which export marks what it
wrote, and the retractions it carries: decided once for the CLI and the review page), ``push``
(the webhook: each accept and retraction from the review history, signed, in order), ``trust``
(a change's trust signals in words, for the review page and the messages alike), ``links`` (links
to the wiki, built only from the configured address), ``overview`` (each collection's month in
figures: the agency's page, ``watcher status`` and the summary read it), ``chart`` (its weeks as a
server-rendered SVG), ``summary`` (the monthly summary an agency forwards).
May import: ``store``, ``diff``, ``config``, ``base``.
"""
