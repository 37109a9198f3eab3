"""Sealed Secrets: the controller's hybrid encryption, certificates, SealedSecret objects."""
