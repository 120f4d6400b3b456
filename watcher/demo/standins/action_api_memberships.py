"""``prop=categories`` and ``prop=templates`` of the Action API stand-in, on top of ``run_query``.

The shapes of ``ApiQueryCategories.php`` / ``ApiQueryLinks.php`` with ``formatversion=2``: each page
that has some gets ``categories: [{ns: 14, title}]`` (``templates: [{ns: 10, title}]``), limited to
``clcategories=`` (``tltemplates=``) where given; pages with none have no such key, missing pages only
``missing: true``. Every page's entries fit in one answer here (the client asks for at most 50 pages
and a filter), so ``cllimit``/``tllimit`` never continue.
"""

from __future__ import annotations

from typing import Any

from watcher.demo.standins.action_api_context import Context
from watcher.demo.standins.action_api_queries import run_query
from watcher.demo.standins.action_api_titles import InvalidTitle, normalize_title

__all__ = ["run_query_with_memberships"]

# prop → (parameter prefix, filter parameter, namespace of the entries)
MEMBERSHIPS = {"categories": ("cl", "clcategories", 14), "templates": ("tl", "tltemplates", 10)}


def run_query_with_memberships(ctx: Context) -> dict[str, Any]:
    """``action=query``, where ``prop=`` may also name categories and templates."""
    raw = ctx.params.get("prop")
    asked = [p for p in (raw or "").split("|") if p]
    extra = [p for p in asked if p in MEMBERSHIPS]
    if not extra:
        return run_query(ctx)
    rest = [p for p in asked if p not in MEMBERSHIPS]
    if rest:
        ctx.params["prop"] = "|".join(rest)
    else:
        del ctx.params["prop"]
    try:
        result = run_query(ctx)
    finally:
        assert raw is not None
        ctx.params["prop"] = raw
        ctx.used.add("prop")
    query = result.get("query")
    pages = query.get("pages") if isinstance(query, dict) else None
    for prop in extra:
        prefix, filter_name, namespace = MEMBERSHIPS[prop]
        only = set()
        for value in ctx.values(filter_name):
            try:
                only.add(normalize_title(value, namespace))
            except InvalidTitle:
                continue
        ctx.recognise(prefix)
        for out in pages or []:
            page = ctx.wiki.pages.get(str(out.get("title"))) if not out.get("missing") else None
            if page is None:
                continue
            names = page.categories().keys() if prop == "categories" else page.templates()
            hits = sorted(name for name in names if not only or name in only)
            if hits:
                out[prop] = [{"ns": namespace, "title": name} for name in hits]
    return result
