"""The project's reproducible random draws (SPEC E3, H2: 双随机, a published seed).

Every draw is recorded with its algorithm's name, its seed and its ordered candidates, so that
anyone can replay it from the record alone, with any sha256 tool, and must get the recorded
result. The seeds come from the OS's CSPRNG (``secrets.token_hex(16)``: 32 hexadecimal
characters), drawn inside the step that records them.

``sha256-mod-v1`` — pick one among ordered candidates (the third-party agency of an application,
app.services.agencies)::

    h = sha256(f"{seed}:{','.join(str(id) for id in candidate_ids)}".encode("utf-8")).hexdigest()
    chosen = candidate_ids[int(h, 16) % len(candidate_ids)]

``sha256-rank-v1`` — put candidates in a random order (the mines and the inspectors of a spot
check, app.services.spotchecks). Each id gets the key::

    key(id) = sha256(f"{seed}:{salt}:{id}".encode("utf-8")).hexdigest()

and the ids are sorted by that key, ascending (hexadecimal strings of equal length compare as
the numbers they write). The salt names what is ranked: ``"mines"`` for directory entries,
``"inspectors"`` for inspectors, so that one seed ranks the two lists independently. The order
does not depend on the order in which the candidates are given. By hand::

    printf '%s' '3f2a…:mines:42' | sha256sum

for each candidate id, then sort the lines.
"""
from __future__ import annotations

import hashlib
import secrets
from typing import Iterable, Sequence

PICK_ALGORITHM = "sha256-mod-v1"
RANK_ALGORITHM = "sha256-rank-v1"
MINES, INSPECTORS = "mines", "inspectors"
RANK_FORMULA = 'sorted(ids, key=lambda id: sha256(f"{seed}:{salt}:{id}".encode("utf-8")).hexdigest())'
PICK_FORMULA = "candidates[int(sha256(f\"{seed}:{','.join(candidate_ids)}\").hexdigest(), 16) % len(candidates)]"


def new_seed() -> str:
    """A fresh seed: 32 hexadecimal characters from the OS's CSPRNG."""
    return secrets.token_hex(16)


def pick_steps(seed: str, candidate_ids: Sequence[int]) -> dict:
    """``sha256-mod-v1`` step by step, as a reader replays it: the text hashed (``message``), its
    SHA-256 digest in hexadecimal (``digest``), the position it gives among the candidates
    (``index``, from 0: the digest as a number, modulo the number of candidates) and the id there."""
    if not candidate_ids:
        raise ValueError("no candidate")
    message = f"{seed}:{','.join(str(int(i)) for i in candidate_ids)}"
    digest = hashlib.sha256(message.encode("utf-8")).hexdigest()
    index = int(digest, 16) % len(candidate_ids)
    return {"message": message, "digest": digest, "index": index, "id": int(candidate_ids[index])}


def pick(seed: str, candidate_ids: Sequence[int]) -> int:
    """``sha256-mod-v1``: the id chosen by ``seed`` among the ordered ``candidate_ids``."""
    return pick_steps(seed, candidate_ids)["id"]


def rank_key(seed: str, salt: str, candidate_id: int) -> str:
    """The sort key of one candidate in ``sha256-rank-v1``."""
    return hashlib.sha256(f"{seed}:{salt}:{int(candidate_id)}".encode("utf-8")).hexdigest()


def rank(seed: str, ids: Iterable[int], salt: str) -> list[int]:
    """``sha256-rank-v1``: ``ids`` ordered by their keys, ascending (ties, which sha256 does not
    produce, by id). Duplicates are ranked once."""
    unique = {int(i) for i in ids}
    return sorted(unique, key=lambda i: (rank_key(seed, salt, i), i))
