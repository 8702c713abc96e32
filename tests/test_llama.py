"""The fast path (agent.llama): llama.cpp on the same GGUF, the adapter exported to GGUF, and the
same answers as the trained adapter under transformers."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from agent import guard, llama
from agent.adapters import STARTER_ADAPTER
from agent.answer import Companion
from agent.settings import Settings
from bench.answer import NOTES
from memory import journal

needs_llama = pytest.mark.skipif(llama.missing() is not None, reason="llama-cpp-python is not installed")


def test_the_adapter_exports_to_a_gguf_lora_llama_cpp_reads(tmp_path):
    import gguf
    from safetensors.torch import load_file

    path = llama.export_lora(STARTER_ADAPTER, tmp_path)
    assert path.parent == tmp_path and path.name.startswith("lora-")
    assert llama.export_lora(STARTER_ADAPTER, tmp_path) == path  # named by its content: written once
    reader = gguf.GGUFReader(str(path))
    fields = {f.name: f for f in reader.fields.values()}
    assert bytes(fields["general.type"].parts[-1]).decode() == "adapter"
    assert float(fields["adapter.lora.alpha"].parts[-1][0]) == 32.0
    tensors = {t.name: t for t in reader.tensors}
    source = load_file(str(STARTER_ADAPTER / "adapter_model.safetensors"))
    assert len(tensors) == len(source) == 18 * 7 * 2
    a = source["base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight"].float().numpy()
    b = source["base_model.model.model.layers.3.self_attn.q_proj.lora_B.weight"].float().numpy()
    got_a, got_b = tensors["blk.3.attn_q.weight.lora_a"], tensors["blk.3.attn_q.weight.lora_b"]
    assert np.array_equal(np.asarray(got_a.data).reshape(a.shape), a)
    assert np.array_equal(np.asarray(got_b.data).reshape(b.shape), b)
    assert list(got_a.shape) == [a.shape[1], a.shape[0]]  # ggml order: [in, r]


def test_only_the_latest_adapter_export_is_kept(tmp_path):
    import json
    import shutil

    first = llama.export_lora(STARTER_ADAPTER, tmp_path / "gguf-lora")
    newer = tmp_path / "newer"
    shutil.copytree(STARTER_ADAPTER, newer)
    config = json.loads((newer / "adapter_config.json").read_text())
    (newer / "adapter_config.json").write_text(json.dumps({**config, "lora_alpha": 16}))
    second = llama.export_lora(newer, tmp_path / "gguf-lora")
    assert second != first and sorted((tmp_path / "gguf-lora").iterdir()) == [second]
    assert llama.export_lora(STARTER_ADAPTER, tmp_path / "gguf-lora") == first  # made again when asked for


def test_an_adapter_llama_cpp_cannot_apply_is_refused_in_one_line(tmp_path):
    import json
    import shutil

    folder = tmp_path / "dora"
    shutil.copytree(STARTER_ADAPTER, folder)
    config = json.loads((folder / "adapter_config.json").read_text())
    (folder / "adapter_config.json").write_text(json.dumps({**config, "use_dora": True}))
    with pytest.raises(Exception, match="not a plain LoRA"):
        llama.export_lora(folder, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


QUESTIONS = ["Mochi is sneezing again, has this happened before?", "When was Mochi's last vaccine?",
             "Has Luna thrown up hairballs?", "What did the vet say about Luna's gums?",
             "Has Luna peed outside the litter box?", "what did the vet give mochi for the flare",
             "where did mochi get his booster", "did luna vomit after breakfast", "how much does mochi weigh",
             "has luna ever had diarrhoea?"]


@needs_llama
def test_same_answers_as_the_trained_adapter_under_transformers(gemma_dir, mem):
    """The served model (llama.cpp: the Q4_K_M GGUF + the adapter exported to GGUF LoRA) against the
    trained adapter under transformers (fp32 weights dequantized from that GGUF), through the whole
    answering path (recall, decoding constraints, guard): the same words, or the same facts where
    quantization moved a token of phrasing ("You wrote on ..." / "On ... you noted")."""
    for pet in ("Mochi", "Luna"):
        journal.add_subject(mem, pet, sex="female" if pet == "Luna" else "male", neutered=True)
    for pet, day, kind, text in NOTES:  # the journal of bench/answer.py
        journal.log(mem, text, subject=pet, at=day, kind=kind)
    answers = {}
    for engine in ("transformers", "llama.cpp"):
        comp = Companion(mem, settings=Settings(base_model=str(gemma_dir), engine=engine, max_new_tokens=64),
                         progress=lambda m: None, adapters=[STARTER_ADAPTER])
        answers[engine] = [(comp.draft(q).block, comp.ask(q)) for q in QUESTIONS[:6]]  # bench.answer --same: all 10
        assert comp.model.engine == engine and comp.warnings == []
        assert {a.adapter for _, a in answers[engine]} == {comp.model.adapter_version} != {None}
    same_words = same_facts = 0
    for (block, slow), (_, fast) in zip(answers["transformers"], answers["llama.cpp"]):
        assert slow.citations == fast.citations and slow.red_flag == fast.red_flag  # the code decided these
        same_words += slow.body == fast.body
        same_facts += guard.facts_stated(slow.body, block) == guard.facts_stated(fast.body, block)
    assert same_words >= 3, answers  # most are word for word
    assert same_facts == 6, answers


@needs_llama
def test_the_kept_prefix_gives_the_same_logits_as_a_fresh_start(gemma_dir, tmp_path):
    fast = llama.load(gemma_dir, None, tmp_path / "models")
    tok = fast.tokenizer
    one = tok("<start_of_turn>user\nNotes: Mochi sneezed on 2025-01-15.\nQuestion: when did Mochi sneeze?").input_ids
    two = tok("<start_of_turn>user\nNotes: Mochi sneezed on 2025-01-15.\nQuestion: what did Luna eat?").input_ids
    engine = fast.model
    engine.start(one)
    kept = engine.start(two).clone()
    assert engine.tokens == two
    other = llama.LlamaEngine(llama.base_gguf(gemma_dir))
    fresh = other.start(two).clone()  # logits are llama.cpp's buffer: valid until its next step
    # the same model, read in other batch sizes: llama.cpp's kernels round a little differently
    assert kept.topk(5).indices.tolist() == fresh.topk(5).indices.tolist()
    assert float((kept - fresh).abs().max()) < 0.5


@needs_llama
def test_a_prompt_longer_than_the_context_grows_it_with_the_same_logits(gemma_dir, tmp_path):
    engine = llama.LlamaEngine(llama.base_gguf(gemma_dir))
    assert engine.n_ctx == llama.START_CTX
    tok = llama.LlamaTokenizer(engine)
    long = tok("<start_of_turn>user\nNotes: " + "Mochi sneezed twice after breakfast. " * 260
               + "\nQuestion: when did Mochi sneeze?").input_ids
    assert llama.START_CTX < len(long) + llama.ANSWER_ROOM < llama.MAX_CTX
    grown = engine.start(long).clone()
    assert engine.n_ctx == 2 * llama.START_CTX and engine.tokens == long
    for token in grown.topk(3).indices.tolist():  # the answer goes on in the grown context
        engine.step(token)
    assert tok.decode(tok("Mochi sneezed").input_ids) == "Mochi sneezed"  # the tokenizer follows the new model
    wide = llama.LlamaEngine(llama.base_gguf(gemma_dir))
    wide._open(llama.MAX_CTX)
    assert grown.topk(5).indices.tolist() == wide.start(long).topk(5).indices.tolist()
    with pytest.raises(Exception, match=f"at most {llama.MAX_CTX - 1} fit"):
        engine.start([2] * llama.MAX_CTX)


@needs_llama
@pytest.mark.skipif((__import__("os").cpu_count() or 1) < 2, reason="needs 2 cores")
def test_llama_cpp_leaves_a_core_another_process_keeps_busy(gemma_dir):
    """A second thread on a core something else keeps busy waits for it at every token (18 tok/s
    against ~30 on one thread with one core busy, bench/answer.py --busy): one thread per free core."""
    import multiprocessing
    import time

    engine = llama.LlamaEngine(llama.base_gguf(gemma_dir))
    ids = llama.LlamaTokenizer(engine)("<start_of_turn>user\nQuestion: when did Mochi sneeze?").input_ids
    assert engine.threads == engine.cores  # before anything is known: a thread per core
    spinners = [multiprocessing.get_context("spawn").Process(target=_spin, daemon=True)
                for _ in range(engine.cores - 1)]
    for spinner in spinners:
        spinner.start()
    try:
        time.sleep(1.0)
        engine.start(ids)
        assert engine.threads == 1
        assert engine._lib.llama_n_threads(engine.llm._ctx.ctx) == 1  # what llama.cpp itself runs
    finally:
        for spinner in spinners:
            spinner.kill()


def _spin() -> None:
    while True:
        pass


@needs_llama
def test_a_first_start_answers_from_the_packages_gguf_without_converting(mem):
    """The default model on llama.cpp needs only the GGUF (0.5 s), not the minute-long conversion to a
    transformers folder that training needs."""
    journal.add_subject(mem, "Mochi")
    journal.log(mem, "Mochi sneezed twice after breakfast", subject="Mochi", at="2025-01-15", kind="symptom")
    comp = Companion(mem, settings=Settings(max_new_tokens=24), progress=lambda m: None, adapters=[STARTER_ADAPTER])
    answer = comp.ask("When did Mochi sneeze?")
    assert comp.model.engine == "llama.cpp" and comp.warnings == []
    assert sorted(p.name for p in mem.home.models_dir.iterdir()) == ["gemma-3-270m-gguf", "gguf-lora"]
    assert answer.adapter == comp.model.adapter_version and "2025-01-15" in answer.answer
    assert comp.model.base_id == "google/gemma-3-270m (q4_k_m gguf)"  # the same base as the converted folder


def test_without_llama_cpp_answering_falls_back_to_transformers_saying_so(gemma_dir, mem, monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if it were not installed: import fails
    comp = Companion(mem, settings=Settings(base_model=str(gemma_dir)), progress=lambda m: None,
                     adapters=[STARTER_ADAPTER])
    assert comp.model.engine == "transformers"
    assert len(comp.warnings) == 1 and "llama-cpp-python is not usable" in comp.warnings[0]
    assert "answering with transformers instead" in comp.warnings[0]


@needs_llama
def test_the_gguf_tokenizer_gives_the_transformers_ids_and_pieces(gemma_dir, tmp_path):
    """What lets agent.decoding's constraints run unchanged on llama.cpp."""
    from transformers import AutoTokenizer

    from agent.decoding import _token_tables
    from agent.prompt import render_prompt

    hf = AutoTokenizer.from_pretrained(str(gemma_dir))
    fast = llama.load(gemma_dir, None, tmp_path / "models").tokenizer
    texts = [render_prompt(q, "History:\n- 2025-01-15 (Mochi, symptom): Sneezing came back, clear discharge")
             for q in QUESTIONS] + ["creatinine 142 µmol/L, 4.2 kg, £620 — café ✓ 日本"]
    for text in texts:
        ids = hf(text).input_ids
        assert fast(text).input_ids == ids
        assert fast.decode(ids) == hf.decode(ids, skip_special_tokens=True)
    pieces, not_latin, months = _token_tables(hf)
    mine = _token_tables(fast)
    assert mine[0] == pieces and bool((mine[1] == not_latin).all()) and bool((mine[2] == months).all())


@needs_llama
def test_a_verbatim_quote_of_the_first_note_shows_before_its_sentence_ends(gemma_dir, mem):
    """First words sooner, nothing unchecked: while the real model copies the first note word for
    word in the guard's own form ("On D: text"), those words are shown as they come; the finished
    answer starts with them whatever follows, and the stream is exactly what is stored."""
    journal.add_subject(mem, "Mochi", sex="female", neutered=True)
    journal.log(mem, "Mochi sneezed three times after breakfast, clear discharge from her nose",
                subject="Mochi", kind="symptom")
    comp = Companion(mem, settings=Settings(base_model=str(gemma_dir), engine="llama.cpp", max_new_tokens=64),
                     progress=lambda m: None, adapters=[STARTER_ADAPTER])
    started_early = 0
    for question in ("When did Mochi sneeze?", "Has Mochi been sneezing?", "Did Mochi sneeze this week?",
                     "Has Mochi had a runny nose?"):
        turn = comp.ask_stream(question)
        quote = guard.read_block(turn.draft.block).notes[0].said
        pieces = list(turn.body())
        body = "".join(pieces)
        assert body == turn.answer.body  # what was streamed is what is stored
        first_sentence = guard.sentences(body)[0]
        assert body.startswith(pieces[0]) and quote.startswith(pieces[0]) or pieces[0] == first_sentence, pieces
        started_early += len(pieces[0]) < len(first_sentence)
        assert guard.guard(body, turn.draft.block).cut == []  # every sentence shown holds against the notes
    assert started_early >= 1  # the model copies the note in the guard's form for some of these
    # the words run out mid-sentence: the early words stand, and the note they began is stated in full
    short = Companion(mem, settings=Settings(base_model=str(gemma_dir), engine="llama.cpp", max_new_tokens=24),
                      progress=lambda m: None, adapters=[STARTER_ADAPTER])
    turn = short.ask_stream("When did Mochi sneeze?")
    pieces = list(turn.body())
    forms = guard.note_forms(guard.read_block(turn.draft.block).notes[0])
    assert len(pieces) > 2 and "".join(pieces) == turn.answer.body and turn.answer.body in forms, pieces
    assert turn.guarded.cut and turn.guarded.cut[-1]["problems"] == ["unfinished: the model ran out of words"]


@needs_llama
def test_a_note_of_several_sentences_the_model_copies_is_shown_once(gemma_dir, mem):
    """Read on fresh5 (10 of 66 answers): the real model copied a note of several sentences word
    for word, its first words were shown early, and then the whole note came again."""
    journal.add_subject(mem, "Biscuit", sex="female", neutered=True)
    notes = [("2024-05-02", "medication", "got the aerokat spacer + a flixotide 125mcg inhaler from the vet. 1 puff "
              "twice a day, mask on her face for 7-10 breaths. she hates it. bribing w dreamies after.",
              "whats the spacer thing for biscuit's inhaler called"),
             ("2023-08-05", "note", "Big southerly storm overnight and the power was out for 30 hours. Kept Biscuit "
              "inside with the woodburner going. She spent the night on top of the hot water cylinder cupboard.",
              "How long was the power off in that August storm?")]
    for day, kind, text, _q in notes:
        journal.log(mem, text, subject="Biscuit", kind=kind, at=day)
    comp = Companion(mem, settings=Settings(base_model=str(gemma_dir), engine="llama.cpp", max_new_tokens=96),
                     progress=lambda m: None, adapters=[STARTER_ADAPTER])
    for day, _kind, text, question in notes:
        turn = comp.ask_stream(question)
        body = "".join(turn.body())
        assert body == turn.answer.body  # what was streamed is what is stored
        said = [" ".join(s.lower().split()) for s in guard.sentences(body)]
        assert len(said) == len(set(said)), body  # no sentence twice
        assert body.count(guard.sentences(text)[-1]) == 1, body  # the note's last words, once
