"""Answer speed: our answering path on llama.cpp and on transformers, beside raw llama.cpp, interleaved.

    .venv/bin/python -m bench.answer [--examples 5] [--busy] [--no-memory]

On the default model (Gemma 3 270M + the starter adapter), 10 questions over a small cat journal,
each prompt built by memoloop. Per question, one after the other in one process:
- ours (llama.cpp): agent.model.generate on agent.llama's engine, with the decoding constraints;
- ours (transformers): the same loop on the fp32 transformers model (the path before llama.cpp);
- raw llama.cpp: llama-cpp-python's own `create_completion` on the same GGUF, the same GGUF LoRA
  adapter and the same prompt text, greedy: what Ollama or LM Studio would run;
then `ask` end to end on llama.cpp (recall, red flags, prompt, generation, guard): time to the first
words shown and to the whole answer. Time to first token and decode tokens/s per side, the ratio
to raw llama.cpp, and how often our llama.cpp answer states the same as the trained adapter under
transformers (same words, or the same facts: agent.guard.facts_stated). --busy keeps one core
spinning meanwhile (as a retrain would). Peak memory of a process answering with each engine is
measured in a child process each (--no-memory skips it).
--examples N prints N answers (question, notes, answer) for the README, in question order.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import percentile, table

REPO = Path(__file__).resolve().parent.parent
NOTES = [
    ("Mochi", "2024-02-13", "vet_visit", "Dr. Tanaka diagnosed a herpesvirus flare and prescribed L-lysine"),
    ("Mochi", "2025-01-15", "symptom", "Sneezing came back after the move, clear discharge from the nose"),
    ("Mochi", "2025-07-01", "weight", "Mochi weighs 4.2 kg"),
    ("Mochi", "2025-09-12", "vaccine", "FVRCP booster at the Elm Street clinic"),
    ("Luna", "2025-03-01", "symptom", "Luna vomited a hairball after breakfast"),
    ("Luna", "2025-06-20", "litter", "Luna peed on the bathmat twice"),
    ("Luna", "2025-08-02", "dental", "Dr. Okafor noted red gums, suggested daily brushing"),
    (None, "2025-01-10", "note", "We moved to the new flat on Elm Street"),
]
QUESTIONS = [
    ("Mochi is sneezing again, has this happened before?", None),
    ("How much does Mochi weigh?", None),
    ("When was Mochi's last vaccine?", None),
    ("Has Luna thrown up hairballs?", None),
    ("Has Luna peed outside the litter box?", None),
    ("What did the vet say about Luna's gums?", None),
    ("Has Mochi ever had diarrhoea?", None),
    ("Can I give Mochi my dog's flea treatment?", None),
    ("How often should I brush Luna's teeth?", None),
    ("Mochi hasn't eaten since yesterday, what should I do?", None),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=0, help="print this many answers for the README")
    parser.add_argument("--busy", action="store_true", help="keep one core spinning while measuring")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory children")
    parser.add_argument("--repeat", type=int, default=3, help="time each prompt this many times on llama.cpp")
    parser.add_argument("--no-transformers", action="store_true", help="only ours on llama.cpp and raw llama.cpp")
    parser.add_argument("--same", metavar="DATA", help="only the same-answer rate, on every question of "
                        "bench.answer_quality's journals DATA (e.g. fresh5)")
    parser.add_argument("--memory-child", choices=["llama.cpp", "transformers"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(args.memory_child)
    if args.same:
        return same_answers(args.same)
    spinner = None
    if args.busy:
        spinner = multiprocessing.Process(target=_spin, daemon=True)
        spinner.start()
    try:
        measure(args)
    finally:
        if spinner:
            spinner.terminate()
    if not args.no_memory:
        rows = []
        for engine in ("llama.cpp", "transformers"):
            out = subprocess.run([sys.executable, "-m", "bench.answer", "--memory-child", engine], cwd=REPO,
                                 capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            rows.append([engine, *json.loads(out)])
        print("\nPeak memory of a process that answers the ten questions (a child process each, VmHWM):")
        print(table(["engine", "peak RSS MB", "added by the model and answering MB"], rows))


def _spin() -> None:
    while True:
        pass


def journal_home(tmp: str):
    from memory import journal
    from memory.store import Memory

    mem = Memory.open(Path(tmp) / "home")
    for pet in ("Mochi", "Luna"):
        journal.add_subject(mem, pet, sex="male" if pet == "Mochi" else "female", neutered=True)
    for pet, day, kind, text in NOTES:
        journal.log(mem, text, subject=pet, at=day, kind=kind)
    return mem


def measure(args) -> None:
    from agent import guard, llama
    from agent.adapters import STARTER_ADAPTER
    from agent.answer import Companion
    from agent.convert import prepare_default_model
    from agent.model import generate
    from agent.settings import Settings

    why = llama.missing()
    if why:
        sys.exit(f"bench.answer: {why}; install it with `make setup` (the 'fast' extra)")
    base = prepare_default_model(REPO / ".cache" / "models", progress=lambda m: None)
    with tempfile.TemporaryDirectory(prefix="memoloop-answer-") as tmp:
        mem = journal_home(tmp)
        engines = ("llama.cpp",) if args.no_transformers else ("llama.cpp", "transformers")
        comps = {engine: Companion(mem, settings=Settings(base_model=str(base), engine=engine),
                                   progress=lambda m: None, adapters=[STARTER_ADAPTER])
                 for engine in engines}
        for comp in comps.values():
            assert comp.model.engine in comps, comp.warnings
        import llama_cpp

        lora = llama.export_lora(STARTER_ADAPTER, mem.home.models_dir / "gguf-lora")
        llama._quiet(llama_cpp)
        threads = comps["llama.cpp"].model.model.cores  # llama.cpp's default: a thread per core (ours: per free core)
        raw = llama_cpp.Llama(str(llama.base_gguf(base)), n_ctx=llama.START_CTX, n_batch=512, verbose=False,
                              n_threads=threads, n_threads_batch=threads, lora_path=str(lora))
        max_new = comps["llama.cpp"].settings.max_new_tokens
        # warm up each side once (first-call allocations), then measure
        warm = comps["llama.cpp"].draft("warm up: is Mochi sneezing?")
        for comp in comps.values():
            "".join(generate(comp.model, warm.prompt, 8))
        list(raw.create_completion(warm.prompt, max_tokens=8, temperature=0.0, stream=True))
        sides = {**{f"ours ({e})": [] for e in engines}, "raw llama.cpp": []}
        asks, examples, same_words, same_facts = [], [], 0, 0
        for question, subject in QUESTIONS:
            d = comps["llama.cpp"].draft(question, subject)
            for rep in range(args.repeat):  # transformers once: it is the slow one
                ours = [(f"ours ({e})", comps[e]) for e in engines if rep == 0 or e == "llama.cpp"]
                order = ours + [("raw llama.cpp", None)]
                for name, comp in order if (len(asks) + rep) % 2 else order[::-1]:  # each goes first in turn
                    timing = time_ours(comp, d, max_new) if comp else time_raw(raw, d, max_new)
                    sides[name].append({**timing, "first": rep == 0})
            answers = {}
            for engine, comp in comps.items():
                started, shown = time.perf_counter(), None
                turn = comp.ask_stream(question, subject)
                for kind, _text in turn.parts():
                    if kind in ("flag", "measured", "body") and shown is None:
                        shown = time.perf_counter()
                if engine == "llama.cpp":
                    asks.append({"shown": shown - started, "total": time.perf_counter() - started})
                answers[engine] = turn.answer.body
            slow = answers.get("transformers", answers["llama.cpp"])
            same_words += answers["llama.cpp"] == slow
            same_facts += guard.facts_stated(answers["llama.cpp"], d.block) == guard.facts_stated(slow, d.block)
            examples.append((question, d.notes, answers["llama.cpp"], slow))
        rows = []
        ref = sides["raw llama.cpp"]
        # time to first token of each prompt the first time it is read (a repeat finds it all in the cache)
        ref_ttft, ref_tps = percentile([t["ttft"] for t in ref if t["first"]], 50), _tps(ref)
        for name, timings in sides.items():
            ttft, tps = percentile([t["ttft"] for t in timings if t["first"]], 50), _tps(timings)
            rows.append([name, f"{percentile([t['prompt'] for t in timings], 50):.0f}", f"{ttft:.3f}",
                         f"{ref_ttft / ttft:.2f}x", f"{tps:.1f}", f"{tps / ref_tps:.2f}x"])
        print(f"{'one core kept busy' if args.busy else 'idle cores'}; greedy, at most {max_new} new tokens; "
              f"{len(QUESTIONS)} prompts, each timed {args.repeat}x on llama.cpp (time to first token: the first time)")
        print(table(["side", "prompt tokens", "time to first token s", "vs raw (higher is better)",
                     "decode tok/s", "vs raw"], rows))
        print(f"\nask end to end on llama.cpp: first words shown p50 {percentile([a['shown'] for a in asks], 50):.2f} s "
              f"(p95 {percentile([a['shown'] for a in asks], 95):.2f}), whole answer p50 "
              f"{percentile([a['total'] for a in asks], 50):.2f} s (p95 {percentile([a['total'] for a in asks], 95):.2f})")
        if not args.no_transformers:
            print(f"same answer as the trained adapter under transformers: {same_words}/{len(QUESTIONS)} word for word, "
                  f"{same_facts}/{len(QUESTIONS)} the same facts")
        for question, notes, fast, slow in examples[: args.examples]:
            print(f"\nQ: {question}\nnotes: {[f'{n.day} {n.text}' for n in notes] or 'none'}\nA (llama.cpp): {fast}"
                  + ("" if fast == slow else f"\nA (transformers): {slow}"))


def time_ours(comp, d, max_new: int) -> dict:
    from agent.decoding import Constraint
    from agent.model import Usage, generate
    from agent.prompt import STOP_TOKEN_IDS

    constraint = Constraint(comp.model.tokenizer, f"{d.block}\n{d.question}", d.no_record, STOP_TOKEN_IDS)
    usage, started, first = Usage(), time.perf_counter(), None
    for _ in generate(comp.model, d.prompt, max_new, usage, constraint):
        first = first or time.perf_counter()
    return _timing(started, first, time.perf_counter(), usage.completion_tokens, usage.prompt_tokens)


def time_raw(raw, d, max_new: int) -> dict:
    prompt_tokens = len(raw.tokenize(d.prompt.encode(), special=True))
    started, first = time.perf_counter(), None
    for _ in raw.create_completion(d.prompt, max_tokens=max_new, temperature=0.0, top_k=1, stream=True):
        first = first or time.perf_counter()
    # tokens generated: those read back into the cache, and the last one sampled (the stop token, or
    # the one at the length limit: neither is read back)
    return _timing(started, first, time.perf_counter(), raw.n_tokens - prompt_tokens + 1, prompt_tokens)


def _timing(started: float, first: float | None, ended: float, tokens: int, prompt: int) -> dict:
    first = first or ended
    return {"ttft": first - started, "decode_s": ended - first, "tokens": tokens, "prompt": prompt}


def _tps(timings: list[dict]) -> float:
    """Decode speed: the tokens after the first over the time after the first."""
    return sum(max(t["tokens"] - 1, 0) for t in timings) / max(sum(t["decode_s"] for t in timings), 1e-9)


def same_answers(data: str) -> None:
    """Every question of a labelled journal set asked with both engines: llama.cpp (Q4_K_M GGUF +
    the adapter as GGUF LoRA) against the trained adapter under transformers (fp32)."""
    from agent import guard
    from agent.adapters import STARTER_ADAPTER
    from agent.answer import Companion, Turn
    from agent.convert import prepare_default_model
    from agent.draft import draft_answer
    from agent.settings import Settings
    from bench.answer_quality import build_home, journal_now, load
    from memory import journal as jr
    from memory.store import Memory

    base = prepare_default_model(REPO / ".cache" / "models", progress=lambda m: None)
    n = words = facts = 0
    differ = []
    for j in load(data):
        with tempfile.TemporaryDirectory(prefix="memoloop-same-") as tmp, Memory.open(Path(tmp) / "home") as mem:
            build_home(mem, jr, j)
            comps = {e: Companion(mem, settings=Settings(base_model=str(base), engine=e), progress=lambda m: None,
                                  adapters=[STARTER_ADAPTER]) for e in ("llama.cpp", "transformers")}
            now = journal_now(j)
            for q in j["questions"]:
                d = draft_answer(mem, comps["llama.cpp"].pack, comps["llama.cpp"].knowledge, q["q"], now=now)
                bodies = []
                for comp in comps.values():
                    turn = Turn(comp, d)
                    for _ in turn:
                        pass
                    bodies.append(turn.answer.body)
                n += 1
                words += bodies[0] == bodies[1]
                same = guard.facts_stated(bodies[0], d.block) == guard.facts_stated(bodies[1], d.block)
                facts += same
                if not same:
                    differ.append((q["q"], *bodies))
                print(f"{n}: {'same' if bodies[0] == bodies[1] else 'same facts' if same else 'DIFFERENT'}: {q['q'][:60]}",
                      file=sys.stderr, flush=True)
    print(f"{data}: {n} questions; llama.cpp vs the trained adapter under transformers: {words}/{n} "
          f"({words / n:.0%}) word for word, {facts}/{n} ({facts / n:.0%}) the same facts")
    for q, fast, slow in differ:
        print(f"\nQ: {q}\nA (llama.cpp): {fast}\nA (transformers): {slow}")


def memory_child(engine: str) -> None:
    from agent.adapters import STARTER_ADAPTER
    from agent.answer import Companion
    from agent.convert import prepare_default_model
    from agent.settings import Settings

    base = prepare_default_model(REPO / ".cache" / "models", progress=lambda m: None)
    with tempfile.TemporaryDirectory(prefix="memoloop-answer-") as tmp:
        mem = journal_home(tmp)
        comp = Companion(mem, settings=Settings(base_model=str(base), engine=engine), progress=lambda m: None,
                         adapters=[STARTER_ADAPTER])
        comp.draft("warm up: is Mochi sneezing?")  # recall: the journal, the embedding model, the pack
        before = _peak_mb()
        for question, subject in QUESTIONS:
            comp.ask(question, subject)
        peak = _peak_mb()
    print(json.dumps([round(peak), round(peak - before)]))


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


if __name__ == "__main__":
    main()
