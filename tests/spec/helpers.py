"""Building network.yaml texts for tests."""

from __future__ import annotations

MINIMAL = """\
apiVersion: ethnet/v1alpha1
kind: Network
metadata:
  name: acme
spec:
  environments:
    dev:
      chainId: 1337001
"""


def network_yaml(spec_body: str, *, name: str = "acme", header: str = "") -> str:
    """A network.yaml whose spec section is ``spec_body`` (indented two spaces already)."""
    return (
        f"{header}apiVersion: ethnet/v1alpha1\nkind: Network\nmetadata:\n  name: {name}\n"
        f"spec:\n{spec_body}"
    )
