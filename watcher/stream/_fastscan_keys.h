/* One pass over an event's JSON bytes that finds the keys the prefilter looks at (the compiled helper's
 * core, included by _fastscan.pyx), and the CR/NUL check of a chunk.
 *
 * Every key the prefilter searches for starts with a quote followed by one of four letters: "wiki":",
 * "title":", "log_type":"upload" and "user":". So one pass finds them all: 16 bytes at a time (SSE2,
 * which every x86-64 processor has; 32 with AVX2, where the processor has it), the positions where a
 * '"' is followed by w, t, l or u, each then compared with the whole key. Elsewhere a plain loop over
 * memchr does the same. What it reports is
 * exactly what Python's bytes.find/rfind calls of the pure-Python path would find.
 */
#ifndef WATCHER_FASTSCAN_KEYS_H
#define WATCHER_FASTSCAN_KEYS_H

#include <stddef.h>
#include <string.h>
#if defined(__SSE2__) && !defined(WF_PLAIN)
#include <emmintrin.h>
#endif

typedef struct {
    ptrdiff_t last_wiki;   /* start of the last "wiki":" wholly inside the range, or -1 */
    ptrdiff_t first_title; /* start of the first "title":", or -1 */
    int title_again;       /* a "title":" starting 9 or more bytes after the first */
    int upload;            /* a "log_type":"upload" */
    ptrdiff_t first_user;  /* start of the first "user":", or -1 */
    int user_again;        /* a "user":" starting 8 or more bytes after the first */
} wf_keys;

static const char WF_WIKI[] = "\"wiki\":\"";
static const char WF_TITLE[] = "\"title\":\"";
static const char WF_UPLOAD[] = "\"log_type\":\"upload\"";
static const char WF_USER[] = "\"user\":\"";

static inline int wf_at(const char *b, ptrdiff_t p, ptrdiff_t end, const char *key, ptrdiff_t m) {
    return p + m <= end && memcmp(b + p, key, (size_t)m) == 0;
}

/* b[p] is '"' and b[p + 1] one of w, t, l, u: note the key that starts at p, if one does. */
static inline void wf_check(const char *b, ptrdiff_t p, ptrdiff_t end, wf_keys *k) {
    switch (b[p + 1]) {
    case 'w':
        if (wf_at(b, p, end, WF_WIKI, 8)) k->last_wiki = p;
        break;
    case 't':
        if (wf_at(b, p, end, WF_TITLE, 9)) {
            if (k->first_title < 0) k->first_title = p;
            else if (p >= k->first_title + 9) k->title_again = 1;
        }
        break;
    case 'l':
        if (wf_at(b, p, end, WF_UPLOAD, 19)) k->upload = 1;
        break;
    case 'u':
        if (wf_at(b, p, end, WF_USER, 8)) {
            if (k->first_user < 0) k->first_user = p;
            else if (p >= k->first_user + 8) k->user_again = 1;
        }
        break;
    }
}

static inline int wf_letter(char c) { return c == 'w' || c == 't' || c == 'l' || c == 'u'; }

/* The keys in b[start:end] (0 <= start, end <= the buffer's length): SSE2 or plain. */
static void wf_keys_of_sse2(const char *b, ptrdiff_t start, ptrdiff_t end, wf_keys *k) {
    ptrdiff_t p = start;
    k->last_wiki = -1;
    k->first_title = -1;
    k->title_again = 0;
    k->upload = 0;
    k->first_user = -1;
    k->user_again = 0;
#if defined(__SSE2__) && !defined(WF_PLAIN)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i w = _mm_set1_epi8('w'), t = _mm_set1_epi8('t');
    const __m128i l = _mm_set1_epi8('l'), u = _mm_set1_epi8('u');
    while (p + 17 <= end) { /* bytes p .. p + 16 */
        __m128i here = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
        __m128i next = _mm_loadu_si128((const __m128i *)(const void *)(b + p + 1));
        __m128i letter = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(next, w), _mm_cmpeq_epi8(next, t)),
                                      _mm_or_si128(_mm_cmpeq_epi8(next, l), _mm_cmpeq_epi8(next, u)));
        unsigned bits = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(here, quote), letter));
        while (bits) {
            wf_check(b, p + __builtin_ctz(bits), end, k);
            bits &= bits - 1;
        }
        p += 16;
    }
#endif
    while (p + 1 < end) {
        const char *q = memchr(b + p, '"', (size_t)(end - 1 - p));
        if (q == NULL) break;
        p = q - b;
        if (wf_letter(b[p + 1])) wf_check(b, p, end, k);
        p++;
    }
}

/* Start of the last "wiki":" wholly inside b[start:end], or -1: backwards from the end, where
 * EventStreams writes the key (only parsedcomment follows it), 16 candidate starts a step. */
static ptrdiff_t wf_last_wiki(const char *b, ptrdiff_t start, ptrdiff_t end) {
    ptrdiff_t hi = end - 8; /* the last start the key fits at */
#if defined(__SSE2__) && !defined(WF_PLAIN)
    const __m128i quote = _mm_set1_epi8('"'), w = _mm_set1_epi8('w');
    while (hi - 15 >= start) { /* starts hi - 15 .. hi; bytes read up to hi + 1 < end */
        ptrdiff_t lo = hi - 15;
        __m128i here = _mm_loadu_si128((const __m128i *)(const void *)(b + lo));
        __m128i next = _mm_loadu_si128((const __m128i *)(const void *)(b + lo + 1));
        unsigned bits = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(here, quote), _mm_cmpeq_epi8(next, w)));
        while (bits) {
            int i = 31 - __builtin_clz(bits);
            if (memcmp(b + lo + i, WF_WIKI, 8) == 0) return lo + i;
            bits &= ~(1u << i);
        }
        hi = lo - 1;
    }
#endif
    for (; hi >= start; hi--) {
        if (b[hi] == '"' && b[hi + 1] == 'w' && memcmp(b + hi, WF_WIKI, 8) == 0) return hi;
    }
    return -1;
}

/* Whether b[0:n] holds neither CR nor NUL (the SSE fast path's condition), in one pass. */
static int wf_clean_sse2(const char *b, ptrdiff_t n) {
    ptrdiff_t p = 0;
#if defined(__SSE2__) && !defined(WF_PLAIN)
    const __m128i cr = _mm_set1_epi8('\r'), nul = _mm_setzero_si128();
    while (p + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + p));
        if (_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, nul)))) return 0;
        p += 16;
    }
#endif
    for (; p < n; p++) {
        if (b[p] == '\r' || b[p] == 0) return 0;
    }
    return 1;
}

/* The same two passes 32 bytes a step, where the processor has AVX2 (asked once, at run time). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(WF_PLAIN)
#include <immintrin.h>

__attribute__((target("avx2"))) static void wf_keys_of_avx2(const char *b, ptrdiff_t start, ptrdiff_t end,
                                                          wf_keys *k) {
    ptrdiff_t p = start;
    k->last_wiki = -1;
    k->first_title = -1;
    k->title_again = 0;
    k->upload = 0;
    k->first_user = -1;
    k->user_again = 0;
    const __m256i quote = _mm256_set1_epi8('"');
    const __m256i w = _mm256_set1_epi8('w'), t = _mm256_set1_epi8('t');
    const __m256i l = _mm256_set1_epi8('l'), u = _mm256_set1_epi8('u');
    while (p + 33 <= end) { /* bytes p .. p + 32 */
        __m256i here = _mm256_loadu_si256((const __m256i *)(const void *)(b + p));
        __m256i next = _mm256_loadu_si256((const __m256i *)(const void *)(b + p + 1));
        __m256i letter = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(next, w), _mm256_cmpeq_epi8(next, t)),
                                         _mm256_or_si256(_mm256_cmpeq_epi8(next, l), _mm256_cmpeq_epi8(next, u)));
        unsigned bits = (unsigned)_mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(here, quote), letter));
        while (bits) {
            wf_check(b, p + __builtin_ctz(bits), end, k);
            bits &= bits - 1;
        }
        p += 32;
    }
    while (p + 1 < end) {
        const char *q = memchr(b + p, '"', (size_t)(end - 1 - p));
        if (q == NULL) break;
        p = q - b;
        if (wf_letter(b[p + 1])) wf_check(b, p, end, k);
        p++;
    }
}

__attribute__((target("avx2"))) static int wf_clean_avx2(const char *b, ptrdiff_t n) {
    ptrdiff_t p = 0;
    const __m256i cr = _mm256_set1_epi8('\r'), nul = _mm256_setzero_si256();
    while (p + 32 <= n) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(b + p));
        if (_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(v, cr), _mm256_cmpeq_epi8(v, nul)))) return 0;
        p += 32;
    }
    return wf_clean_sse2(b + p, n - p);
}

static int wf_avx2 = -1;

static inline int wf_has_avx2(void) {
    if (wf_avx2 < 0) wf_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
    return wf_avx2;
}

static void wf_keys_of(const char *b, ptrdiff_t start, ptrdiff_t end, wf_keys *k) {
    if (wf_has_avx2()) wf_keys_of_avx2(b, start, end, k);
    else wf_keys_of_sse2(b, start, end, k);
}

static int wf_clean(const char *b, ptrdiff_t n) { return wf_has_avx2() ? wf_clean_avx2(b, n) : wf_clean_sse2(b, n); }
#else
static int wf_avx2 = 0;
static inline int wf_has_avx2(void) { return 0; }
static void wf_keys_of(const char *b, ptrdiff_t start, ptrdiff_t end, wf_keys *k) { wf_keys_of_sse2(b, start, end, k); }
static int wf_clean(const char *b, ptrdiff_t n) { return wf_clean_sse2(b, n); }
#endif

#endif
