"""The ``discretion`` command: scan, check, explain, check-config, serve."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

from discretion.config import ConfigError, Settings, load_settings
from discretion.message import Message

EXIT_OK, EXIT_LINE_ERRORS, EXIT_CONFIG = 0, 1, 2


def _engine(settings: Settings) -> Any:
    from discretion.engine import Engine

    return Engine(settings)


def _settings(path: str | None) -> Settings:
    try:
        return load_settings(path)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


# --- scan --------------------------------------------------------------------------


def _parse_line(raw: bytes, n: int) -> tuple[dict[str, Any] | None, Message | None]:
    """(error record, None) for a bad line, (None, message) for a good one."""

    def bad(why: str, ident: Any = None) -> tuple[dict[str, Any], None]:
        return {"id": ident, "line": n, "error": why}, None

    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return bad(f"not UTF-8 (byte {exc.start})")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return bad(f"not JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(obj, dict):
        return bad("expected a JSON object with 'id' and 'text'")
    ident = obj.get("id")
    if isinstance(ident, (dict, list)):
        return bad("'id' must be a string or a number")
    text = obj.get("text")
    if not isinstance(text, str):
        return bad("missing 'text'" if text is None else "'text' must be a string", ident)
    ctx = {k: obj.get(k) for k in ("channel", "author", "thread")}
    for key, value in ctx.items():
        if value is not None and not isinstance(value, (str, int)):
            return bad(f"'{key}' must be a string", ident)
    message = Message(
        text=text,
        channel=None if ctx["channel"] is None else str(ctx["channel"]),
        author=None if ctx["author"] is None else str(ctx["author"]),
        thread=None if ctx["thread"] is None else str(ctx["thread"]),
        message_id=None if ident is None else str(ident),
        platform="scan",
    )
    return None, message


def _batches(stream: IO[bytes], size: int) -> Iterator[list[tuple[int, bytes]]]:
    batch: list[tuple[int, bytes]] = []
    for n, raw in enumerate(stream, 1):
        raw = raw.rstrip(b"\r\n")
        if not raw.strip():
            continue
        batch.append((n, raw))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def scan(stream: IO[bytes], out: IO[str], engine: Any) -> int:
    """Assess JSON lines from ``stream``; one JSON line out per input line, in order."""
    from discretion.memory import memory_for

    memory = memory_for(engine.settings)
    failed = False
    for batch in _batches(stream, engine.settings.nlp.batch_size):
        parsed = [(n, *_parse_line(raw, n), _raw_id(raw)) for n, raw in batch]
        messages = [m for _, _, m, _ in parsed if m is not None]
        assessments = iter(engine.assess_many(messages, memory=memory)) if messages else iter(())
        for _n, error, _message, ident in parsed:
            if error is not None:
                failed = True
                out.write(json.dumps(error) + "\n")
                continue
            a = next(assessments)
            record = {"id": ident, **a.to_json()}
            # ASCII-escaped so that even a lone surrogate from the input is valid output.
            out.write(json.dumps(record) + "\n")
        out.flush()
    return EXIT_LINE_ERRORS if failed else EXIT_OK


def _raw_id(raw: bytes) -> Any:
    """The id exactly as the input gave it (a number stays a number)."""
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return obj.get("id") if isinstance(obj, dict) else None


# --- check / explain ---------------------------------------------------------------


def render_check(assessment: Any) -> str:
    """What a person sees for ``discretion check``: verdict, findings, reasons, redacted text."""
    lines = []
    if assessment.warn:
        lines.append(
            f"WARNING: this message could identify a patient (risk {assessment.risk:.2f})."
        )
    else:
        lines.append(
            f"OK: nothing that identifies a patient was found (risk {assessment.risk:.2f})."
        )
    if assessment.findings:
        lines.append("")
        lines.append("What was found:")
        from discretion.reasons import describe

        for f in assessment.findings:
            lines.append(
                f"  - {describe(f.entity_type)} ({f.entity_type}, characters {f.start}-{f.end}, "
                f"score {f.score:.2f}, {f.recognizer})"
            )
    if assessment.reasons:
        lines.append("")
        lines.append("Why it matters:")
        lines.extend(f"  {r}" for r in assessment.reasons)
    if assessment.warn:
        lines.append("")
        lines.append("Safe to post instead:")
        lines.append(f"  {assessment.redacted}")
    return "\n".join(lines)


def render_explain(explanations: list[dict[str, Any]]) -> str:
    """Presidio's decision process, one block per candidate finding."""
    if not explanations:
        return "No recognizer matched anything in this text."
    out = []
    for e in explanations:
        verdict = "kept" if e["kept"] else "dropped (allow list, threshold or staff rule)"
        out.append(
            f"{e['entity_type']} at characters {e['start']}-{e['end']}: {verdict}, "
            f"score {e['score']:.2f}, recognizer {e['recognizer']}"
        )
        out.extend(f"    {step}" for step in e["steps"])
    return "\n".join(out)


# --- check-config ------------------------------------------------------------------


def check_config(path: str | None) -> int:
    """Validate a site file and run each local recognizer's own examples."""
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        engine = _engine(settings)
    except ConfigError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    failures = []
    for spec in settings.recognizers:
        for i, example in enumerate(spec.should_match):
            hits = [
                f for f in engine.assess(Message(example)).findings if f.recognizer == spec.name
            ]
            if not hits:
                failures.append(f"recognizers[{spec.name}].should_match[{i}]: not matched")
        for i, example in enumerate(spec.should_not_match):
            hits = [
                f for f in engine.assess(Message(example)).findings if f.recognizer == spec.name
            ]
            if hits:
                failures.append(f"recognizers[{spec.name}].should_not_match[{i}]: matched")
    where = path or os.environ.get("DISCRETION_CONFIG") or "shipped defaults"
    if failures:
        print(f"{where}: local recognizer examples failed:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"{where}: valid (version {settings.config_version}, {len(settings.recognizers)} local "
        f"recognizers, {len(engine.analysis.recognizer_names)} recognizers in all)"
    )
    return EXIT_OK


# --- entry point -------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="discretion", description=__doc__)
    p.add_argument("--config", help="site configuration file (default: $DISCRETION_CONFIG)")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("scan", help="assess JSON lines {id, text} and print one JSON line each")
    s.add_argument("file", nargs="?", default="-")
    c = sub.add_parser("check", help="check one message, for a person")
    c.add_argument("text")
    e = sub.add_parser("explain", help="show Presidio's decision process for each finding")
    e.add_argument("text")
    k = sub.add_parser("check-config", help="validate a configuration file strictly")
    k.add_argument("file", nargs="?")
    ev = sub.add_parser("eval", help="measure a configuration against a labelled corpus")
    ev.add_argument("corpus")
    # SUPPRESS: without --config here, the top-level --config (if any) is kept.
    ev.add_argument("--config", default=argparse.SUPPRESS, help="configuration to measure")
    ev.add_argument("--compare", metavar="PROPOSED", help="a proposed configuration to compare")
    ev.add_argument("--json", metavar="OUT", help="write every figure here as JSON")
    ev.add_argument("--kinds", help="comma-separated kinds to keep, e.g. direct,quasi")
    v = sub.add_parser("serve", help="run the web server (Slack, Teams, pages)")
    v.add_argument("--host", default=os.environ.get("DISCRETION_HOST", "127.0.0.1"))
    v.add_argument("--port", type=int, default=int(os.environ.get("DISCRETION_PORT", "3978")))
    from discretion.web.admin import add_parser as add_create_user

    add_create_user(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    from discretion import logs

    logs.configure(
        os.environ.get("DISCRETION_LOG_LEVEL", "WARNING" if args.command != "serve" else "INFO")
    )
    if args.command == "check-config":
        return check_config(args.file or args.config)
    if args.command == "create-user":
        from discretion.web.admin import create_user_command

        return create_user_command(args)
    if args.command == "eval":
        from discretion.evaluate import command

        return command(args.corpus, args.config, args.compare, args.json, args.kinds)
    settings = _settings(args.config)
    if args.command == "serve":
        from discretion.server import serve

        if args.config:
            # The hot reloader watches DISCRETION_CONFIG: make --config the file it watches.
            os.environ["DISCRETION_CONFIG"] = os.path.abspath(args.config)
        return serve(settings, host=args.host, port=args.port)
    engine = _engine(settings)
    if args.command == "scan":
        if args.file == "-":
            return scan(sys.stdin.buffer, sys.stdout, engine)
        try:
            with open(args.file, "rb") as fh:
                return scan(fh, sys.stdout, engine)
        except OSError as exc:
            print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return EXIT_CONFIG
    if args.command == "check":
        print(render_check(engine.assess(Message(args.text))))
        return EXIT_OK
    if args.command == "explain":
        print(render_explain(engine.explain(args.text)))
        return EXIT_OK
    return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
