"""Keyed BLAKE2b pseudonyms, compiled: :func:`sim.core.privacy.pseudonyms` without Python calls per person.

BLAKE2b as RFC 7693 defines it: a keyed hash is the key, zero-padded to one 128-byte block, then
the message. A pseudonym's message is the citizen row as 8 little-endian bytes, so each one is a
single compression of one block after the key's (computed once). The digest (8 bytes) is written
as lowercase hex after the prefix. ``tests/engine/test_kernels.py`` holds it to ``hashlib``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.engine._kernel_cache import njit

IV = np.array(
    [
        0x6A09E667F3BCC908,
        0xBB67AE8584CAA73B,
        0x3C6EF372FE94F82B,
        0xA54FF53A5F1D36F1,
        0x510E527FADE682D1,
        0x9B05688C2B3E6C1F,
        0x1F83D9ABFB41BD6B,
        0x5BE0CD19137E2179,
    ],
    dtype=np.uint64,
)
SIGMA = np.array(
    [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ],
    dtype=np.int64,
)
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


@njit(cache=True, inline="always")
def _rotr(x: Any, n: int) -> Any:
    return (x >> np.uint64(n)) | (x << np.uint64(64 - n))


@njit(cache=True, inline="always")
def _g(a: Any, b: Any, c: Any, d: Any, x: Any, y: Any) -> Any:
    a = a + b + x
    d = _rotr(d ^ a, 32)
    c = c + d
    b = _rotr(b ^ c, 24)
    a = a + b + y
    d = _rotr(d ^ a, 16)
    c = c + d
    b = _rotr(b ^ c, 63)
    return a, b, c, d


@njit(cache=True)
def _compress(h: Any, m: Any, t: int, last: bool, iv: Any, sigma: Any) -> None:
    """RFC 7693's F: ``h`` updated in place by the block ``m`` (16 words), ``t`` bytes so far.

    The working vector is sixteen locals, so it stays in registers.
    """
    v0, v1, v2, v3, v4, v5, v6, v7 = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    v8, v9, v10, v11, v12, v13, v14, v15 = iv[0], iv[1], iv[2], iv[3], iv[4], iv[5], iv[6], iv[7]
    v12 ^= np.uint64(t)
    if last:
        v14 = ~v14
    for r in range(12):
        s = sigma[r % 10]
        v0, v4, v8, v12 = _g(v0, v4, v8, v12, m[s[0]], m[s[1]])
        v1, v5, v9, v13 = _g(v1, v5, v9, v13, m[s[2]], m[s[3]])
        v2, v6, v10, v14 = _g(v2, v6, v10, v14, m[s[4]], m[s[5]])
        v3, v7, v11, v15 = _g(v3, v7, v11, v15, m[s[6]], m[s[7]])
        v0, v5, v10, v15 = _g(v0, v5, v10, v15, m[s[8]], m[s[9]])
        v1, v6, v11, v12 = _g(v1, v6, v11, v12, m[s[10]], m[s[11]])
        v2, v7, v8, v13 = _g(v2, v7, v8, v13, m[s[12]], m[s[13]])
        v3, v4, v9, v14 = _g(v3, v4, v9, v14, m[s[14]], m[s[15]])
    h[0] ^= v0 ^ v8
    h[1] ^= v1 ^ v9
    h[2] ^= v2 ^ v10
    h[3] ^= v3 ^ v11
    h[4] ^= v4 ^ v12
    h[5] ^= v5 ^ v13
    h[6] ^= v6 ^ v14
    h[7] ^= v7 ^ v15


@njit(cache=True)
def keyed_digests_hex(idx: Any, key_words: Any, key_len: int, prefix: int, iv: Any, sigma: Any, hexdigits: Any) -> Any:
    """Per row of ``idx``: ``prefix`` and hex of keyed BLAKE2b-64 of the row's 8 little-endian bytes.

    ``key_words``: the key zero-padded to 128 bytes, as 16 little-endian words. Returns bytes,
    17 per row.
    """
    keyed = iv.copy()
    keyed[0] ^= np.uint64(0x01010000) ^ (np.uint64(key_len) << np.uint64(8)) ^ np.uint64(8)
    # Typed values, not literals: numba would compile _compress once per literal (about 2 s each).
    key_block, last_block = np.uint64(128), np.uint64(136)
    _compress(keyed, key_words, key_block, np.bool_(False), iv, sigma)
    n = len(idx)
    out = np.empty(n * 17, dtype=np.uint8)
    m = np.zeros(16, dtype=np.uint64)
    h = np.empty(8, dtype=np.uint64)
    for k in range(n):
        m[0] = np.uint64(idx[k])
        for i in range(8):
            h[i] = keyed[i]
        _compress(h, m, last_block, np.bool_(True), iv, sigma)
        d = h[0]
        base = k * 17
        out[base] = prefix
        for j in range(8):
            byte = (d >> np.uint64(8 * j)) & np.uint64(0xFF)
            out[base + 1 + 2 * j] = hexdigits[byte >> np.uint64(4)]
            out[base + 2 + 2 * j] = hexdigits[byte & np.uint64(0xF)]
    return out
