"""The upstream leg assembled for ``spamgate serve``: links, routes, id map, receipts, drainer.

``build_upstream`` reads ``[[smpp.upstreams]]`` and ``[smpp.routing]`` of the policy plus the
``--upstream [SYSTEM_ID@]HOST:PORT`` links of the settings (carrier ``default``, password from
``SPAMGATE_UPSTREAM_PASSWORD``), and returns ``None`` when there is no link at all: then the
gateway only spools (nothing is drained) and says so in a warning.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry

from spamgate.config import RoutingConfig, SmppConfig, UpstreamConfig
from spamgate.errors import ConfigError
from spamgate.smpp.drain import Drainer, DrainerConfig
from spamgate.smpp.idmap import IdMap
from spamgate.smpp.receipts import Deliverer, ReceiptRelay
from spamgate.smpp.routing import CarrierTable, Route, RouteTable
from spamgate.smpp.spool import SpoolForwarder
from spamgate.smpp.upstream import LinkSettings, UpstreamLink
from spamgate.smpp.upstream_metrics import UpstreamMetrics

__all__ = ["UpstreamService", "build_upstream", "carrier_table_path", "parse_upstream"]

log = logging.getLogger(__name__)
_ADDRESS = re.compile(
    r"^(?:(?P<sid>[^@:\s]{1,15})@)?(?P<host>[^:@\s]+|\[[0-9a-fA-F:]+\]):(?P<port>\d{1,5})$"
)


def carrier_table_path(data_dir: Path) -> Path:
    """Where ``spamgate numbers import-carriers`` writes the number-to-carrier snapshot."""
    return data_dir / "numbers" / "carriers.npz"


def parse_upstream(value: str, index: int, password: str = "") -> UpstreamConfig:
    """``[SYSTEM_ID@]HOST:PORT`` → an upstream on the default carrier; ``ConfigError`` if bad."""
    match = _ADDRESS.match(value.strip())
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise ConfigError(f"--upstream {value!r}: expected [SYSTEM_ID@]HOST:PORT")
    return UpstreamConfig(
        name=f"upstream{index}",
        host=match["host"].strip("[]"),
        port=int(match["port"]),
        system_id=match["sid"] or "spamgate",
        password=password,
    )


def _link_settings(config: UpstreamConfig, smpp: SmppConfig) -> LinkSettings:
    password = config.password
    if config.password_env:
        password = os.environ.get(config.password_env, "")
        if not password:
            log.warning("upstream %s: $%s is empty", config.name, config.password_env)
    return LinkSettings(
        name=config.name,
        host=config.host,
        port=config.port,
        system_id=config.system_id,
        password=password,
        system_type=config.system_type,
        carrier=config.carrier,
        weight=config.weight,
        window=config.window,
        enquire_link_interval=smpp.enquire_link_interval,
        response_timeout=smpp.response_timeout,
    )


@dataclass(slots=True)
class UpstreamService:
    links: dict[str, UpstreamLink]
    idmap: IdMap
    relay: ReceiptRelay
    drainer: Drainer

    async def start(self) -> None:
        await self.idmap.open()
        for link in self.links.values():
            link.on_deliver = self.relay.on_carrier_deliver
            link.start()
        await self.relay.start()
        await self.drainer.start()

    async def close(self) -> None:
        await self.drainer.close()
        for link in self.links.values():
            await link.close()
        await self.relay.close()
        await self.idmap.close()


def build_upstream(
    smpp: SmppConfig,
    extra: Sequence[str],
    *,
    data_dir: Path,
    spool: SpoolForwarder,
    deliverer: Deliverer,
    registry: CollectorRegistry | None = None,
    drainer_config: DrainerConfig | None = None,
) -> UpstreamService | None:
    """The upstream leg for this config, or None without any link (see the module docstring)."""
    configs = list(smpp.upstreams)
    password = os.environ.get("SPAMGATE_UPSTREAM_PASSWORD", "")
    configs += [parse_upstream(v, i + 1, password) for i, v in enumerate(extra)]
    if not configs:
        return None
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise ConfigError("[[smpp.upstreams]] names must be unique")
    routing: RoutingConfig = smpp.routing
    table_path = routing.carrier_table or carrier_table_path(data_dir)
    carriers: CarrierTable | None = None
    if table_path.exists():
        try:
            carriers = CarrierTable.load(table_path)
            log.info("routing: %d ported numbers from %s", len(carriers), table_path)
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"carrier table {table_path}: {exc}") from exc
    elif routing.carrier_table is not None:
        raise ConfigError(f"carrier table {table_path} does not exist")
    try:
        routes = RouteTable(
            [Route(c.name, c.carrier, c.weight) for c in configs],
            prefixes=routing.prefixes,
            default=routing.default,
            fallback=routing.fallback,
            carriers=carriers,
        )
    except ValueError as exc:
        raise ConfigError(f"[smpp.routing]: {exc}") from exc
    metrics = UpstreamMetrics(registry)
    links = {c.name: UpstreamLink(_link_settings(c, smpp), metrics=metrics) for c in configs}
    idmap = IdMap(data_dir / "spool" / "upstream.db", retention=routing.id_retention)
    relay = ReceiptRelay(idmap, deliverer, metrics=metrics, expiry=routing.receipt_expiry)
    base = drainer_config or DrainerConfig()
    drainer_cfg = DrainerConfig(
        concurrency=base.concurrency,
        retry_min=base.retry_min,
        retry_max=base.retry_max,
        max_age=routing.max_age,
        max_queued=base.max_queued,
        compact_min_size=base.compact_min_size,
        housekeeping_interval=base.housekeeping_interval,
        prune_interval=base.prune_interval,
    )
    drainer = Drainer(spool, links, routes, idmap, relay, config=drainer_cfg, metrics=metrics)
    return UpstreamService(links, idmap, relay, drainer)
