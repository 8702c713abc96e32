"""The knowledge pack, indexed like memories: vetted facts retrieved beside the user's notes."""
from __future__ import annotations

import hashlib
import re

from agent.pack import KnowledgeFact, Pack
from memory.names import mask_names
from memory.store import Memory

RELEVANT = 0.45  # cosine; below it a fact is about something else (see tests/test_answer.py)
MAX_FACTS = 2
# A question about the record ("when did she last have her booster?") is answered by the notes
# alone: a general fact beside them reads as part of the answer. Advice is given when asked for.
ADVICE = re.compile(
    r"\b(?:should|normal|worr(?:y|ied|ying)|what (?:can|do|should) (?:i|we)|how (?:can|do|should) (?:i|we)|"
    r"help|safe|okay|ok|dangerous|serious|prevent|advice|tips?|need (?:a|to see a|to take (?:her|him|them) to the) vet|"
    r"see a vet|emergency|is it|is that|is this|could it be|what (?:causes|does it mean))\b", re.I)


def wants_advice(question: str) -> bool:
    """Whether a question found in the notes also asks for general guidance."""
    return bool(ADVICE.search(question))


class Knowledge:
    """A Chroma collection of one pack's facts, rebuilt whenever the pack's text changes."""

    def __init__(self, mem: Memory, pack: Pack):
        self.pack = pack
        self.facts = {f.id: f for f in pack.knowledge}
        index = mem.index
        self.embed = index.embed
        digest = hashlib.sha256("\n".join(f"{f.id}\t{f.text}" for f in pack.knowledge).encode()).hexdigest()
        name = f"knowledge_{pack.name}"
        self.collection = index.client.get_or_create_collection(
            name, embedding_function=index.embedder, configuration={"hnsw": {"space": "cosine"}})
        if (self.collection.metadata or {}).get("digest") != digest or self.collection.count() != len(self.facts):
            index.client.delete_collection(name)
            self.collection = index.client.create_collection(
                name, embedding_function=index.embedder, configuration={"hnsw": {"space": "cosine"}},
                metadata={"digest": digest})
            ids = list(self.facts)
            texts = [f"{self.facts[i].topic}: {self.facts[i].text}" for i in ids]
            self.collection.add(ids=ids, documents=texts, embeddings=list(self.embed(texts)))

    def lookup(self, question: str, names: list[str] = (), k: int = MAX_FACTS) -> list[KnowledgeFact]:
        """The facts most about the question; pet names are taken out (the facts name no pet)."""
        question = mask_names(question, names, "my cat")
        res = self.collection.query(query_embeddings=[self.embed([question])[0]], n_results=k,
                                    include=["distances"])
        return [self.facts[i] for i, d in zip(res["ids"][0], res["distances"][0]) if 1 - d >= RELEVANT]
