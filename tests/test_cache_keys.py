"""The engine's precomputed cache keys are the keys ``cache_key`` gives (old caches stay valid)."""

from __future__ import annotations

from optimizer.evaluate.engine import CacheKeys, cache_key


def test_precomputed_keys_equal_cache_key() -> None:
    keys = CacheKeys("SmolLM2.gguf@sha256:0123")
    cases = [
        ("a", [{"role": "system", "content": "Ünïcode \"quoted\"\n"}, {"role": "user", "content": "logs"}],
         {"temperature": 0.0, "seed": 3, "stop": ["\n\n"], "response_format": {"type": "json_schema", "b": 1, "a": [1, 2]}}),
        ("b", [{"role": "user", "content": ""}], {}),
    ]
    for candidate_id, messages, params in cases * 2:  # second pass uses the memoised parameters
        assert keys.key(candidate_id, messages, params) == cache_key("SmolLM2.gguf@sha256:0123", messages, params)
    assert keys.key("a", cases[0][1], cases[0][2]) != keys.key("b", cases[1][1], cases[1][2])
