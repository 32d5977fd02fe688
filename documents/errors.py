"""Why a document is refused: one family, `DocumentRejected`, under `LumaError`.

Every extractor raises only these (anything a parser library throws on bad
input is turned into one of them), so a bad file fails with a message written
for the person who uploaded it and never breaks the upload of another.

| error | status | when |
|---|---|---|
| `FileTooLarge` | 413 | the upload is over `LUMA_MAX_UPLOAD_BYTES` |
| `EmptyFile` | 400 | the upload has no bytes |
| `AlreadyUploadedByOther` | 409 | a viewer uploads a file someone else uploaded already |
| `UnsupportedType` | 415 | not a type Luma reads (judged by content), e.g. an old .doc |
| `CorruptFile` | 422 | a PDF, XLSX or DOCX that its parser cannot read (e.g. truncated) |
| `EncryptedFile` | 422 | a password-protected PDF or Office file |
| `NoExtractableText` | 422 | nothing to read, e.g. a scanned PDF (images only) |
| `ArchiveTooLarge` | 422 | an XLSX or DOCX that unpacks to an absurd size (zip bomb) |
| `DocumentTooLong` | 422 | more rows (`LUMA_DOCUMENT_MAX_ROWS`), columns or pages than Luma reads |
| `InvalidJson` | 422 | JSON that does not parse; the message says line and column |
| `InvalidCsv` | 422 | CSV that the csv module cannot parse; the message says the line |
| `UndecodableText` | 422 | bytes that are not text in any encoding; the message says where |
"""

from luma.errors import LumaError


class DocumentRejected(LumaError):
    status_code = 422


class FileTooLarge(DocumentRejected):
    status_code = 413


class EmptyFile(DocumentRejected):
    status_code = 400


class AlreadyUploadedByOther(DocumentRejected):
    status_code = 409


class UnsupportedType(DocumentRejected):
    status_code = 415


class CorruptFile(DocumentRejected):
    pass


class EncryptedFile(DocumentRejected):
    pass


class NoExtractableText(DocumentRejected):
    pass


class ArchiveTooLarge(DocumentRejected):
    pass


class DocumentTooLong(DocumentRejected):
    pass


class InvalidJson(DocumentRejected):
    pass


class InvalidCsv(DocumentRejected):
    pass


class UndecodableText(DocumentRejected):
    pass
