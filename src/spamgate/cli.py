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


def _pipeline(config: Path | None, data_dir: Path | None = None) -> Pipeline:
    try:
        pipeline = Pipeline.from_config(config, data_dir)
        if data_dir is not None:  # the registry rules too, when the data dir has a registry
            from spamgate.registry.judging import open_for_judging

            pipeline.registry = open_for_judging(Settings(data_dir=data_dir))
        return pipeline
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
    """Judge one message and explain the verdict (exit 2 if it cannot be judged).

    When --data-dir holds a registry (or a number-status snapshot), its rules apply as on the
    API; an operator's check is no submission, so no per-send proof is asked for.
    """
    _setup_logging()
    pipeline = _pipeline(config, data_dir)
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
    """Judge every row of a CSV; one JSON verdict per row, in input order, with "row".

    The registry of --data-dir judges too, as for `check` (the `account` column names the
    account).
    """
    _setup_logging()
    pipeline = _pipeline(config, data_dir)
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
        int,
        typer.Option(envvar="SPAMGATE_SMPP_PORT", help="SMPP listener port; 0 disables SMPP."),
    ] = 2775,
    smpp_host: Annotated[str, typer.Option(envvar="SPAMGATE_SMPP_HOST")] = "127.0.0.1",
    demo: Annotated[bool, typer.Option(help="Loopback only, seeded demo data.")] = False,
    log_level: Annotated[str, typer.Option(envvar="SPAMGATE_LOG_LEVEL")] = "INFO",
    upstream: Annotated[
        list[str] | None,
        typer.Option(
            "--upstream",
            metavar="[SYSTEM_ID@]HOST:PORT",
            help="Carrier SMSC to forward to (repeatable; password from "
            "SPAMGATE_UPSTREAM_PASSWORD). Without any, accepted messages stay spooled.",
        ),
    ] = None,
    data_dir: DataDir = Path("./var"),
    config: ConfigPath = None,
) -> None:
    """Run the SMPP gateway, the HTTP API and the console in one process.

    SMPP logins come from [smpp.accounts.<system_id>] in --config (see `spamgate smpp
    hash-password`); accepted messages go to the write-ahead spool under --data-dir.
    """
    import asyncio

    from spamgate.api.app import create_app
    from spamgate.smpp.service import DEMO_PASSWORD, DEMO_SYSTEM_ID, run_gateway

    _setup_logging(log_level)
    loopback = ("127.0.0.1", "localhost", "::1")
    if demo and (http_host not in loopback or (smpp_port and smpp_host not in loopback)):
        raise _fail("--demo listens on loopback only")
    if demo:  # the demo's data (and its credentials) never mix with real data
        data_dir = data_dir / "demo"
    settings = Settings(
        data_dir=data_dir,
        config=config,
        http_host=http_host,
        http_port=http_port,
        smpp_host=smpp_host,
        smpp_port=smpp_port,
        demo=demo,
        log_level=log_level,
        upstreams=upstream or [],
    )
    if demo:
        settings.database_url = None  # always the demo's own SQLite file
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        application = create_app(settings)
    except (ConfigError, OSError) as exc:
        raise _fail(str(exc)) from None
    if demo:
        err.print("[bold]demo mode[/]: loopback only, demo data; do not expose this instance.")
        _print_demo(application.state.registry, settings.data_dir)
        if smpp_port:
            err.print(f"demo SMPP login: {DEMO_SYSTEM_ID} / {DEMO_PASSWORD}", highlight=False)
    smpp = f", SMPP on {smpp_host}:{smpp_port}" if smpp_port else ", SMPP off"
    err.print(
        f"spamgate {__version__}: HTTP on http://{http_host}:{http_port}{smpp}", highlight=False
    )
    try:
        asyncio.run(run_gateway(application, settings, log_level=log_level))
    except (OSError, ConfigError) as exc:  # e.g. the SMPP port is taken, a bad --upstream
        raise _fail(str(exc)) from None


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


@numbers_app.command("import-carriers")
def numbers_import_carriers(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="CSV of 'number,carrier' rows (ported numbers).")
    ],
    data_dir: DataDir = Path("./var"),
    config: ConfigPath = None,
) -> None:
    """Import the number-to-carrier table the SMPP route table uses (numbers are portable).

    Replaces <data-dir>/numbers/carriers.npz; a running `spamgate serve` reads it on restart.
    Bad rows are reported (row number, why) and skipped; exit 2 if none was usable.
    """
    from rich.markup import escape

    from spamgate.smpp.routing import load_carrier_csv
    from spamgate.smpp.upstream_service import carrier_table_path

    try:
        table, errors = load_carrier_csv(file)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _fail(escape(f"{file}: {exc}")) from None
    for error in errors[:20]:
        err.print(escape(error), highlight=False)
    if len(errors) > 20:
        err.print(f"… {len(errors) - 20} more bad rows", highlight=False)
    if not len(table):
        raise _fail("no usable rows: the carrier table was not changed")
    target = carrier_table_path(data_dir)
    table.save(target)
    typer.echo(f"imported {len(table):,} numbers ({', '.join(table.names)}) into {target}")


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


# -- spamgate model: train and evaluate the content and URL models (issue 4) -------------------

model_app = typer.Typer(
    help="Train and evaluate the content model and the phishing-URL model.",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model")


@model_app.command("train")
def model_train(
    data: Annotated[
        list[Path],
        typer.Option("--data", help="Labelled CSV (label,text or label,url); repeat the flag."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Artifact directory to write.")],
    seed: Annotated[int, typer.Option(help="Random seed (training is deterministic).")] = 20261126,
    model_id: Annotated[
        str | None, typer.Option("--model-id", help="e.g. sms-ko-en-2026.11.1 (default: today).")
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="content | url (default: from the CSV header).")
    ] = None,
) -> None:
    """Train a model (validation split: 20 <= bucket < 35) and write model.json + weights.npz."""
    from rich.markup import escape

    from spamgate.model.artifact import ModelError
    from spamgate.model.service import train_to_dir

    _setup_logging()
    if kind not in (None, "content", "url"):
        raise _fail("--kind must be content or url")
    try:
        meta = train_to_dir(
            data,
            out,
            kind=kind,  # type: ignore[arg-type]
            seed=seed,
            model_id=model_id,
            progress=lambda msg: err.print(msg, highlight=False),
        )
    except (InputError, ModelError) as exc:
        raise _fail(escape(str(exc))) from None
    rows = meta["training_rows"]
    err.print(
        f"model {meta['model_id']} ({meta['kind']}) written to {out}: "
        f"{rows['train']:,} training and {rows['validation']:,} validation rows",
        highlight=False,
    )
    table = Table("threshold", "probability", title="thresholds (validation ham FPR)")
    for name, value in meta["thresholds"].items():
        table.add_row(name, f"{value:.4f}")
    Console().print(table)


@model_app.command("eval")
def model_eval(
    data: Annotated[Path, typer.Option("--data", help="Labelled CSV (label,text).")],
    report: Annotated[Path, typer.Option("--report", help="Folder for report.html and PNGs.")],
    model: Annotated[
        Path | None, typer.Option("--model", help="Model directory (default: the shipped one).")
    ] = None,
    split: Annotated[
        str,
        typer.Option(help="all | validation | train | holdout rows of the bucket rule."),
    ] = "all",
    fpr: Annotated[
        float, typer.Option(help="Use the model's threshold for this validation ham FPR.")
    ] = 0.005,
    obfuscate: Annotated[
        bool, typer.Option("--obfuscate", help="Also score obfuscated variants of the spam.")
    ] = False,
) -> None:
    """Precision, recall, F1, ham FPR, AUCs, confusion matrix, plots, one HTML report."""
    from rich.markup import escape

    from spamgate.model.artifact import ModelError
    from spamgate.model.service import eval_to_dir

    _setup_logging()
    try:
        ev, page = eval_to_dir(
            model, data, report, split=split, fpr_point=fpr, with_obfuscation=obfuscate
        )
    except (InputError, ModelError) as exc:
        raise _fail(escape(str(exc))) from None
    for warning in ev.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    at = ev.summary["at_model_threshold"]
    table = Table(
        "rows", "precision", "recall", "F1", "ham FPR", "ROC-AUC", "PR-AUC",
        title=f"{ev.model_id} on {ev.data} ({ev.split}; {ev.threshold_name})",
    )  # fmt: skip
    table.add_row(
        f"{ev.summary['rows']:,}",
        f"{at['precision']:.4f}",
        f"{at['recall']:.4f}",
        f"{at['f1']:.4f}",
        f"{at['ham_fpr']:.4%}",
        str(ev.summary.get("roc_auc")),
        str(ev.summary.get("pr_auc")),
    )
    out = Console()
    out.print(table)
    if ev.obfuscation is not None:
        obf = ev.obfuscation
        variants = ", ".join(f"{k} {v['drop_points']:+.2f}" for k, v in obf["variants"].items())
        out.print(f"obfuscation recall drop (points): {variants}", highlight=False)
    out.print(f"report: {page}", highlight=False)


# -- spamgate campaigns: register reported spam campaigns (issue 4, item 5) --------------------

campaigns_app = typer.Typer(
    help="Reported spam campaigns: every variant of a registered text is caught.",
    no_args_is_help=True,
)
app.add_typer(campaigns_app, name="campaigns")


@campaigns_app.command("add")
def campaigns_add(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="A CSV with a text column, or a text file (one)."),
    ],
    data_dir: DataDir = Path("./var"),
    config: ConfigPath = None,
) -> None:
    """Register confirmed spam texts as campaigns; running gateways pick them up at once."""
    from rich.markup import escape

    from spamgate.model.campaigns import CampaignIndex, read_campaign_file

    _setup_logging()
    try:
        texts = read_campaign_file(file)
        index = CampaignIndex.open(data_dir)
        new = index.add_texts(texts, source=file.name)
    except (InputError, OSError) as exc:
        raise _fail(escape(str(exc))) from None
    typer.echo(
        f"{len(new)} new campaign(s) from {len(texts)} text(s); {len(index)} registered "
        f"in {data_dir}"
    )
    for campaign_id in new:
        typer.echo(campaign_id)


# -- spamgate smpp / sim: SMPP gateway helpers and simulators (issue 6) -------------------------

smpp_app = typer.Typer(help="SMPP gateway helpers.", no_args_is_help=True)
app.add_typer(smpp_app, name="smpp")

SmppPassword = Annotated[
    str,
    typer.Option(
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="SPAMGATE_SMPP_PASSWORD",
        help="The SMPP bind password (1-8 characters, SMPP 3.4); only its argon2 hash is kept.",
    ),
]


@smpp_app.command("hash-password")
def smpp_hash_password(
    password: SmppPassword,
) -> None:
    """Print an argon2id hash for [smpp.accounts.<system_id>] password_hash = "..."."""
    from spamgate.smpp.auth import hash_password

    settings = Settings()
    try:
        hashed = hash_password(
            password,
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(hashed)


@smpp_app.command("set-login")
def smpp_set_login(
    operator: Annotated[int, typer.Option("--operator", help="The reseller's operator id.")],
    system_id: Annotated[str, typer.Option(help="SMPP system_id (1-15 characters).")],
    password: SmppPassword,
    data_dir: DataDir = Path("./var"),
) -> None:
    """Set (or change) a reseller's SMPP login in the registry (audited)."""
    from spamgate.errors import RegistryError
    from spamgate.registry.auth import Principal
    from spamgate.registry.models import Role

    _setup_logging()
    registry = _open_registry(data_dir)
    try:
        registry.set_smpp_login(
            Principal(Role.REGULATOR, None, None, "cli"),
            operator,
            system_id=system_id,
            password=password,
        )
    except RegistryError as exc:
        raise _fail(str(exc)) from None
    finally:
        registry.close()
    err.print(
        f"SMPP login {system_id!r} set for operator {operator} "
        f"(SMPP 로그인 설정됨; binds need a current certification)",
        highlight=False,
    )


rate_app = typer.Typer(
    help="Send-rate overrides of a running gateway (발송 속도 제한).", no_args_is_help=True
)
smpp_app.add_typer(rate_app, name="rate")


def _rate_table(data_dir: Path) -> Any:
    from spamgate.config import load_policy
    from spamgate.smpp.ratelimit import RATES_FILE, RateTable

    rates = load_policy().smpp.rates
    return RateTable(
        reseller=rates.reseller,
        tiers=rates.tiers,
        default_tier=rates.default_tier,
        path=data_dir / RATES_FILE,
    )


@rate_app.command("set")
def smpp_rate_set(
    kind: Annotated[str, typer.Argument(help="reseller (a system_id) or account (an id).")],
    key: Annotated[str, typer.Argument(help="The system_id or account id.")],
    per_second: Annotated[
        int | None, typer.Option(help="Messages a second (0 stops the sender).")
    ] = None,
    factor: Annotated[
        float | None, typer.Option(help="Multiply the base rate instead, e.g. 0.1.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (shown in RATE_LIMITED evidence).")] = "",
    data_dir: DataDir = Path("./var"),
) -> None:
    """Override a bucket's rate; a running gateway applies it within a second."""
    from spamgate.smpp.ratelimit import RateOverride

    if kind not in ("reseller", "account"):
        raise _fail("kind must be reseller or account")
    try:
        override = RateOverride(per_second=per_second, factor=factor, reason=reason[:200])
    except ValueError as exc:
        raise _fail(str(exc)) from None
    table = _rate_table(data_dir)
    table.set(kind, key, override)
    rate, why = table.rate(kind, key)
    typer.echo(f"{kind} {key}: {rate}/s ({why})")


@rate_app.command("clear")
def smpp_rate_clear(
    kind: Annotated[str, typer.Argument(help="reseller or account.")],
    key: Annotated[str, typer.Argument(help="The system_id or account id.")],
    data_dir: DataDir = Path("./var"),
) -> None:
    """Remove a bucket's override (back to the policy's rate)."""
    if kind not in ("reseller", "account"):
        raise _fail("kind must be reseller or account")
    table = _rate_table(data_dir)
    table.set(kind, key, None)
    rate, why = table.rate(kind, key)
    typer.echo(f"{kind} {key}: {rate}/s ({why})")


@rate_app.command("show")
def smpp_rate_show(data_dir: DataDir = Path("./var")) -> None:
    """List the overrides in force."""
    table = _rate_table(data_dir)
    for kind, entries in table.overrides().items():
        for key in sorted(entries):
            rate, why = table.rate(kind, key)
            typer.echo(f"{kind} {key}: {rate}/s ({why})")


sim_app = typer.Typer(
    help="SMPP simulators for tests and benchmarks (loopback).", no_args_is_help=True
)
app.add_typer(sim_app, name="sim")


@sim_app.command("smsc")
def sim_smsc(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 2776,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    delay_ms: Annotated[float, typer.Option(help="Wait this long before each answer.")] = 0.0,
    fail_rate: Annotated[
        float, typer.Option(help="Share of submits answered ESME_RSUBMITFAIL (0-1).")
    ] = 0.0,
    drop_rate: Annotated[
        float, typer.Option(help="Share of submits that drop the connection instead (0-1).")
    ] = 0.0,
    receipts: Annotated[
        bool, typer.Option(help="Send delivery receipts when registered_delivery asks.")
    ] = True,
    system_id: Annotated[
        str | None, typer.Option(help="Accept only this login (default: any).")
    ] = None,
    password: Annotated[str, typer.Option(envvar="SPAMGATE_SIM_PASSWORD")] = "",
    seconds: Annotated[float, typer.Option(help="Stop after this long (0: until Ctrl-C).")] = 0.0,
) -> None:
    """An SMSC sink: binds clients, acks submit_sm, sends receipts; can be slow or flaky."""
    import asyncio

    from spamgate.smpp.sim import SimSmsc

    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print("[yellow]warning:[/] the simulator is meant for loopback use", highlight=False)
    try:
        sim = SimSmsc(
            delay_ms=delay_ms,
            fail_rate=fail_rate,
            drop_rate=drop_rate,
            receipts=receipts,
            system_id=system_id,
            password=password,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None

    async def run() -> None:
        await sim.start(host, port)
        err.print(f"sim smsc listening on {host}:{sim.port}", highlight=False)
        try:
            if seconds > 0:
                await asyncio.sleep(seconds)
            else:
                await asyncio.Event().wait()
        finally:
            await sim.close()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise _fail(str(exc)) from None
    stats = sim.stats
    err.print(
        f"binds {stats.binds}, submits {stats.submits}: accepted {stats.accepted}, "
        f"failed {stats.failed}, dropped {stats.dropped}; receipts {stats.receipts}",
        highlight=False,
    )


@sim_app.command("esme")
def sim_esme(
    host: Annotated[str, typer.Option(help="Gateway (or SMSC) address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Its SMPP port.")] = 2775,
    rate: Annotated[float, typer.Option(help="Messages per second (0: as fast as allowed).")] = 100,
    count: Annotated[int, typer.Option(help="Messages to send.")] = 1000,
    system_id: Annotated[str, typer.Option(envvar="SPAMGATE_SMPP_SYSTEM_ID")] = "demo",
    password: Annotated[str, typer.Option(envvar="SPAMGATE_SMPP_PASSWORD")] = "",
    window: Annotated[int, typer.Option(help="Unanswered submits allowed per link.")] = 100,
    connections: Annotated[int, typer.Option(help="Parallel binds.")] = 1,
    text: Annotated[
        list[str] | None, typer.Option("--text", help="Message text (repeat to mix).")
    ] = None,
    corpus: Annotated[
        Path | None, typer.Option(help="CSV with a 'text' column to draw messages from.")
    ] = None,
    coding: Annotated[str, typer.Option(help="ucs2 | ksc5601")] = "ucs2",
    account: Annotated[
        str | None, typer.Option(help="Registry account id: sign every message (per-send proof).")
    ] = None,
    send_secret: Annotated[
        str | None, typer.Option(envvar="SPAMGATE_SEND_SECRET", help="That account's secret.")
    ] = None,
    sender: Annotated[str, typer.Option(help="source_addr of every message.")] = "0212345678",
    recipient: Annotated[str, typer.Option(help="destination_addr.")] = "01098765432",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """A load generator: submit_sm at a steady rate; prints a latency histogram and a summary.

    A registry bind (e.g. the demo's) wants a per-send proof on every message: pass ``--account``
    and ``--send-secret`` (printed by ``serve --demo``)."""
    import asyncio

    from spamgate.smpp.sim import run_load

    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        raise _fail("the load generator only targets loopback addresses")
    codings = {"ucs2": 0x08, "ksc5601": 0x0E}
    if coding not in codings:
        raise _fail("--coding must be ucs2 or ksc5601")
    texts = list(text or [])
    if corpus is not None:
        import csv

        try:
            with corpus.open(encoding="utf-8", newline="") as fh:
                texts += [row["text"] for row in csv.DictReader(fh) if row.get("text")]
        except (OSError, KeyError) as exc:
            raise _fail(f"cannot read texts from {corpus}: {exc}") from None
    if not texts:
        texts = ["안녕하세요 내일 회의는 3시입니다"]
    if (account is None) != (send_secret is None):
        raise _fail("--account and --send-secret go together")
    try:
        result = asyncio.run(
            run_load(
                host,
                port,
                rate=rate,
                count=count,
                system_id=system_id,
                password=password,
                texts=texts,
                data_coding=codings[coding],
                window=window,
                connections=connections,
                sender=sender,
                recipient=recipient,
                account=account,
                send_secret=send_secret,
            )
        )
    except (OSError, TimeoutError, ValueError) as exc:
        raise _fail(f"load run failed: {exc}") from None
    statuses = {f"0x{k:08x}": v for k, v in sorted(result.statuses.items())}
    summary: dict[str, Any] = {
        "sent": result.sent,
        "answered": result.answered,
        "seconds": round(result.seconds, 3),
        "msg_per_s": round(result.rate, 1),
        "p50_ms": round(result.percentile(50), 3),
        "p90_ms": round(result.percentile(90), 3),
        "p99_ms": round(result.percentile(99), 3),
        "max_ms": round(max(result.latencies_ms, default=0.0), 3),
        "statuses": statuses,
        "errors": result.errors,
    }
    if as_json:
        typer.echo(json.dumps(summary))
        return
    out = Console()
    histogram = Table("submit_sm_resp latency", "count", "", title="latency histogram")
    top = max((n for _, n in result.histogram()), default=0) or 1
    for label, n in result.histogram():
        histogram.add_row(label, f"{n:,}", "█" * round(30 * n / top))
    out.print(histogram)
    table = Table("sent", "answered", "msg/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "statuses")
    table.add_row(
        f"{result.sent:,}",
        f"{result.answered:,}",
        f"{result.rate:,.0f}",
        f"{summary['p50_ms']:.2f}",
        f"{summary['p90_ms']:.2f}",
        f"{summary['p99_ms']:.2f}",
        f"{summary['max_ms']:.2f}",
        ", ".join(f"{k}: {v}" for k, v in statuses.items()),
    )
    out.print(table)
    for problem in result.errors:
        err.print(f"[yellow]warning:[/] {problem}", highlight=False)


# -- spamgate admin / audit: registry administration (issue 5) ---------------------------------

admin_app = typer.Typer(help="Registry administration.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (stored argon2-hashed).", no_args_is_help=True)
admin_app.add_typer(token_app, name="token")
app.add_typer(admin_app, name="admin")
audit_app = typer.Typer(help="The registry's hash-chained audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _open_registry(data_dir: Path) -> Any:
    from spamgate.registry.service import Registry

    try:
        return Registry.open(Settings(data_dir=data_dir))
    except (ConfigError, OSError) as exc:
        raise _fail(str(exc)) from None


@token_app.command("create")
def admin_token_create(
    role: Annotated[str, typer.Option(help="regulator | certifier | carrier | relay | reseller.")],
    operator: Annotated[
        int | None, typer.Option("--operator", help="Operator id (operator roles only).")
    ] = None,
    days: Annotated[int, typer.Option(help="Days until the token expires (1-3650).")] = 90,
    label: Annotated[str | None, typer.Option(help="A note to tell tokens apart.")] = None,
    data_dir: DataDir = Path("./var"),
) -> None:
    """Issue an API token and print it, alone on stdout. It is shown only this once."""
    from spamgate.errors import RegistryError
    from spamgate.registry.auth import Principal
    from spamgate.registry.models import Role

    _setup_logging()
    try:
        chosen = Role(role.strip().lower())
    except ValueError:
        raise _fail(f"unknown role {role!r}: {', '.join(r.value for r in Role)}") from None
    registry = _open_registry(data_dir)
    try:
        issued = registry.create_token(
            Principal(Role.REGULATOR, None, None, "cli"),
            role=chosen,
            operator_id=operator,
            expires_in_days=days,
            label=label,
        )
    except RegistryError as exc:
        raise _fail(str(exc)) from None
    finally:
        registry.close()
    typer.echo(issued.token)
    expiry = issued.record.expires_at
    err.print(
        f"token {issued.record.id} ({chosen.value}"
        + (f", operator {operator}" if operator is not None else "")
        + (f"), expires {expiry:%Y-%m-%d %H:%M} UTC" if expiry else ")")
        + "; it is not shown again.",
        highlight=False,
    )


@audit_app.command("verify")
def audit_verify(data_dir: DataDir = Path("./var")) -> None:
    """Walk the audit log's hash chain; exit 1 if any row was edited, removed or inserted."""
    _setup_logging()
    registry = _open_registry(data_dir)
    try:
        report = registry.verify_audit()
    finally:
        registry.close()
    if report.ok:
        typer.echo(f"audit log intact: {report.rows} rows, head {report.head}")
        return
    typer.echo(f"audit log TAMPERED: {len(report.problems)} problem(s) in {report.rows} rows")
    for problem in report.problems:
        typer.echo(f"  {problem}")
    raise typer.Exit(1)


def _print_demo(registry: Any, data_dir: Path) -> None:
    """Seed the demo chain (first start) and print how to use it."""
    from spamgate.registry.demo import DEMO_PASSWORD, DEMO_SENDER, DEMO_SYSTEM_ID, seed_demo

    seed = seed_demo(registry)
    what = "seeded" if seed.created else "found"
    err.print(
        f"demo registry {what} in {data_dir}: carrier {seed.carrier_id} ← relay {seed.relay_id} "
        f"← reseller {seed.reseller_id} (certified; SMPP {DEMO_SYSTEM_ID} / {DEMO_PASSWORD}), "
        f"account {seed.account_id} with sender {DEMO_SENDER}",
        highlight=False,
        soft_wrap=True,
    )
    err.print(
        f"demo account {seed.account_id} per-send secret: {seed.send_secret}",
        highlight=False,
        soft_wrap=True,
    )
    err.print(
        "the demo account is in the 'new' trust tier: beyond its rate ([smpp.rates]) messages are"
        " answered ESME_RTHROTTLED",
        highlight=False,
        markup=False,  # keep the [smpp.rates] brackets
        soft_wrap=True,
    )
    err.print(
        f"try SMPP load: spamgate sim esme --system-id {DEMO_SYSTEM_ID} --password {DEMO_PASSWORD}"
        f" --account {seed.account_id} --send-secret {seed.send_secret} --rate 10 --count 100",
        highlight=False,
        soft_wrap=True,
    )
    err.print(
        f"demo regulator token (7 days): {seed.regulator_token}", highlight=False, soft_wrap=True
    )
