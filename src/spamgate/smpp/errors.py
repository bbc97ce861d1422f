"""Errors of the SMPP layer, in one tree.

    SmppError                 base of everything below (re-parented under SpamgateError later)
    ├── PduError              bytes from a peer (or fields given to a PDU constructor) break SMPP
    ├── EncodingError         text cannot be decoded/encoded in the message's data_coding
    ├── ReceiptError          a delivery-receipt text cannot be parsed
    └── SessionError          local misuse of a session (answering twice, sending while unbound)

``PduError`` and ``EncodingError`` carry ``command_status``: the SMPP status to answer with. A
``PduError`` also says whether the byte stream can still be read (``fatal``): when the frame
boundary is intact the caller answers with the request's ``*_resp`` (or ``generic_nack``) and goes
on reading; when framing is lost the caller must close the connection. Errors never carry a
message body: texts are personal data.
"""

from __future__ import annotations

__all__ = ["EncodingError", "PduError", "ReceiptError", "SessionError", "SmppError"]


class SmppError(Exception):
    """Base class of SMPP protocol errors."""


class PduError(SmppError):
    """A PDU is malformed or a PDU field is invalid.

    ``command_status`` is the status to answer with (a ``CommandStatus`` value);
    ``sequence_number`` and ``command_id`` are filled in when they could be read from the header,
    so the answer can echo them; ``fatal`` is True when the byte stream has lost its framing and the
    connection must be closed, False when only this PDU is bad and reading can continue.
    """

    def __init__(
        self,
        message: str,
        *,
        command_status: int,
        sequence_number: int | None = None,
        command_id: int | None = None,
        fatal: bool = False,
    ) -> None:
        super().__init__(message)
        self.reason = message
        self.command_status = command_status
        self.sequence_number = sequence_number
        self.command_id = command_id
        self.fatal = fatal

    def __str__(self) -> str:
        parts = [self.reason, f"status=0x{self.command_status:08X}"]
        if self.command_id is not None:
            parts.append(f"command_id=0x{self.command_id:08X}")
        if self.sequence_number is not None:
            parts.append(f"seq={self.sequence_number}")
        if self.fatal:
            parts.append("fatal")
        return " ".join(parts)


class EncodingError(SmppError):
    """Text cannot be decoded from / encoded to a data_coding; never a bare ``UnicodeError``.

    ``command_status`` is the status to answer with: ``ESME_RINVDCS`` for an unsupported
    data_coding or for bytes (or characters) that are not valid in it, ``ESME_RINVMSGLEN`` for a
    text too long to send even in 255 concatenated parts.
    """

    def __init__(self, message: str, *, command_status: int, data_coding: int) -> None:
        super().__init__(message)
        self.reason = message
        self.command_status = command_status
        self.data_coding = data_coding


class ReceiptError(SmppError):
    """A delivery-receipt text does not follow the de-facto ``id:… stat:…`` format."""


class SessionError(SmppError):
    """The caller misused a session: a bug on our side, never the peer's doing.

    Raised by ``SmscSession`` for e.g. answering a request twice, accepting a bind that was not
    requested, or sending a deliver_sm on a bind that cannot receive one or whose window is full.
    Whatever a peer sends never raises it.
    """
