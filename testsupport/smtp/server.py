#!/usr/bin/env python3
"""Local SMTP server for Relais integration tests: it accepts every message and writes it to a
directory that tests read.

    python3 testsupport/smtp/server.py --port P --maildir DIR

- Listens on 127.0.0.1:P (P = 0: a free port chosen by the OS). No AUTH, no TLS; SMTPUTF8
  and 8BITMIME are offered.
- Each accepted message becomes DIR/<stamp>-<n>.eml (the raw message as received, after
  SMTP dot-unstuffing, CRLF line endings) and DIR/<stamp>-<n>.json, the envelope:
  {"mail_from": "...", "rcpt_tos": ["...", ...]} (UTF-8, non-ASCII kept as is).
  <stamp> is the UTC receive time, 20260131T093000.123456Z; <n> a 6-digit counter from
  000001, so names sort in arrival order.
- Both files are written under a temporary name (".tmp-<name>.eml.part", never matching
  *.eml or *.json) and renamed into place, the .json first: once a .eml is visible it is
  complete and its .json exists.
- The server answers 250 to DATA only after both files are in place, so a message is on
  disk when the sender's smtplib/lettre call returns.
- Prints one line on stdout when listening: {"ready":true,"port":P}; logs go to stderr.
- Exits with status 0 on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"
log = logging.getLogger("relais-test-smtp")


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class MaildirHandler:
    """aiosmtpd handler that stores each message as <name>.eml + <name>.json."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.count = 0

    def _next_name(self) -> str:
        self.count += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        return f"{stamp}-{self.count:06d}"

    def store(self, raw: bytes, mail_from: str | None, rcpt_tos: list[str]) -> str:
        name = self._next_name()
        envelope = {"mail_from": mail_from, "rcpt_tos": list(rcpt_tos)}
        sidecar = json.dumps(envelope, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        tmp_json = self.maildir / f".tmp-{name}.json.part"
        tmp_eml = self.maildir / f".tmp-{name}.eml.part"
        _fsync_write(tmp_json, sidecar)
        _fsync_write(tmp_eml, raw)
        os.replace(tmp_json, self.maildir / f"{name}.json")
        os.replace(tmp_eml, self.maildir / f"{name}.eml")
        try:  # make the renames durable too
            dir_fd = os.open(self.maildir, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:
            pass
        return name

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content
        if raw is None:  # not expected with decode_data=False, but keep the bytes we have
            raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode("utf-8")
        try:
            name = self.store(raw, envelope.mail_from, envelope.rcpt_tos)
        except OSError as err:
            log.error("could not store message: %s", err)
            return "451 4.3.0 Could not store the message"
        log.info("stored %s.eml from %s to %s (%d bytes)", name, envelope.mail_from, envelope.rcpt_tos, len(raw))
        return f"250 2.0.0 OK {name}"


async def serve(port: int, maildir: Path) -> int:
    handler = MaildirHandler(maildir)
    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        return SMTP(
            handler,
            hostname="relais-test-smtp.localhost",  # no DNS lookup of the machine's name
            ident="Relais test SMTP",
            decode_data=False,
            enable_SMTPUTF8=True,
            data_size_limit=50 * 1024 * 1024,
        )

    try:
        server = await loop.create_server(factory, host=HOST, port=port)
    except OSError as err:
        log.error("cannot listen on %s:%d: %s", HOST, port, err)
        return 1

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    actual_port = server.sockets[0].getsockname()[1]
    sys.stdout.write(json.dumps({"ready": True, "port": actual_port}, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    log.info("listening on %s:%d, writing to %s", HOST, actual_port, maildir)

    await stop.wait()
    log.info("signal received: shutting down")
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), timeout=2)
    except asyncio.TimeoutError:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local SMTP server that writes every message to a directory.")
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--maildir", type=Path, required=True, help="directory for <name>.eml and <name>.json (created if missing)")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be in 0..65535")

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="[smtp-test-server] %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)

    maildir: Path = args.maildir.resolve()
    maildir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(serve(args.port, maildir))


if __name__ == "__main__":
    sys.exit(main())
