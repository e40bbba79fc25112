from __future__ import annotations

from services.ordering import MAX_ERP_REFERENCE, erp_reference, idempotency_key


def test_keys_differ_by_run_version_and_container_and_stay_short() -> None:
    run_a, run_b = "01a2012d-fd6c-7b2d-9add-8933080a4b65", "01a2012d-fd6c-7b2d-9add-8933080a4b66"
    keys = {
        idempotency_key("reorder-cycle-12345", run, version, container)
        for run in (run_a, run_b)
        for version in (1, 2)
        for container in (1, 2)
    }
    assert len(keys) == 8
    longest = idempotency_key("reorder-cycle-9999999", run_a, 9999, 99) + ":r99"
    assert len(longest) <= MAX_ERP_REFERENCE
    assert idempotency_key("w", run_a, 1, 1) == idempotency_key("w", run_a, 1, 1)


def test_erp_reference_fits_the_erp_field() -> None:
    assert erp_reference("short-key") == "short-key"
    long_key = "x" * 100
    reference = erp_reference(long_key)
    assert len(reference) == MAX_ERP_REFERENCE
    assert reference != erp_reference("y" * 100)
    assert reference == erp_reference(long_key)
