"""clusterbridge keeps ECCP and KICOX's Korean Cluster Information Platform showing each other's clusters."""

__version__ = "0.1.0"
