"""The file-exchange connector plugin (entry point `clusterbridge.connectors: files`): for a platform that has
no API yet, natives come from an export file and mirrors go to an import file, in a folder."""

from __future__ import annotations

from clusterbridge.connectors.files.connector import FilesConnector, create
from clusterbridge.connectors.files.settings import FilesSettings

__all__ = ["FilesConnector", "FilesSettings", "create"]
