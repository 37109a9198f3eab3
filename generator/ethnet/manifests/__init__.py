"""Kubernetes objects for a network: pure builders from the spec and public key material."""
