"""The foundation every stage stands on: value lists defined once, backoff and Retry-After, secret masking.

Owns: ``values`` (statuses, kinds, sources, formats, log levels: the one place each list is written),
``retry`` (capped exponential backoff with jitter, the restart-with-backoff supervisor, the Retry-After
parser), ``masking`` (passwords and tokens hidden in any text that is logged or shown), ``text``
(record values made safe for a terminal or a message: no escape sequences, controls or bidi overrides),
``tags`` (change tags in words: "mobile edit", "made with CropTool").
May import: the standard library only. Everything else in ``watcher`` may import it.
"""
