"""State shared by the pages: one run store per session process (pages stay thin)."""

from __future__ import annotations

import streamlit as st

from optimizer.config.paths import default_store_path
from optimizer.evaluate.store import RunStore


@st.cache_resource
def _store_for(path: str) -> RunStore:
    return RunStore(path)


def get_store() -> RunStore:
    """The run store (``WORKBENCH_HOME`` decides where, so tests get their own)."""
    return _store_for(str(default_store_path()))
