"""Wikitext as the text a reader sees (issue 15, point 2): real sample values, the common templates,
and properties every input keeps (never raises, plain text comes back as it is)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.diff import all_wikitext_samples, diff_text
from tests.support.fixtures import wikitext
from watcher.diff import DiffSettings, parse_wikitext
from watcher.diff.normalise import same_value
from watcher.diff.plaintext import date_words, licence_words, tidy, to_text

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def param(sample: str, template: str, name: str) -> str:
    """The raw wikitext of one info-template parameter of a real sample page."""
    model = parse_wikitext(wikitext(sample), DiffSettings())
    info = next(t for t in model.info if t.name == template)
    found = info.param(name)
    assert found is not None, (sample, name)
    return found.raw


@pytest.mark.parametrize(
    ("sample", "template", "name", "words"),
    [
        ("lsh_glam_batch_stol_103896.wikitext", "LSH artwork", "date", "circa 1750"),
        ("lsh_glam_batch_stol_103896.wikitext", "LSH artwork", "dimensions", "height 1020 mm, width 700 mm, depth 760 mm"),
        ("lsh_glam_batch_armband_98906.wikitext", "LSH artwork", "manufacturer", "Karl XV av Sverige-Norge"),
        ("lsh_glam_batch_armband_98906.wikitext", "LSH artwork", "photographer", "Erik Lernestål"),
        ("lsh_glam_batch_armband_98906.wikitext", "LSH artwork", "dimensions", "• weight 13 g\n• length 205 mm"),
        ("lsh_glam_batch_armband_98906.wikitext", "LSH artwork", "original caption",
         "Armband av träkulor, 1842.\nNyckelord: Föremålsbild, Runda, Armband, Trä"),
        ("dreykh_modigliani_artwork.wikitext", "Artwork", "artist", "Amedeo Modigliani"),
        ("dreykh_modigliani_artwork.wikitext", "Artwork", "title", "Portrait de Picasso"),
        ("dreykh_modigliani_artwork.wikitext", "Artwork", "medium", "oil on canvas"),
        ("dreykh_modigliani_artwork.wikitext", "Artwork", "institution", "private collection"),
        ("dreykh_modigliani_artwork.wikitext", "Artwork", "location", "unknown location"),
        ("memucho_artwork_school_of_athens.wikitext", "Artwork", "artist", "Raffaello Sanzio"),
        ("memucho_artwork_school_of_athens.wikitext", "Artwork", "institution", "Musei Vaticani"),
        ("memucho_artwork_school_of_athens.wikitext", "Artwork", "title",
         "Scuola di Atene\nDie Schule von Athen\nΗ Σχολή των Αθηνών\nThe School of Athens\nLa escuela de Atenas."),
        ("croptool_algoma_steel.old.wikitext", "Information", "date", "30 July 2006 (according to EXIF data)"),
        ("croptool_algoma_steel.old.wikitext", "Information", "author", "Fungus Guy (assumed)"),
        ("croptool_algoma_steel.old.wikitext", "Information", "source", "own work (assumed)"),
        ("memucho_anjuta_transferred.wikitext", "Information", "date", "25 June 2005 (original upload date)"),
        ("memucho_kolob_canyons_multilang.wikitext", "Information", "source", "own work, Collection Michael Gäbler"),
        ("memucho_infobox_aircraft_image.wikitext", "Infobox aircraft image", "other fields",
         "Construction number: 2120"),
        ("dreykh_crassula_information.wikitext", "Information", "description",
         "Crassula arborescens, Botanic Garden, Munich, Germany\n"
         "Crassula arborescens, Jardín Botánico, Múnich, Alemania\n"
         "Crassula arborescens, Jardin botanique, Munich, Allemagne"),
    ],
)  # fmt: skip
def test_real_sample_values_read_as_commons_shows_them(
    sample: str, template: str, name: str, words: str
) -> None:
    assert to_text(param(sample, template, name)) == words


def test_the_values_of_a_real_edit_read_without_markup() -> None:
    """The {{mld}} pair: the removed German entry reads as its text, links and italics gone."""
    changes = diff_text(
        wikitext("memucho_platichthys_mld.old.wikitext"), wikitext("memucho_platichthys_mld.new.wikitext")
    )
    german = next(c for c in changes if c.language == "de")
    assert german.old is not None and "[[:de:Flunder|Flunder]]" in german.old  # the record keeps the wikitext
    assert to_text(german.old) == "Eine Flunder, Platichthys flesus, nahe dem estnischen Dorf Vääna-Jõesuu"
    english = next(c for c in changes if c.language == "en")
    assert to_text(english.old) == "Platichthys flesus near Vääna-Jõesuu in Estonia."


@pytest.mark.parametrize(
    ("markup", "words"),
    [
        ("[[link|text]]", "text"),
        ("[[:de:Flunder|Flunder]]", "Flunder"),
        ("Chairs [[Category:Chairs]]", "Chairs"),
        ("[https://example.org/a the text]", "the text"),
        ("'''bold''' and ''italic''", "bold and italic"),
        ("one<br>two<br />three", "one\ntwo\nthree"),
        ("Caf&eacute; &amp; M&#225;laga", "Café & Málaga"),
        ("{{circa|1890}}", "circa 1890"),
        ("{{other date|ca|1750}}", "circa 1750"),
        ("{{other date|between|1745|1755}}", "between 1745 and 1755"),
        ("{{other date|-|1745|1755}}", "1745–1755"),
        ("{{other date|before|1800}}", "before 1800"),
        ("{{other date|after|1800-05}}", "after May 1800"),
        ("{{other date|decade|1890}}", "1890s"),
        ("{{other date|century|19}}", "19th century"),
        ("{{other date|or|1745|1746}}", "1745 or 1746"),
        ("{{Otherdate|ca|1750}}", "circa 1750"),  # a redirect of {{Other date}}
        ("{{between|1745|1755}}", "between 1745 and 1755"),
        ("{{en|1=Hello}}", "Hello"),
        ("{{sv|Hej}}", "Hej"),
        ("{{LangSwitch|en=Chair|sv=Stol}}", "Chair\nStol"),
        ("{{mld|en=Chair|de=Stuhl}}", "Chair\nStuhl"),
        ("{{Creator:Carl Larsson}}", "Carl Larsson"),
        ("{{Institution:Nationalmuseum}}", "Nationalmuseum"),
        ("{{date|1890|5|3}}", "3 May 1890"),
        ("{{ISOdate|1890-05-03}}", "3 May 1890"),
        ("{{unknown|author}}", "unknown author"),
        ("{{unknown}}", "unknown"),
        ("{{Own}}", "own work"),
        ("{{Technique|oil|canvas}}", "oil on canvas"),
        ("{{int:filedesc}}", ""),
        ("{{PND-link|118500775|Adenauer|Konrad}}", "{{PND-link}}"),
        ("{{Some template with a very long name indeed, longer than forty|a=1}}",
         "{{Some template with a very long name ind…}}"),
        ("{{self|cc-by-sa-4.0|GFDL}}", "licensed by the author: CC BY-SA 4.0; GFDL"),
        ("Vase <script>alert(1)</script>", "Vase <script>alert(1)</script>"),  # MediaWiki shows it as text
        ("<small>small</small> print", "small print"),
        ("{{Location|37|26|46.6|N|113|11|36.72|W}}", "37°26′46.6″N 113°11′36.72″W"),
    ],
)  # fmt: skip
def test_markup_and_templates_as_displayed(markup: str, words: str) -> None:
    assert to_text(markup) == words


def test_no_template_parameters_leak_into_the_words() -> None:
    words = to_text(
        "{{Credit line |Author = © [[User:Michael Gäbler|Michael Gäbler]]| Other = Wikimedia Commons}}"
    )
    assert words == "{{Credit line}}"


def test_a_page_that_does_not_parse_gives_its_text_back_cleaned() -> None:
    text = wikitext("memucho_staffelwalze_malformed.wikitext")
    words = to_text(text)
    assert "Photo of the Staffelwalze" in words and "\n\n" not in words


@pytest.mark.parametrize("sample", all_wikitext_samples())
def test_every_sample_page_and_parameter_reads_without_error(sample: str) -> None:
    text = wikitext(sample)
    assert isinstance(to_text(text), str)
    for info in parse_wikitext(text, DiffSettings()).info:
        for p in info.params:
            words = to_text(p.raw)
            assert "[[" not in words and "]]" not in words and "''" not in words, (p.name, words)


def test_dates_licences_in_words() -> None:
    assert date_words("1890-05-03") == "3 May 1890"
    assert date_words("1890-05") == "May 1890"
    assert date_words("2012-04-21 14:05") == "21 April 2012, 14:05"
    assert date_words("ca. 1890") == "ca. 1890"
    assert date_words("1890-13") == "1890"  # no month 13: the year
    assert licence_words("cc-by-sa-4.0") == "CC BY-SA 4.0"
    assert licence_words("cc-by-sa-3.0-de") == "CC BY-SA 3.0 DE"
    assert licence_words("cc-zero") == "CC0"
    assert licence_words("PD-Art|PD-old-auto|deathyear=1920") == "PD-Art (PD-old-auto, deathyear=1920)"


_MARKUP_ALPHABET = st.sampled_from(
    ["{{", "}}", "[[", "]]", "|", "=", "''", "'''", "<br>", "<ref>", "</ref>", "<!--", "-->", "&amp;", "&#",
     "*", "\n", ":", "Category:", "File:", "other date", "ca", "1750", "en", "x", " ", "<", ">", "{{{", "}}}"]
)  # fmt: skip


@FAST
@given(st.lists(_MARKUP_ALPHABET, max_size=40).map("".join))
def test_never_raises_on_markup_soup(text: str) -> None:
    words = to_text(text)
    assert isinstance(words, str) and words == words.strip()


@FAST
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200))
def test_never_raises_on_any_text(text: str) -> None:
    assert isinstance(to_text(text), str)


_PLAIN = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs", "Cc", "Cf", "Zl", "Zp"], exclude_characters="{}[]<>&'*#:;=_"
    ),
    max_size=120,
)


@FAST
@given(_PLAIN)
def test_plain_text_comes_back_as_it_is_and_stays(text: str) -> None:
    assert to_text(text) == tidy(text)
    assert to_text(to_text(text)) == to_text(text)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("{{en|1=x}}", "{{en|x}}"),
        ("a<br>b", "a<br />b"),
        ("Caf&eacute;", "Café"),
        ("{{Otherdate|ca|1750}}", "{{other date|ca|1750}}"),
        ("[[Foo_bar|x]]", "[[foo bar|x]]"),
        ("text<!-- a comment -->", "text"),
    ],
)
def test_spellings_the_diff_calls_equal_read_the_same(a: str, b: str) -> None:
    assert same_value(a, b)
    assert to_text(a) == to_text(b)
