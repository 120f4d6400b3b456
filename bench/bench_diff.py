"""Cost of the semantic diff per revision pair, against the bare cost of parsing both texts.

Targets (issue 16): no edit takes more than 50 ms to diff, and the time grows near-linearly with the
number of categories an edit replaces; the whole diff (both models and their comparison) at most 1.5×
two ``mwparserfromhell.parse`` calls, measured in the same run on the same pairs. The corpus: every real
pair in tests/fixtures/wikitext, synthetic edits of every single sample, two edits of a ~100 KiB page
(an upload log of about 490 rows and 120 categories after a real description), and edits that replace 500
(and 200) categories at once: renamed, diffused and unrelated names mixed. Each call starts cold (no
parse or value form cached from an earlier call), as the first edit of a page does; within one call the
two revisions share what they share, as they do in the daemon.
Run: ``python -m bench.bench_diff`` (or ``python -m bench diff``).
"""

from __future__ import annotations

import gc
import json
import re
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import mwparserfromhell
import mwparserfromhell.parser

from watcher.diff import DiffSettings, RevisionContent, diff_revisions, names, normalise, wikitext

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "wikitext"
TARGET_RATIO = 1.5
TARGET_EDIT_MS = 50.0


def _edits(text: str) -> list[str]:
    """Edits curators see every day, applied to a real page where it has the place for them."""
    out: list[str] = []
    if "[[Category:" in text:
        out.append(text.replace("[[Category:", "[[Category:Added by a volunteer]]\n[[Category:", 1))
    if "{{en|" in text:
        out.append(text.replace("{{en|", "{{fr|1=Une description en français.}}\n{{en|", 1))
    dated = re.sub(r"(\|\s*date\s*=\s*)(\d{4})", r"\1{{circa|\2}}", text, count=1, flags=re.IGNORECASE)
    if dated != text:
        out.append(dated)
    out.append(text + "\n{{Uncategorized|year=2025|month=May|day=2}}\n")
    return out


def big_page(target: int = 100 * 1024) -> str:
    """A long but ordinary page: a multilingual description, an upload-log table, many categories."""
    base = (FIXTURES / "memucho_kolob_canyons_multilang.wikitext").read_text(encoding="utf-8")
    log = (FIXTURES / "pywikibot_transferred_from_idwiki.wikitext").read_text(encoding="utf-8")
    table = log[log.index("{|") : log.index("|}")]
    row = table[table.index("|-") :]
    parts = [base, "\n== {{Original upload log}} ==\n", table]
    size = sum(len(p) for p in parts)
    i = 0
    while size < target - 4000:
        line = row.replace("2018-01-07 01:03", f"2018-01-{i % 28 + 1:02d} {i % 24:02d}:03")
        parts.append(line)
        size += len(line)
        i += 1
    parts.append("\n|}\n")
    parts.extend(f"[[Category:Kolob Canyons in {1900 + k}]]\n" for k in range(120))
    return "".join(parts)


_SUBJECTS = ("Photographs", "Paintings", "Chairs", "Portraits", "Drawings", "Ceramics", "Silverware", "Maps")
_PLACES = ("Stockholm", "Uppsala", "Skokloster", "Göteborg", "Kalmar", "Visby", "Lund", "Falun", "Ystad")


def category_edit(count: int = 500) -> tuple[str, str]:
    """A real page with ``count`` categories, and the same page with every one of them replaced: a third
    respelled (a typo, punctuation, the word order of a name), a third diffused into a narrower
    category, a third swapped for unrelated ones, as a category bot or a HotCat mass edit leaves it."""
    page = (FIXTURES / "memucho_dalian_old_men.wikitext").read_text(encoding="utf-8")
    old: list[str] = []
    new: list[str] = []
    for i in range(count):
        subject, place = _SUBJECTS[i % len(_SUBJECTS)], _PLACES[i // len(_SUBJECTS) % len(_PLACES)]
        name = f"{subject} in {place} by the Nordic workshop no. {i}"
        old.append(name)
        if i % 3 == 0:
            new.append(name.replace("workshop", "worshop").replace("Nordic", "Nordic,"))
        elif i % 3 == 1:
            new.append(f"{name} in {1700 + i}")
        else:
            new.append(f"Objects of the {i}th collection survey, {place}")
    before = "".join(f"[[Category:{n}]]\n" for n in old)
    after = "".join(f"[[Category:{n}]]\n" for n in new)
    return page + before, page + after


def corpus() -> list[tuple[str, str, str]]:
    pairs: list[tuple[str, str, str]] = []
    for old in sorted(FIXTURES.glob("*.old.wikitext")):
        new = old.with_name(old.name.replace(".old.", ".new."))
        pairs.append(
            (old.name.split(".")[0], old.read_text(encoding="utf-8"), new.read_text(encoding="utf-8"))
        )
    for single in sorted(FIXTURES.glob("*.wikitext")):
        if ".old." in single.name or ".new." in single.name:
            continue
        text = single.read_text(encoding="utf-8")
        for n, edited in enumerate(_edits(text)):
            pairs.append((f"{single.stem}+edit{n}", text, edited))
    big = big_page()
    pairs.append(
        ("big-100KiB+category", big, big.replace("[[Category:Kolob Canyons]]", "[[Category:Kolob Arch]]"))
    )
    pairs.append(("big-100KiB+date", big, big.replace("|Date=1997-08", "|Date=1997-08-14")))
    for count in (200, 500):
        pairs.append((f"big-{count}-categories-replaced", *category_edit(count)))
    return pairs


def _clear_caches() -> None:
    """Every call starts cold, as a fresh revision does: no parse tree or value form is reused."""
    wikitext.parse_wikicode.cache_clear()
    wikitext._parse_prepared.cache_clear()
    wikitext.page_template_params.cache_clear()
    normalise.comparable.cache_clear()
    names.template_name.cache_clear()
    names.param_name.cache_clear()


def _time(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``repeats`` cold calls."""
    samples = []
    for _ in range(repeats):
        _clear_caches()
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _parse_both(old: str, new: str, skip_style_tags: bool) -> None:
    mwparserfromhell.parse(old, skip_style_tags=skip_style_tags)
    mwparserfromhell.parse(new, skip_style_tags=skip_style_tags)


def tokenizer() -> str:
    parser = mwparserfromhell.parser.Parser()  # type: ignore[no-untyped-call]
    name = type(parser._tokenizer).__name__  # the only way to see which tokenizer parse() uses
    return f"{name} (mwparserfromhell {mwparserfromhell.__version__}, use_c={mwparserfromhell.parser.use_c})"


def main() -> None:
    settings = DiffSettings()
    pairs = corpus()
    print(f"tokenizer: {tokenizer()}")
    if not mwparserfromhell.parser.use_c:
        print("WARNING: the C tokenizer is missing; parsing is several times slower (pure-Python fallback)")
    gc.collect()
    rows: list[tuple[str, int, float, float]] = []
    styleless: list[float] = []
    for name, old, new in pairs:
        size = len(old.encode()) + len(new.encode())
        repeats = 5 if size > 50_000 else 25
        a, b = RevisionContent(old), RevisionContent(new)
        # warm the interpreter once, then measure both in the same conditions
        diff_revisions(a, b, settings)
        parse = _time(partial(_parse_both, old, new, False), repeats)
        diff = _time(partial(diff_revisions, a, b, settings), repeats)
        # the engine parses with skip_style_tags (bold/italics as text): shown for comparison only
        styled = _time(partial(_parse_both, old, new, True), repeats)
        rows.append((name, size, diff, parse))
        styleless.append(styled)
    width = max(len(r[0]) for r in rows)
    print(f"{'pair':<{width}}  {'KiB':>6}  {'diff ms':>8}  {'parse ms':>8}  {'sst ms':>7}  ratio")
    for (name, size, diff, parse), styled in zip(rows, styleless, strict=True):
        print(
            f"{name:<{width}}  {size / 1024:6.1f}  {diff * 1e3:8.3f}  {parse * 1e3:8.3f}  {styled * 1e3:7.3f}"
            f"  {diff / parse:5.2f}"
        )
    diffs = [r[2] for r in rows]
    parses = [r[3] for r in rows]
    ratios = [r[2] / r[3] for r in rows]
    total = sum(diffs) / sum(parses)
    print(f"\n{len(rows)} pairs")
    print(
        f"diff per pair:   median {statistics.median(diffs) * 1e3:.3f} ms, p99 {_percentile(diffs, 0.99) * 1e3:.3f} ms"
    )
    print(
        f"parse per pair:  median {statistics.median(parses) * 1e3:.3f} ms, p99 {_percentile(parses, 0.99) * 1e3:.3f} ms"
    )
    print(f"ratio diff/parse: median {statistics.median(ratios):.2f}, p99 {_percentile(ratios, 0.99):.2f}, "
          f"over the whole corpus {total:.2f} (target ≤ {TARGET_RATIO})")  # fmt: skip
    big = [r for r in rows if r[0].startswith("big-")]
    for name, size, diff, parse in big:
        print(f"{name}: {size / 2048:.0f} KiB a side, diff {diff * 1e3:.1f} ms, parse {parse * 1e3:.1f} ms")
    small = [(d, p) for (n, _, d, p) in rows if not n.startswith("big-")]
    print(
        f"ratio over the sample-sized pairs alone: {sum(d for d, _ in small) / sum(p for _, p in small):.2f}"
    )
    print(f"ratio to the parse the engine runs (skip_style_tags): {sum(diffs) / sum(styleless):.2f}")
    print("within target" if total <= TARGET_RATIO else "OVER TARGET")
    by_name = {r[0]: r for r in rows}
    few, many = by_name["big-200-categories-replaced"], by_name["big-500-categories-replaced"]
    print(
        f"categories replaced: 200 in {few[2] * 1e3:.1f} ms, 500 in {many[2] * 1e3:.1f} ms "
        f"(× {many[2] / few[2]:.1f} for × 2.5 the names; quadratic would be × 6.3); "
        f"500 within {TARGET_EDIT_MS:.0f} ms: "
        + ("yes" if many[2] * 1e3 < TARGET_EDIT_MS else "NO, OVER TARGET")
    )
    slowest = max(rows, key=lambda r: r[2])
    print(
        f"slowest edit: {slowest[0]}, {slowest[2] * 1e3:.1f} ms (the bare parse of both texts:"
        f" {slowest[3] * 1e3:.1f} ms)"
    )
    over = [f"{name} ({diff * 1e3:.1f} ms)" for name, _, diff, _ in rows if diff * 1e3 > TARGET_EDIT_MS]
    print(
        f"every edit within {TARGET_EDIT_MS:.0f} ms: "
        + ("yes" if not over else f"NO, OVER TARGET: {', '.join(over)}")
    )
    structured()


def structured() -> None:
    """The structured-data side needs no wikitext parser: a real entity and an edit of it."""
    path = FIXTURES.parent / "mediainfo" / "M56656949_wbgetentities_entity.json"
    old = path.read_text(encoding="utf-8")
    data = json.loads(old)
    data["labels"]["en"] = {"language": "en", "value": "Abu Dhabi skyline"}
    data["statements"]["P180"] = [
        {
            "mainsnak": {
                "snaktype": "value",
                "property": "P180",
                "datavalue": {"value": {"entity-type": "item", "id": "Q1519"}, "type": "wikibase-entityid"},
            },
            "type": "statement",
            "id": "M56656949$0000-bench",
            "rank": "normal",
        }
    ]
    new = json.dumps(data)
    a, b = RevisionContent("x", old), RevisionContent("x", new)
    seconds = _time(lambda: diff_revisions(a, b), 50)
    print(
        f"structured data: {len(old) / 1024:.1f} KiB entity, caption + statement added: {seconds * 1e3:.3f} ms"
    )


if __name__ == "__main__":
    main()
