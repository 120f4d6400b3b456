"""Canonical spellings of template, parameter and category names, and what counts as a language.

MediaWiki treats ``{{information}}``, ``{{ Template:Information }}`` and ``{{Information<!-- -->}}``
as one template, and ``|Other_versions=`` as ``|other versions=``; two revisions must be compared on
these canonical names or every cosmetic edit becomes a change.
"""

from __future__ import annotations

import re
from functools import lru_cache


def _wordlist(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Prefixes (before a colon) that make ``{{...}}`` a parser function, magic word or substitution
# rather than a template transclusion. Compared lower case.
_MAGIC_PREFIXES = _wordlist(
    """int subst safesubst msg msgnw raw lc uc lcfirst ucfirst urlencode anchorencode fullurl fullurle
    localurl localurle canonicalurl canonicalurle filepath ns nse padleft padright formatnum formatdate
    plural grammar gender tag pagesincategory pagesize protectionlevel protectionexpiry defaultsort
    defaultsortkey defaultcategorysort displaytitle special speciale bidi nsp numberingroup
    pagename pagenamee fullpagename fullpagenamee basepagename subpagename rootpagename talkpagename
    namespace namespacee articlepagename subjectpagename revisionid revisionuser pageid
    cascadingsources interwikilink interlanguagelink"""
)
# Variables written without a colon (case-sensitive upper case in MediaWiki).
_MAGIC_VARIABLES = _wordlist(
    """! = PAGENAME PAGENAMEE FULLPAGENAME FULLPAGENAMEE BASEPAGENAME SUBPAGENAME ROOTPAGENAME
    TALKPAGENAME SUBJECTPAGENAME ARTICLEPAGENAME NAMESPACE NAMESPACEE NAMESPACENUMBER SITENAME SERVER
    SERVERNAME SCRIPTPATH STYLEPATH CURRENTYEAR CURRENTMONTH CURRENTMONTH1 CURRENTMONTH2 CURRENTMONTHNAME
    CURRENTMONTHABBREV CURRENTDAY CURRENTDAY2 CURRENTDOW CURRENTDAYNAME CURRENTTIME CURRENTHOUR
    CURRENTWEEK CURRENTTIMESTAMP LOCALYEAR LOCALMONTH LOCALMONTHNAME LOCALDAY LOCALDAY2 LOCALDOW
    LOCALDAYNAME LOCALTIME LOCALHOUR LOCALWEEK LOCALTIMESTAMP REVISIONID REVISIONDAY REVISIONDAY2
    REVISIONMONTH REVISIONYEAR REVISIONTIMESTAMP REVISIONUSER REVISIONSIZE PAGEID PAGESIZE
    NUMBEROFPAGES NUMBEROFARTICLES NUMBEROFFILES NUMBEROFEDITS NUMBEROFUSERS NUMBEROFADMINS
    NUMBEROFACTIVEUSERS CONTENTLANGUAGE CONTENTLANG DIRMARK DIRECTIONMARK NOTOC NOEDITSECTION"""
)

# Language templates. An explicit list, not a pattern such as ``^[a-z]{2,3}(-…)?$``: that pattern
# also matches real non-language templates ({{own}}, {{unc}}, {{pd}}, {{tag}}...). All ISO 639-1
# codes, plus the 3-letter, regional and script variants that Commons has language templates for.
# ``ca`` in ``{{other date|ca|1750}}`` is a parameter, never looked up here: only templates are.
LANGUAGE_CODES = _wordlist(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy
    hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li
    ln lo lt lu lv mg mh mi mk ml mn mo mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os
    pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su sv sw ta te
    tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
    ace ady akk als ang anp arc arn ary arz ast atj avk awa azb ban bar bat-smg bbc bcl be-tarask
    be-x-old bjn bpy bqi bug bxr cbk-zam cdo ceb chr chy ckb crh crh-cyrl crh-latn csb de-at de-ch
    de-formal diq dsb dty egl egy eml en-ca en-gb en-us enm es-419 es-formal ext fil fiu-vro fon frc
    fro frm frp frr fur gag gan gcr glk gmh goh gom gor got grc gsw guc hak haw hbo hif hrx hsb hsn
    hyw ilo inh jam jbo kaa kab kbd kbp koi krc krj ksh ku-arab ku-latn lad lbe lez lfn lij lld lmo
    lrc ltg lzh mad mai map-bms mdf mhr min mni mnw mrj mwl myv mzn nah nan nap nds nds-nl nia non nov
    nqo nrm nso olo ota pag pam pap pcd pdc peo pfl pih pms pnb pnt prg pt-br rmy roa-rup roa-tara
    rue rup sah sat scn sco sga sgs shi shn skr sma smn sms sr-ec sr-el srn stq sux szl szy tay tcy
    tet tly tpi trv tum tyv udm vec vep vls vro war wuu xal xmf yue zea zgh zh-classical zh-cn
    zh-hans zh-hant zh-hk zh-min-nan zh-mo zh-my zh-sg zh-tw zh-yue"""
)

_COMMENT_OR_KEEP = re.compile(
    r"(<nowiki\b[^>]*?/>|<nowiki\b[^>]*>.*?(?:</nowiki\s*>|\Z)|<pre\b[^>]*>.*?(?:</pre\s*>|\Z))"
    r"|<!--.*?(?:-->|\Z)",
    re.DOTALL | re.IGNORECASE,
)
_SPACES = re.compile(r"[\s_]+")
_WHITESPACE = re.compile(r"\s+")
_TEMPLATE_PREFIX = re.compile(r"^template\s*:\s*", re.IGNORECASE)


def remove_comments(text: str) -> str:
    """Drop HTML comments the way MediaWiki's preprocessor does, before anything is parsed.

    Comments inside ``<nowiki>``/``<pre>`` are text and stay; an unclosed ``<!--`` runs to the end.
    """
    if "<!--" not in text:
        return text
    return _COMMENT_OR_KEEP.sub(lambda m: m.group(1) or "", text)


def collapse_spaces(text: str) -> str:
    """White space runs to one space, stripped: the comparison form of a value."""
    return _WHITESPACE.sub(" ", text).strip()


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=4096)
def template_name(raw: str) -> str | None:
    """The canonical name of a transcluded template, or None for parser functions and magic words.

    ``Template:`` prefix dropped, ``_`` and white space runs as one space, first letter upper case
    (also after a namespace prefix such as ``creator:``). ``subst:``/``safesubst:`` calls are not
    templates of the saved page (they are replaced on save), so they are None too.
    """
    name = _SPACES.sub(" ", remove_comments(raw)).strip()
    if not name or name.startswith("#") or "{" in name or "<" in name:
        return None
    if name in _MAGIC_VARIABLES:
        return None
    if ":" in name:
        prefix, rest = name.split(":", 1)
        if prefix.strip().lower() in _MAGIC_PREFIXES or prefix.strip() in _MAGIC_VARIABLES:
            return None
        name = _TEMPLATE_PREFIX.sub("", name)
        if ":" in name:
            prefix, rest = name.split(":", 1)
            name = f"{upper_first(prefix.strip())}:{upper_first(rest.strip())}"
    return upper_first(name) or None


def template_key(name: str) -> str:
    """Case-insensitive key for matching configured template names (config files are typed by hand)."""
    return name.casefold()


@lru_cache(maxsize=4096)
def param_name(raw: str) -> str:
    """Lower case, ``_`` as space, stripped: ``| Other_versions =`` is ``other versions``."""
    return _SPACES.sub(" ", remove_comments(raw)).strip().lower()


def language_of(name: str) -> str | None:
    """The language code a canonical template name stands for, or None."""
    code = name.lower()
    return code if code in LANGUAGE_CODES else None


def category_name(raw: str) -> str:
    """``_`` as space, white space collapsed, first letter upper case. (``str.split`` splits on the
    very characters ``\\s`` matches, and runs in C: a page may have hundreds of categories.)"""
    return upper_first(" ".join(raw.replace("_", " ").split()))
