"""The ``spamgate`` command. Thin: parse options, call a service, print the result."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from spamgate import __version__
from spamgate.batch import count_rows, scan_rows
from spamgate.config import Settings
from spamgate.domain.verdict import Action, Verdict
from spamgate.errors import ConfigError, InputError
from spamgate.pipeline import MessageFields, Pipeline

__all__ = ["app"]

app = typer.Typer(
    name="spamgate",
    help="Stop illegal spam in the Korean bulk-messaging chain. 불법 스팸 차단 게이트웨이.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

DataDir = Annotated[
    Path,
    typer.Option("--data-dir", envvar="SPAMGATE_DATA_DIR", help="Where databases and spools live."),
]
ConfigPath = Annotated[
    Path | None,
    typer.Option(
        "--config", envvar="SPAMGATE_CONFIG", help="Policy TOML merged over the defaults."
    ),
]

_ACTION_KO = {
    Action.DELIVER: "전달",
    Action.LABEL: "스팸 의심 표시",
    Action.SPAMBOX: "스팸함",
    Action.OVERSEAS_INBOX: "국외발신함",
    Action.THROTTLE: "발송 속도 제한",
    Action.REJECT: "차단",
    Action.ERROR: "판정 불가",
}


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _pipeline(config: Path | None) -> Pipeline:
    try:
        return Pipeline.from_config(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _setup_logging(level: str = "WARNING") -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


@app.command()
def check(
    text: Annotated[str, typer.Option("--text", help="Message text.")],
    sender: Annotated[str | None, typer.Option(help="Sender number (caller ID).")] = None,
    recipient: Annotated[str | None, typer.Option(help="Recipient number.")] = None,
    route: Annotated[str | None, typer.Option(help="domestic | international.")] = None,
    at: Annotated[str | None, typer.Option(help="Submission time, ISO-8601 (Korea time).")] = None,
    account: Annotated[str | None, typer.Option(help="Sending account id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
    data_dir: DataDir = Path("./var"),
    config: ConfigPath = None,
) -> None:
    """Judge one message and explain the verdict (exit 2 if it cannot be judged)."""
    _setup_logging()
    pipeline = _pipeline(config)
    verdict = pipeline.judge_fields(
        MessageFields(text, sender=sender, recipient=recipient, route=route, at=at, account=account)
    )
    if as_json:
        typer.echo(json.dumps(verdict.to_dict(), ensure_ascii=False))
    else:
        _print_verdict(verdict)
    if verdict.action == Action.ERROR:
        raise typer.Exit(2)


def _print_verdict(verdict: Verdict) -> None:
    out = Console()
    if verdict.action == Action.ERROR:
        out.print(f"[bold red]판정 불가 / error[/]: {verdict.reason}", highlight=False)
        return
    colour = {"deliver": "green", "label": "yellow", "reject": "red"}.get(verdict.action, "magenta")
    out.print(
        f"[bold {colour}]{verdict.action.value}[/] ({_ACTION_KO[verdict.action]})  "
        f"score {verdict.score:.1f}  policy {verdict.policy}",
        highlight=False,
    )
    if verdict.symbols:
        table = Table("symbol", "score", "why / 설명", "evidence / 근거")
        for sym in verdict.symbols:
            table.add_row(sym.name, f"{sym.score:.1f}", sym.description, sym.evidence or "")
        out.print(table)


@app.command()
def scan(
    input_csv: Annotated[Path, typer.Argument(metavar="INPUT.csv", help="CSV with a text column.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write JSON lines here (default stdout).")
    ] = None,
    data_dir: DataDir = Path("./var"),
    config: ConfigPath = None,
) -> None:
    """Judge every row of a CSV; one JSON verdict per row, in input order, with "row"."""
    _setup_logging()
    pipeline = _pipeline(config)
    total = count_rows(input_csv)
    try:
        sink = output.open("w", encoding="utf-8") if output else sys.stdout
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror}") from None
    counts: dict[str, int] = {}
    try:
        with _progress() as progress:
            task = progress.add_task("scanning", total=total or None)
            for row, verdict in scan_rows(pipeline, input_csv):
                record: dict[str, Any] = {"row": row, **verdict.to_dict()}
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                counts[verdict.action.value] = counts.get(verdict.action.value, 0) + 1
                progress.advance(task)
    except InputError as exc:
        raise _fail(str(exc)) from None
    finally:
        if output:
            sink.close()
        else:
            sink.flush()
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no rows"
    err.print(f"{sum(counts.values())} rows: {summary}", highlight=False)


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


@app.command()
def serve(
    http_host: Annotated[str, typer.Option(envvar="SPAMGATE_HTTP_HOST")] = "127.0.0.1",
    http_port: Annotated[int, typer.Option(envvar="SPAMGATE_HTTP_PORT")] = 8080,
    smpp_port: Annotated[
        int, typer.Option(envvar="SPAMGATE_SMPP_PORT", help="SMPP listener (gateway issue).")
    ] = 2775,
    demo: Annotated[bool, typer.Option(help="Loopback only, seeded demo data.")] = False,
    log_level: Annotated[str, typer.Option(envvar="SPAMGATE_LOG_LEVEL")] = "INFO",
    data_dir: DataDir = Path("./var"),
    config: ConfigPath = None,
) -> None:
    """Run the HTTP API and console (SMPP joins in the gateway issue)."""
    import uvicorn

    from spamgate.api.app import create_app

    _setup_logging(log_level)
    if demo and http_host not in ("127.0.0.1", "localhost", "::1"):
        raise _fail("--demo listens on loopback only")
    settings = Settings(
        data_dir=data_dir,
        config=config,
        http_host=http_host,
        http_port=http_port,
        smpp_port=smpp_port,
        demo=demo,
        log_level=log_level,
    )
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        application = create_app(settings)
    except (ConfigError, OSError) as exc:
        raise _fail(str(exc)) from None
    if demo:
        err.print("[bold]demo mode[/]: loopback only, demo data; do not expose this instance.")
    err.print(f"spamgate {__version__}: HTTP on http://{http_host}:{http_port}", highlight=False)
    uvicorn.run(application, host=http_host, port=http_port, log_level=log_level.lower())


@app.command()
def bench(
    name: Annotated[str, typer.Argument(help="Benchmark name, e.g. 'pipeline'.")],
    messages: Annotated[int, typer.Option("--messages", "-n", help="Messages to run.")] = 100_000,
    data: Annotated[
        Path | None, typer.Option(help="Folder of CSV sets (default ../shared/data).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Where JSON results go.")] = Path("bench/results"),
    config: ConfigPath = None,
) -> None:
    """Run a benchmark from bench/ (prints a table, writes JSON)."""
    from spamgate.benchmarks import run_benchmark

    try:
        run_benchmark(name, messages=messages, data=data, out=out, config=config, console=Console())
    except (InputError, ConfigError) as exc:
        raise _fail(str(exc)) from None


def main() -> None:  # pragma: no cover - console-script entry
    app()


# -- spamgate numbers: the invalid-number registry (issue 5, item 4) ---------------------------

numbers_app = typer.Typer(
    help="Invalid-number registry: import number-status snapshots, look numbers up.",
    no_args_is_help=True,
)
app.add_typer(numbers_app, name="numbers")


@numbers_app.command("import")
def numbers_import(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="CSV with a 'number,status' header.")
    ],
    delta: Annotated[
        bool,
        typer.Option("--delta", help="Apply over the current snapshot instead of replacing it."),
    ] = False,
    data_dir: DataDir = Path("./var"),
    config: ConfigPath = None,
) -> None:
    """Import a full snapshot (or, with --delta, changes) into <data-dir>/numbers/status.bin.

    A full snapshot is the whole truth: 010 numbers it does not list become unallocated. Any bad
    line (reported with its line number) refuses the whole file (exit 2); nothing is applied.
    """
    from rich.markup import escape
    from rich.progress import DownloadColumn, TransferSpeedColumn

    from spamgate.registry.number_status import NumberStatusError, import_into, snapshot_path

    _setup_logging()
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("importing", total=None)
        try:
            result = import_into(
                data_dir,
                file,
                delta=delta,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        except NumberStatusError as exc:
            raise _fail(escape(str(exc))) from None
    counts = result.table.counts()
    kind = "delta" if delta else "full snapshot"
    typer.echo(
        f"imported {result.rows:,} rows ({kind}: {result.mobile_rows:,} in 010, "
        f"{result.other_rows:,} other) into {snapshot_path(data_dir)}"
    )
    table = Table("status", "010 range", "other ranges", title="numbers now known")
    for label, mobile in counts.mobile.items():
        table.add_row(label, f"{mobile:,}", f"{counts.other[label]:,}")
    if not result.table.full:
        table.add_row("no data", f"{counts.mobile_no_data:,}", "")
    Console().print(table)


@numbers_app.command("lookup")
def numbers_lookup(
    numbers: Annotated[
        list[str], typer.Argument(metavar="NUM...", help="Numbers, written any usual way.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    data_dir: DataDir = Path("./var"),
    config: ConfigPath = None,
) -> None:
    """Print each number, its canonical digits and its status ("no data" when unknown)."""
    from rich.markup import escape

    from spamgate.registry.number_status import NumberStatusError, load_from

    try:
        snapshot = load_from(data_dir)
    except NumberStatusError as exc:
        raise _fail(escape(str(exc))) from None
    if snapshot is None:
        raise _fail(f"no number-status snapshot under {data_dir}; run 'spamgate numbers import'")
    answers = [snapshot.explain(number) for number in numbers]
    if as_json:
        for answer in answers:
            typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    table = Table("number", "digits", "kind", "status")
    for answer in answers:
        status = answer.status.label if answer.status is not None else "no data"
        table.add_row(escape(answer.number), answer.digits, answer.kind.value, status)
    Console().print(table)
