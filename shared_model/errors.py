"""The LstmgenError tree: every error a user can cause, with a message written for them.

The core raises these; each adapter translates them once (CLI: one line on stderr and
exit status 2; magic: IPython UsageError; Discord: an ephemeral reply). Imports nothing
from the rest of the package.
"""

from __future__ import annotations


class LstmgenError(Exception):
    """Base class: ``str(err)`` is a one-line message a user can act on."""


class InvalidRequest(LstmgenError, ValueError):
    """A parameter, option or input file is not acceptable."""


class ModelNotFound(LstmgenError, LookupError):
    """No model of that name or path; the message lists what is available."""


class BrokenModelFile(LstmgenError):
    """A file that should be an lstmgen .onnx model cannot be read as one."""


class CorpusError(InvalidRequest):
    """A corpus file is missing, empty, undecodable or unusable for training."""


class CheckpointError(InvalidRequest):
    """A checkpoint is missing, corrupt, truncated or does not fit the request."""


class NotFound(LstmgenError, LookupError):
    """A stored record (generation, rating) does not exist."""


class StorageError(LstmgenError):
    """The database cannot be reached or used (bad URL, server down)."""


class Busy(LstmgenError):
    """The serving engine's queue is full; try again shortly."""


class FetchError(LstmgenError):
    """A download failed or its checksum did not match."""


class GenerationTimeout(LstmgenError, TimeoutError):
    """A generation request took longer than its time limit and was abandoned."""
