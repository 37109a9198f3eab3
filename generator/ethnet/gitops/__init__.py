"""The GitOps workflow: sync, diff, check, git, and the Argo CD and Flux objects."""
