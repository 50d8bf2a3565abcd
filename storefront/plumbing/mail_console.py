"""The e-mail backend of a shop without a mail server (`EMAIL_URL` unset, as under `make run`):
Django's console backend, printing each message to the log's stream, but each attachment as
one line naming it (file name, type, size) instead of its base64 text (a receipt's PDF is some
600 lines of it)."""

from email.message import Message

from django.core.mail.backends.console import EmailBackend as ConsoleEmailBackend


def _attachment_line(part: Message) -> str:
    size = len(part.get_payload(decode=True) or b"")
    name = part.get_filename() or "(no file name)"
    return f"[attachment not printed: {name}, {part.get_content_type()}, {size:,} bytes]\n"


class EmailBackend(ConsoleEmailBackend):
    """Django's console backend, attachments named rather than printed."""

    def write_message(self, message) -> None:
        mime = message.message()
        for part in mime.walk():
            if part.is_multipart() or part.get_content_disposition() != "attachment":
                continue
            line = _attachment_line(part)
            del part["Content-Transfer-Encoding"]  # the line is printed as it is
            part.set_payload(line)
        self.stream.write(f"{mime.as_string()}\n")
        self.stream.write("-" * 79)
        self.stream.write("\n")
