"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0, section 2.1): leaf and node hashes, the tree head of
any prefix, inclusion and consistency proofs and their verification. Pure functions over lists of leaf hashes;
`Frontier` keeps the right edge of a growing tree so the head of every prefix is had in one pass."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 over the given leaf hashes."""
    if not leaves:
        return EMPTY
    level = list(leaves)
    frontier = Frontier()
    for leaf in level:
        frontier.append(leaf)
    return frontier.root()


class Frontier:
    """The roots of the perfect subtrees along the right edge of a tree being built leaf by leaf: appending is
    O(log n) and the head of the tree so far is O(log n), so a log of any size is hashed in one pass."""

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing

    def append(self, leaf: bytes) -> None:
        # The subtrees on the edge are the set bits of the size: a leaf closes one per trailing 1 bit.
        height, value, n, stack = 0, leaf, self.size, self.stack
        while n & 1:
            value = _sha256(b"\x01" + stack.pop()[1] + value).digest()
            height += 1
            n >>= 1
        stack.append((height, value))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY
        value = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            value = node_hash(left, value)
        return value


def _subtree(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    n = end - start
    if n == 1:
        return leaves[start]
    k = _split(n)
    return node_hash(_subtree(leaves, start, start + k), _subtree(leaves, start + k, end))


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf `index` in the tree of the first `size` leaves."""
    size = len(leaves) if size is None else size
    if not 0 <= index < size <= len(leaves):
        raise ValueError("leaf outside the tree")

    def path(m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return path(m, start, start + k) + [_subtree(leaves, start + k, end)]
        return path(m - k, start + k, end) + [_subtree(leaves, start, start + k)]

    return path(index, 0, size)


def consistency_proof(leaves: Sequence[bytes], old_size: int, new_size: int | None = None) -> list[bytes]:
    """PROOF(m, D[n]): that the tree of `old_size` leaves is a prefix of the tree of `new_size`."""
    new_size = len(leaves) if new_size is None else new_size
    if not 0 < old_size <= new_size <= len(leaves):
        raise ValueError("sizes outside the tree")

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [_subtree(leaves, start, end)]
        k = _split(n)
        if m <= k:
            return subproof(m, start, start + k, whole) + [_subtree(leaves, start + k, end)]
        return subproof(m - k, start + k, end, False) + [_subtree(leaves, start, start + k)]

    return subproof(old_size, 0, new_size, True)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if old_size == new_size:
        return old_root == new_root and not proof
    if not 0 < old_size < new_size:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class Tree:
    """A log's leaves with every perfect, aligned subtree's hash computed once (2n hashes), so a tree head,
    an inclusion proof or a consistency proof for any size costs O(log n) lookups."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def _subtree(self, start: int, end: int) -> bytes:
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:  # a perfect subtree: computed already
            return self.levels[n.bit_length() - 1][start // n]
        k = _split(n)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return EMPTY if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError("leaf outside the tree")
        proof: list[bytes] = []
        start, end, m = 0, size, index
        while end - start > 1:
            k = _split(end - start)
            if m < k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start, m = start + k, m - k
        return proof[::-1]

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        new_size = self.size if new_size is None else new_size
        if not 0 < old_size <= new_size <= self.size:
            raise ValueError("sizes outside the tree")
        proof: list[bytes] = []
        start, end, m, whole = 0, new_size, old_size, True
        while True:
            n = end - start
            if m == n:
                if not whole:
                    proof.append(self._subtree(start, end))
                break
            k = _split(n)
            if m <= k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start, m, whole = start + k, m - k, False
        return proof[::-1]
