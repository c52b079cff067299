"""components/quantities.py"""

from decimal import Decimal

import pytest

from components.quantities import parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [("500m", Decimal("0.5")), ("2", Decimal(2)), ("1.5", Decimal("1.5")), ("512Mi", Decimal(512 * 2**20)),
     ("1Gi", Decimal(2**30)), ("1G", Decimal(10**9)), ("100k", Decimal(100_000))],
)
def test_parses_kubernetes_quantities(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "lots", "256XB", "1.5.5", "-1", "1 Gi", "Mi"])
def test_rejects_what_kubernetes_would(text):
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)
