"""Reading Prometheus counters in tests: what a scrape (or this process's registry) shows, and how
much each count moved between two readings."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families


def series_name(name: str, labels: dict[str, str]) -> str:
    """A sample as Prometheus prints it: `name{label="value",...}`, labels sorted."""
    if not labels:
        return name
    pairs = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{name}{{{pairs}}}"


def counter_values(families: Iterable[Metric]) -> dict[str, float]:
    """Every cyberquest_*_total sample, by series name."""
    return {
        series_name(sample.name, sample.labels): sample.value
        for family in families
        if family.name.startswith("cyberquest_")
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def scraped_counters(text: str) -> dict[str, float]:
    return counter_values(text_string_to_metric_families(text))


def moved(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """The series whose value changed, by how much."""
    return {
        name: after.get(name, 0.0) - before.get(name, 0.0)
        for name in before.keys() | after.keys()
        if after.get(name, 0.0) != before.get(name, 0.0)
    }
