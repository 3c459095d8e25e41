"""The direct source: every gateway replica's own `/metrics`, read at the moment of the check.

Prometheus sees a counter one scrape interval late at best; the controller's fast triggers
should not. This source GETs each replica's `/metrics` concurrently, parses the text format
(`tfprod.runtime.observe.exposition`) and reports each replica's counters separately
(`Observation.replicas`, keyed `host:port` like Prometheus' `instance` label), so a replica
that restarted resets only its own series and the controller rebases just those. Each replica
also reports the status generation it serves (`tfprod_gateway_status_generation`). A replica
that does not answer, answers other than 200, or writes what does not parse is a source error
naming it: never zeros, never silently left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from tfprod.policy import Policy
from tfprod.runtime.controller.observation import Observation, VersionCounters
from tfprod.runtime.observe.counters import served_generation, version_counters
from tfprod.runtime.observe.exposition import ExpositionError, Sample, parse_exposition
from tfprod.runtime.observe.http import HttpSource


@dataclass(frozen=True, kw_only=True)
class Scrape:
    """One replica's answer: its samples, or what went wrong."""

    replica: str
    samples: tuple[Sample, ...] = ()
    error: str = ""


class GatewayScrapeSource(HttpSource):
    """Reads `/metrics` of every gateway replica in `replicas` (base URLs)."""

    def __init__(self, *, replicas: Sequence[str], timeout_seconds: float = 2.0) -> None:
        if not replicas:
            raise ValueError(
                "replicas: give at least one gateway base URL, e.g. http://10.0.0.5:8080"
            )
        self.replicas = tuple(url.rstrip("/") for url in replicas)
        super().__init__(timeout_seconds=timeout_seconds)

    async def scrape(self) -> tuple[Scrape, ...]:
        """Every replica's samples (or error), read concurrently."""
        return tuple(await asyncio.gather(*(self._scrape(url) for url in self.replicas)))

    async def observe(self, policy: Policy) -> Observation:
        """The deployment's counters per replica and the generation each replica serves."""
        return observation(policy, await self.scrape())

    async def _scrape(self, url: str) -> Scrape:
        replica = replica_name(url)
        if self._session is None:
            raise RuntimeError("use GatewayScrapeSource in `async with`")
        try:
            async with self._session.get(f"{url}/metrics") as response:
                text = await response.text()
                if response.status != 200:
                    return Scrape(
                        replica=replica,
                        error=f"GET {url}/metrics answered {response.status}: {text[:200]!r}",
                    )
            return Scrape(replica=replica, samples=tuple(parse_exposition(text)))
        except TimeoutError:
            return Scrape(
                replica=replica,
                error=f"GET {url}/metrics timed out after {self.timeout_seconds:g} s",
            )
        except aiohttp.ClientError as error:
            return Scrape(replica=replica, error=f"GET {url}/metrics failed: {error}")
        except ExpositionError as error:
            return Scrape(replica=replica, error=f"{url}/metrics does not parse: {error}")


def replica_name(url: str) -> str:
    """`host:port` of a replica's base URL, as Prometheus names a scraped target's instance."""
    return urlsplit(url).netloc


def observation(policy: Policy, scrapes: Sequence[Scrape]) -> Observation:
    """The Observation of `policy`'s deployment from each replica's scrape."""
    versions = {version.id for version in policy.versions}
    replicas: dict[str, dict[str, VersionCounters]] = {}
    generations: dict[str, int] = {}
    errors: dict[str, str] = {}
    for scrape in scrapes:
        if scrape.error:
            errors[f"gateway {scrape.replica}"] = scrape.error
            continue
        counters = version_counters(scrape.samples, deployment=policy.name, versions=versions)
        if counters:
            replicas[scrape.replica] = counters
        generation = served_generation(scrape.samples, deployment=policy.name)
        if generation is not None:
            generations[scrape.replica] = generation
    return Observation(replicas=replicas, source_errors=errors, replica_generations=generations)
