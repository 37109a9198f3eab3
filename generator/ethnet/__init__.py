"""ethnet: GitOps repositories for private Ethereum networks on Kubernetes."""

__version__ = "0.1.0"
