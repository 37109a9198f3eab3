"""The network repository on disk: files, YAML emission, kustomize, key material."""
