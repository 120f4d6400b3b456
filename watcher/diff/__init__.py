"""The semantic diff engine: two revisions of a file page in, field-level change records out.

Pure functions, no I/O: ``engine`` (the diff), ``wikitext``/``mediainfo`` (the models), ``noise``
(what is no change, what is maintenance), ``names`` (canonical spellings), ``objectid``.

Decisions where the issue left a choice:

- Comments are removed before parsing, as MediaWiki's preprocessor does; the page is parsed with
  ``skip_style_tags`` so that an unclosed ``''`` cannot hide a template (dreykh_modigliani sample).
- A page whose text names an info template that does not parse (unclosed) gives one ``text`` record
  with a line diff instead of field records; other broken markup is not detected.
- Language templates: an explicit code list (ISO 639-1 plus Commons' 3-letter/regional codes), only at
  the top level of a value; ``{{mld}}``, ``{{Multilingual description}}``, ``{{LangSwitch}}`` (``default``
  is language null) and ``{{Title|…|lang=xx}}`` split by language; ``{{other date|ca|…}}`` stays text.
- Tagging unchanged text is ``tagged``; the reverse (a tag taken away) is the language ``removed`` plus
  the untagged text ``added``.
- ``template`` records: top-level templates that are not info, licence or location templates; ``template``
  is the canonical name, ``old``/``new`` the whole call, so a parameter change is one ``changed``.
  An info template renamed (``{{Information}}`` → ``{{Artwork}}``) compares field by field, plus one
  ``template`` record with the two names.
- Licences: ``{{self|a|b}}`` counts as a and b, so wrapping alone is no change; a licence whose
  parameters change (``deathyear``) is ``changed``. Licences inside ``|permission=`` also count (and the
  parameter's own text change is reported too).
- Coordinates: top-level ``{{Location}}``/``{{Object location}}`` (and ``dec``) only; attributes such as
  ``scale:`` or ``heading:`` are ignored; several of one kind pair by order.
- Maintenance by default: categorisation and review templates, assessments (``{{Assessments}}``,
  ``{{QualityImage}}``, ``{{Picture of the day}}``) and hidden-style categories (``Media contributed by *``,
  ``Uploaded with *``, ``Taken with *``, licence categories...). Deletion tags stay ``content``: a museum
  wants to hear about them. Whether a category is hidden is known only to the API, not here.
- Structured data: MediaInfo ``descriptions`` give field ``structured description``. A statement's
  ``old``/``new`` is its main value only; a change of qualifiers, rank or references alone is
  ``changed`` with ``old == new`` and ``detail["changed"]`` naming what changed, next to
  ``qualifiers``/``old_qualifiers``, ``rank``/``old_rank``. Quantities read ``amount unit`` with the
  unit as a Q-id (no unit for "1") and no leading ``+``; a date's precision and calendar are part of its
  value (``detail["value_detail"]``). A slot that is ``None`` is "no structured data yet": the first
  caption or statement is ``added``.
- Object id: see ``objectid``; an ID template inside the parameter is returned whole.
"""

from watcher.diff.engine import RevisionModel, diff_revisions, parse_revision
from watcher.diff.mediainfo import MediaInfoModel, parse_mediainfo
from watcher.diff.model import DiffSettings, FieldChange, RevisionContent
from watcher.diff.objectid import find_object_id
from watcher.diff.wikitext import WikitextModel, parse_wikitext

__all__ = [
    "DiffSettings",
    "FieldChange",
    "MediaInfoModel",
    "RevisionContent",
    "RevisionModel",
    "WikitextModel",
    "diff_revisions",
    "find_object_id",
    "parse_mediainfo",
    "parse_revision",
    "parse_wikitext",
]
