"""The semantic diff engine: two revisions of a file page in, field-level change records out.

Pure functions, no I/O: ``engine`` (the diff), ``wikitext``/``mediainfo`` (the models), ``normalise``
(``comparable``: the one normalisation of a value, when two spellings are one), ``redirects`` (template
redirects, built in and from the wiki), ``conversion`` (values moved when a template is converted),
``noise`` (what is maintenance, category renames), ``nesting`` (pages nested deeper than the parser
follows), ``names`` (canonical spellings), ``objectid``. See docs/diff.md.

Decisions where the issue left a choice:

- Comments are removed before parsing, as MediaWiki's preprocessor does; the page is parsed with
  ``skip_style_tags`` so that an unclosed ``''`` cannot hide a template (dreykh_modigliani sample).
- A page whose text names an info template that does not parse (unclosed), or whose templates nest
  deeper than the parser follows, gives one ``text`` record with a line diff instead of field records;
  other broken markup is not detected.
- Template names resolve redirects first (``{{Painting}}`` is ``{{Artwork}}``): a built-in table of
  confirmed Commons redirects, extended at run time by ``DiffSettings.template_redirects``.
- Values compare by ``normalise.comparable``: markup spellings (``<br />``, entities, no-break spaces,
  ``{{en|1=x}}``, empty nested parameters...) are no change; ``old``/``new`` keep the raw wikitext.
- Language templates: an explicit code list (ISO 639-1 plus Commons' 3-letter/regional codes), only at
  the top level of a value; ``{{mld}}``, ``{{Multilingual description}}``, ``{{LangSwitch}}`` (``default``
  is language null) and ``{{Title|…|lang=xx}}`` split by language; ``{{other date|ca|…}}`` stays text.
- Tagging unchanged text is ``tagged``; the reverse (a tag taken away) is the language ``removed`` plus
  the untagged text ``added``.
- ``template`` records: top-level templates that are not info, licence or location templates; ``template``
  is the canonical name, ``old``/``new`` the whole call, so a parameter change is one ``changed``.
  An info template renamed (``{{Information}}`` → ``{{Artwork}}``), or a page-level template converted
  into one, compares as a conversion: values moved unchanged between parameters make no record (listed
  in the one ``template`` record's ``detail["moved"]``), values rewritten into a new field one
  ``changed`` record there (``detail["moved from"]``).
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
from watcher.diff.normalise import comparable
from watcher.diff.objectid import find_object_id
from watcher.diff.wikitext import WikitextModel, parse_wikitext

__all__ = [
    "DiffSettings",
    "FieldChange",
    "MediaInfoModel",
    "RevisionContent",
    "RevisionModel",
    "WikitextModel",
    "comparable",
    "diff_revisions",
    "find_object_id",
    "parse_mediainfo",
    "parse_revision",
    "parse_wikitext",
]
