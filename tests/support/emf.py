"""Read the plug's metric lines back as CloudWatch would: each directive, dimension set and metric is a datapoint.

`datapoints(document)` applies the Embedded Metric Format's rules (every referenced member present at the root,
dimension values strings, metric values numbers or arrays of numbers) and fails the test on a line CloudWatch
would reject, so a test checks names, dimensions and values, not the JSON's layout.
"""

from __future__ import annotations

import json
import numbers
import time
from dataclasses import dataclass
from typing import Any

import pytest

from dispatcher.metrics import LOGGER_NAME


@dataclass(frozen=True)
class Datapoint:
    namespace: str
    name: str
    unit: str
    dimensions: tuple[tuple[str, str], ...]  # sorted (name, value) pairs; () for a dimension-free metric
    values: tuple[float, ...]


def metric_documents(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The EMF objects written so far, each parsed from its own line of text."""
    documents = []
    for record in caplog.records:
        if record.name == LOGGER_NAME:
            text = record.getMessage()
            assert "\n" not in text, "an EMF document must be one line"
            documents.append(json.loads(text))
    return documents


def datapoints(document: dict[str, Any]) -> list[Datapoint]:
    """What CloudWatch extracts from one EMF document; asserts the document follows the specification."""
    meta = document["_aws"]
    assert isinstance(meta["Timestamp"], int)
    assert abs(meta["Timestamp"] / 1000 - time.time()) < 7200, "CloudWatch drops points this far from now"
    points = []
    for directive in meta["CloudWatchMetrics"]:
        assert set(directive) <= {"Namespace", "Dimensions", "Metrics"}
        for dimension_set in directive["Dimensions"]:
            assert len(dimension_set) <= 30
            for key in dimension_set:
                assert isinstance(document.get(key), str) and document[key].strip(), f"dimension {key} has no value"
            dimensions = tuple(sorted((key, document[key]) for key in dimension_set))
            for metric in directive["Metrics"]:
                raw = document[metric["Name"]]
                values = tuple(raw) if isinstance(raw, list) else (raw,)
                assert values and all(isinstance(value, numbers.Real) for value in values), metric["Name"]
                points.append(Datapoint(directive["Namespace"], metric["Name"], metric.get("Unit", "None"),
                                        dimensions, tuple(float(value) for value in values)))
    return points


def by_name(document: dict[str, Any]) -> dict[str, dict[tuple[tuple[str, str], ...], Datapoint]]:
    """Datapoints indexed by metric name, then by dimensions."""
    index: dict[str, dict[tuple[tuple[str, str], ...], Datapoint]] = {}
    for point in datapoints(document):
        assert point.dimensions not in index.get(point.name, {}), f"{point.name} twice with the same dimensions"
        index.setdefault(point.name, {})[point.dimensions] = point
    return index
