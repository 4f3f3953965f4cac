"""Signals sent after a unit of work committed, for post-processing (achievements, analytics)."""

from __future__ import annotations

from typing import Any

from blinker import Namespace
from flask import current_app

signals = Namespace()

# Sent once per new completion, after its transaction committed; never for a replay.
# Receivers get (sender=app, result=CompletionResult).
completion_recorded = signals.signal("completion-recorded")


def emit(signal, **data: Any) -> None:
    """Call every receiver; one that fails is logged and never undoes what was committed."""
    app = current_app._get_current_object()
    for receiver in list(signal.receivers_for(app)):
        try:
            receiver(app, **data)
        except Exception:
            current_app.logger.exception("receiver of %s failed", signal.name)
