# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The stream's two hot loops in C: framing EventStreams records, and the prefilter's byte checks.

Compiled with Cython (``python -m watcher.stream.build``); where it is not built, the same loops run in
Python (:mod:`watcher.stream.sse`, :mod:`watcher.stream.prefilter`). Both functions are pure: same
input, same output as the Python loops they stand in for, including Python's slice rules for
``bytes.find(sub, start, end)`` at the edges (a test holds the two to it). What makes them fast is one
pass over each event for all the keys the prefilter looks at (``_fastscan_keys.h``: SSE2, 16 bytes a
step) where the Python path makes several ``bytes.find`` calls, each a pass of its own at 1-3 GB/s,
and no interpreter step per event.
"""

from cpython cimport array
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

import array as pyarray
from libc.stdint cimport uint64_t
from libc.string cimport memchr, memcmp

cdef extern from "string.h" nogil:
    void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen)

cdef extern from "Python.h":
    Py_hash_t _Py_HashBytes(const void *src, Py_ssize_t length)

cdef extern from "_fastscan_keys.h":
    ctypedef struct wf_keys:
        Py_ssize_t last_wiki
        Py_ssize_t first_title
        bint title_again
        bint upload
        Py_ssize_t first_user
        bint user_again
    void wf_keys_of(const char *b, Py_ssize_t start, Py_ssize_t end, wf_keys *k) noexcept
    Py_ssize_t wf_last_wiki(const char *b, Py_ssize_t start, Py_ssize_t end) noexcept
    int wf_clean(const char *b, Py_ssize_t n) noexcept
    int wf_has_avx2() noexcept
    int wf_avx2

cdef enum:
    MAX_SETS = 8

cdef const char *HEAD = b"event: message\nid: "
cdef const char *DATA = b"data: "


cdef inline Py_ssize_t _clamp(Py_ssize_t i, Py_ssize_t n) noexcept:
    """A slice index as Python normalises it (negative counts from the end)."""
    if i < 0:
        i += n
        if i < 0:
            return 0
    elif i > n:
        return n
    return i


cdef Py_ssize_t _find(const char *buf, Py_ssize_t n, const char *sub, Py_ssize_t m,
                      Py_ssize_t start, Py_ssize_t end) noexcept:
    """``buf.find(sub, start, end)`` for a non-empty ``sub``."""
    cdef const void *p
    start = _clamp(start, n)
    end = _clamp(end, n)
    if end - start < m:
        return -1
    if m == 1:
        p = memchr(buf + start, sub[0], end - start)
    else:
        p = memmem(buf + start, end - start, sub, m)
    if p == NULL:
        return -1
    return <const char *>p - buf


cdef inline bint _startswith(const char *buf, Py_ssize_t n, const char *prefix, Py_ssize_t m,
                             Py_ssize_t at) noexcept:
    """``buf.startswith(prefix, at)`` for ``at >= 0``."""
    return at + m <= n and memcmp(buf + at, prefix, m) == 0


cdef array.array _SPANS = pyarray.array("q")


def walk(bytes data, Py_ssize_t pos, Py_ssize_t limit):
    """The fast path of :meth:`SSEParser._walk`: from ``pos``, the data spans of consecutive
    ``event: message\\nid: X\\ndata: Y\\n\\n`` records of at most ``limit`` bytes; (spans, new pos).
    The spans come as an ``array('q')`` (no Python int per event), which :func:`scan` reads as it is."""
    cdef const char *buf = PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef Py_ssize_t nl, end, count = 0, room = 0
    cdef array.array spans = array.clone(_SPANS, 0, False)
    while _startswith(buf, n, HEAD, 19, pos):
        nl = _find(buf, n, b"\n", 1, pos + 19, n)
        if nl < 0 or not _startswith(buf, n, DATA, 6, nl + 1):
            break
        end = _find(buf, n, b"\n", 1, nl + 7, n)
        if end < 0 or end + 1 >= n or buf[end + 1] != 10 or end + 2 - pos > limit:
            break
        if count + 2 > room:
            room = 2 * room if room else 256
            array.resize(spans, room)
        spans.data.as_longlongs[count] = nl + 7
        spans.data.as_longlongs[count + 1] = end
        count += 2
        pos = end + 2
    array.resize(spans, count)
    return spans, pos


cdef struct TableSet:
    int count
    const uint64_t *tables[MAX_SETS]
    uint64_t masks[MAX_SETS]


cdef bint _contains(TableSet *sets, const char *buf, Py_ssize_t n, Py_ssize_t start, Py_ssize_t end) noexcept:
    """Whether ``buf[start:end]`` (Python slice rules) is in one of the TitleSet tables."""
    cdef uint64_t key, v, mask
    cdef const uint64_t *table
    cdef Py_ssize_t i
    cdef int s
    start = _clamp(start, n)
    end = _clamp(end, n)
    if end < start:
        end = start
    key = <uint64_t>_Py_HashBytes(buf + start, end - start)
    if key == 0:
        key = 1
    for s in range(sets.count):
        table = sets.tables[s]
        mask = sets.masks[s]
        i = <Py_ssize_t>(key & mask)
        while True:
            v = table[i]
            if v == key:
                return True
            if v == 0:
                break
            i = <Py_ssize_t>((<uint64_t>i + 1) & mask)
    return False


cdef int _fill(TableSet *sets, object tables, list keep) except -1:
    """Point ``sets`` at the ``(array('Q'), mask)`` pairs in ``tables``; ``keep`` holds their views."""
    cdef const uint64_t[::1] view
    sets.count = 0
    for table, mask in tables:
        if sets.count == MAX_SETS:
            raise ValueError(f"at most {MAX_SETS} title sets")
        view = table
        if view.shape[0] == 0 or (mask + 1) != view.shape[0]:
            raise ValueError("a TitleSet table must hold mask + 1 slots")
        keep.append(view)
        sets.tables[sets.count] = &view[0]
        sets.masks[sets.count] = <uint64_t>mask
        sets.count += 1
    return 0


cdef bint _maybe(const char *buf, Py_ssize_t n, Py_ssize_t ds, Py_ssize_t de, const char *wiki,
                 Py_ssize_t wiki_len, TableSet *titles, TableSet *users) noexcept:
    """Whether the bytes cannot rule out the record ``buf[ds:de]``: the decision of the Python loop in
    :meth:`Prefilter.scan`, check for check."""
    cdef Py_ssize_t w, t, e, u
    cdef wf_keys keys
    # Where Python's rfind of the wiki key would find it (backwards: it is near the end).
    w = wf_last_wiki(buf, _clamp(ds, n), _clamp(de, n)) + 8
    if w == 7:
        return True
    if not _startswith(buf, n, wiki, wiki_len, w):
        # Another wiki, unless an escape in the value could spell ours.
        return _find(buf, n, b"}", 1, w, de - 1) >= 0 or _find(buf, n, b"\\", 1, w, w + wiki_len) >= 0
    # Ours: where its find calls would find the other keys, in one pass over the event.
    wf_keys_of(buf, _clamp(ds, n), _clamp(de, n), &keys)
    if keys.first_title < 0 or keys.title_again:
        return True
    t = keys.first_title + 9
    e = _find(buf, n, b'"', 1, t, de)
    if _find(buf, n, b"\\", 1, t, e) >= 0 or _contains(titles, buf, n, t, e):
        return True
    if not keys.upload:
        return False
    if keys.first_user < 0 or keys.user_again:
        return True
    u = keys.first_user + 8
    e = _find(buf, n, b'"', 1, u, de)
    return _find(buf, n, b"\\", 1, u, e) >= 0 or _contains(users, buf, n, u, e)


def scan(bytes data, object spans, bytes wiki_value, object titles, object users):
    """The byte checks of :meth:`Prefilter.scan`: the indices k (even) of the records
    ``data[spans[k]:spans[k + 1]]`` that the bytes cannot rule out, in order.

    ``titles`` and ``users`` are ``(array('Q'), mask)`` pairs of the TitleSets whose members a title
    (or, for upload log entries, a user) must be to concern us.
    """
    cdef const char *buf = PyBytes_AS_STRING(data)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(data)
    cdef const char *wiki = PyBytes_AS_STRING(wiki_value)
    cdef Py_ssize_t wiki_len = PyBytes_GET_SIZE(wiki_value)
    cdef TableSet title_sets
    cdef TableSet user_sets
    cdef list keep = []
    cdef list out = []
    cdef const long long[::1] at
    cdef Py_ssize_t k
    if not (isinstance(spans, pyarray.array) and spans.typecode == "q"):
        spans = pyarray.array("q", spans)
    at = spans
    _fill(&title_sets, titles, keep)
    _fill(&user_sets, users, keep)
    for k in range(0, at.shape[0] - 1, 2):
        if _maybe(buf, n, at[k], at[k + 1], wiki, wiki_len, &title_sets, &user_sets):
            out.append(k)
    return out


def clean(bytes data):
    """``b"\\r" not in data and b"\\0" not in data``, in one pass."""
    return bool(wf_clean(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data)))


def simd(avx2=None):
    """The vector width the loops use, "avx2" or "sse2" (chosen once from the processor); ``avx2=False``
    makes them take the 16-byte loops from now on (for the tests), ``True`` gives AVX2 back where there."""
    global wf_avx2
    if avx2 is not None:
        wf_avx2 = -1
        wf_avx2 = wf_has_avx2() if avx2 else 0
    return "avx2" if wf_has_avx2() else "sse2"


def title_key(bytes title):
    """The TitleSet key this module computes for ``title`` (a self-check against Python's hash)."""
    cdef uint64_t key = <uint64_t>_Py_HashBytes(PyBytes_AS_STRING(title), PyBytes_GET_SIZE(title))
    return key if key else 1
