"""Zip-based formats (XLSX, DOCX): refuse a zip bomb before unpacking anything."""

import zipfile
from typing import BinaryIO

from documents.errors import ArchiveTooLarge, CorruptFile

MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
# Office XML compresses well, but not a hundred times: only crafted files do.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_ABOVE_BYTES = 1024 * 1024


def archive_check(source: BinaryIO, *, what: str) -> None:
    """Refuse a zip whose members unpack to an absurd size or ratio, before unpacking any.
    The sizes come from the zip's directory; zipfile never unpacks more than they say.
    `what` names the file in the messages: "Excel file", "Word document"."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise CorruptFile(
            f"This {what} cannot be read: it is damaged or incomplete.", detail=str(error)
        ) from None
    finally:
        source.seek(0)
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ArchiveTooLarge(
            f"This {what} would unpack to {total / 1024**2:,.0f} MB; Luma unpacks at most "
            f"{MAX_UNCOMPRESSED_BYTES / 1024**2:,.0f} MB. It may be a zip bomb."
        )
    for member in members:
        ratio = member.file_size / max(1, member.compress_size)
        if member.file_size > RATIO_CHECKED_ABOVE_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise ArchiveTooLarge(
                f"This {what} is compressed {ratio:,.0f} times ({member.filename}), far more "
                "than real files are: it looks like a zip bomb and was not opened.",
            )
