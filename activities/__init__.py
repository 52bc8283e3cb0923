"""Temporal adapters: one module per domain (generation, dataset, analysis, evaluation, notify) of activities
on the main task queue, and :mod:`activities.heavy`, whose activities (made from the heavy-job registry) run
the heavy jobs on the heavy task queue. A worker registers :func:`activities_of` its adapter objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def activities_of(*adapters: object) -> list[Callable[..., Any]]:
    """The activities of adapter objects: their methods made with ``@activity.defn``, bound to them (what a
    worker registers, so no list of them is written by hand)."""
    found: list[Callable[..., Any]] = []
    for adapter in adapters:
        for name in dir(type(adapter)):
            # the attribute temporalio's activity.defn sets on the function it defines
            if hasattr(getattr(type(adapter), name), "__temporal_activity_definition"):
                found.append(getattr(adapter, name))
    return found
